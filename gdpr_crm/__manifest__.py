# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
{
    "name": "GDPR CRM",
    "summary": "GDPR (RGPD) compliance by design for contacts and the CRM: "
    "purposes, consent, rights requests, retention, registers and audit trail",
    "version": "18.0.1.0.0",
    "category": "Productivity/Privacy",
    "website": "https://github.com/gdpr-crm/gdpr_crm",
    "author": "gdpr_crm contributors",
    "license": "LGPL-3",
    "application": True,
    "installable": True,
    "depends": [
        "crm",
        "mail",
        "portal",
        "phone_validation",
        "auth_password_policy",
    ],
    "data": [
        "security/gdpr_groups.xml",
        "security/ir.model.access.csv",
        "security/gdpr_rules.xml",
        "data/gdpr_purpose_data.xml",
        "views/menus.xml",
        "views/gdpr_purpose_views.xml",
        "views/gdpr_processing_activity_views.xml",
        "views/gdpr_audit_log_views.xml",
        "views/res_config_settings_views.xml",
        "data/ir_cron.xml",
        "data/gdpr_audit_data.xml",
        "views/res_users_views.xml",
        "wizards/gdpr_user_archive_views.xml",
    ],
    "demo": [
        "demo/gdpr_demo.xml",
    ],
}
