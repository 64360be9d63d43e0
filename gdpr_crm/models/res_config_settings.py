# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError

from .gdpr_subject_mixin import INTERACTION_KINDS
from ..lib.validation import SETTINGS_BOUNDS


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    gdpr_dpo_partner_id = fields.Many2one(related="company_id.gdpr_dpo_partner_id", readonly=False)
    gdpr_default_consent_validity_months = fields.Integer(
        string="Default Consent Validity (months)",
        config_parameter="gdpr_crm.default_consent_validity_months",
        default=0,
        help="Validity given to new purposes; 0 means consents do not expire.",
    )

    # ---- consent ----
    gdpr_opt_in_validity_days = fields.Integer(
        string="Confirmation Link Validity (days)",
        config_parameter="gdpr_crm.opt_in_validity_days",
        default=7,
        help="How long the link of a double opt-in email stays valid.",
    )

    # ---- requests ----
    gdpr_download_link_validity_days = fields.Integer(
        string="Download Link Validity (days)",
        config_parameter="gdpr_crm.download_link_validity_days",
        default=30,
        help="How long the link emailed to a requester to download their data keeps working.",
    )

    gdpr_suppression_mode = fields.Selection(
        [("warn", "Warn"), ("block", "Block")],
        string="Suppression List",
        config_parameter="gdpr_crm.suppression_mode",
        default="warn",
        help="When a contact or a lead is created (by hand, import or web form) with the email or phone of a person "
        "who was erased or objected: warn (a banner on the record) or block the creation.",
    )

    # ---- audit ----
    gdpr_secret_in_database = fields.Boolean(
        string="Privacy Keys in the Database",
        compute="_compute_gdpr_secret_in_database",
        help="The configuration file has no gdpr_crm_secret: the keys derive from a secret kept in the database.",
    )
    gdpr_perimeter_enabled = fields.Boolean(
        string="Salespeople See Only Their Perimeter",
        config_parameter="gdpr_crm.perimeter_enabled",
        help="Users of 'Sales / User: Own Documents Only' see, search, count and export only the "
        "contacts and leads of their sales teams or assigned to them.",
    )
    gdpr_sensitive_group_ids = fields.Many2many(
        "res.groups",
        string="Groups Reading Sensitive Notes",
        compute="_compute_gdpr_sensitive_group_ids",
        inverse="_inverse_gdpr_sensitive_group_ids",
        help="When set, only these groups see the contact notes and the lead descriptions "
        "(free text that may hold sensitive data). Leave empty for no restriction.",
    )
    gdpr_inactive_user_days = fields.Integer(
        string="Inactive User Threshold (days)",
        config_parameter="gdpr_crm.inactive_user_days",
        default=90,
        help="The access review flags internal users who have not logged in for more than this many days.",
    )
    gdpr_audit_log_retention_days = fields.Integer(
        string="Audit Log Retention (days)",
        config_parameter="gdpr_crm.audit_log_retention_days",
        default=365,
        help="Entries older than this are purged by a monthly job (the purge is logged). "
        "At least 180 days; 0 keeps the log forever.",
    )
    # ---- retention: which interactions reset the clock ----
    gdpr_interaction_email = fields.Boolean(
        string="Incoming Emails and Replies",
        compute="_compute_gdpr_interaction_kinds",
        inverse="_inverse_gdpr_interaction_kinds",
    )
    gdpr_interaction_message = fields.Boolean(
        string="Messages They Write",
        compute="_compute_gdpr_interaction_kinds",
        inverse="_inverse_gdpr_interaction_kinds",
    )
    gdpr_interaction_login = fields.Boolean(
        string="Portal Logins",
        compute="_compute_gdpr_interaction_kinds",
        inverse="_inverse_gdpr_interaction_kinds",
    )
    gdpr_interaction_web_form = fields.Boolean(
        string="Web Forms and Leads They Submit",
        compute="_compute_gdpr_interaction_kinds",
        inverse="_inverse_gdpr_interaction_kinds",
    )
    gdpr_interaction_mailing_click = fields.Boolean(
        string="Clicks in Mailings",
        compute="_compute_gdpr_interaction_kinds",
        inverse="_inverse_gdpr_interaction_kinds",
    )
    gdpr_interaction_order = fields.Boolean(
        string="Orders and Invoices",
        compute="_compute_gdpr_interaction_kinds",
        inverse="_inverse_gdpr_interaction_kinds",
    )
    gdpr_totp_percent = fields.Float(string="Users With Two-Factor Authentication (%)", compute="_compute_gdpr_totp")
    gdpr_totp_available = fields.Boolean(string="Two-Factor Authentication Available", compute="_compute_gdpr_totp")

    def _compute_gdpr_sensitive_group_ids(self):
        group_ids = self.env["res.users"]._gdpr_sensitive_group_ids()
        groups = self.env["res.groups"].browse(group_ids).exists()
        for settings in self:
            settings.gdpr_sensitive_group_ids = groups

    def _inverse_gdpr_sensitive_group_ids(self):
        for settings in self:
            value = ",".join(str(group_id) for group_id in sorted(settings.gdpr_sensitive_group_ids.ids))
            self.env["ir.config_parameter"].sudo().set_param("gdpr_crm.sensitive_field_group_ids", value)

    def _compute_gdpr_interaction_kinds(self):
        kinds = self.env["gdpr.subject.mixin"]._gdpr_interaction_kinds()
        for settings in self:
            for kind in INTERACTION_KINDS:
                settings["gdpr_interaction_%s" % kind] = kind in kinds

    def _inverse_gdpr_interaction_kinds(self):
        for settings in self:
            value = ",".join(kind for kind in INTERACTION_KINDS if settings["gdpr_interaction_%s" % kind])
            self.env["ir.config_parameter"].sudo().set_param("gdpr_crm.interaction_kinds", value or ",")

    def _compute_gdpr_totp(self):
        share = self.env["res.users"]._gdpr_totp_share()
        for settings in self:
            settings.gdpr_totp_percent = share["percent"]
            settings.gdpr_totp_available = share["available"]

    # ---- validation of every numeric setting, in one place ----
    # (their bounds are in lib/validation.py: each becomes a date somewhere)
    @api.constrains(
        "gdpr_default_consent_validity_months",
        "gdpr_opt_in_validity_days",
        "gdpr_download_link_validity_days",
        "gdpr_inactive_user_days",
        "gdpr_audit_log_retention_days",
    )
    def _check_gdpr_numbers(self):
        _ = self.env._
        messages = {
            "gdpr_default_consent_validity_months": _(
                "The default consent validity must be between %(min)s and %(max)s months: use 0 for no expiry."
            ),
            "gdpr_opt_in_validity_days": _(
                "The confirmation link must stay valid between %(min)s and %(max)s days: enter a number in that range."
            ),
            "gdpr_download_link_validity_days": _(
                "A download link must stay valid between %(min)s and %(max)s days: enter a number in that range."
            ),
            "gdpr_inactive_user_days": _(
                "The inactive user threshold must be a positive number of days, for example 90, "
                "between %(min)s and %(max)s."
            ),
            "gdpr_audit_log_retention_days": _(
                "The audit log must be kept at least 180 days (the CNIL recommends six months to "
                "a year) and at most %(max)s days: enter a number in that range, or 0 to keep it forever."
            ),
        }
        for settings in self:
            for name, message in messages.items():
                low, high = SETTINGS_BOUNDS[self._fields[name].config_parameter]
                value = settings[name]
                if name == "gdpr_audit_log_retention_days" and 0 < value < 180:
                    low = 180
                if not low <= value <= high:
                    raise ValidationError(message % {"min": low, "max": high})

    def _compute_gdpr_secret_in_database(self):
        in_database = self.env["gdpr.keyring"]._gdpr_secret_in_database()
        for settings in self:
            settings.gdpr_secret_in_database = in_database
