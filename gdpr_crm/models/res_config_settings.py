# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.exceptions import ValidationError


class ResConfigSettings(models.TransientModel):
    _inherit = "res.config.settings"

    gdpr_dpo_partner_id = fields.Many2one(related="company_id.gdpr_dpo_partner_id", readonly=False)
    gdpr_default_consent_validity_months = fields.Integer(
        string="Default Consent Validity (months)",
        config_parameter="gdpr_crm.default_consent_validity_months",
        default=0,
        help="Validity given to new purposes; 0 means consents do not expire.",
    )

    @api.constrains("gdpr_default_consent_validity_months")
    def _check_gdpr_default_consent_validity_months(self):
        for settings in self:
            if settings.gdpr_default_consent_validity_months < 0:
                raise ValidationError(
                    self.env._("The default consent validity cannot be negative: use 0 for no expiry.")
                )

    # ---- consent ----
    gdpr_opt_in_validity_days = fields.Integer(
        string="Confirmation Link Validity (days)",
        config_parameter="gdpr_crm.opt_in_validity_days",
        default=7,
        help="How long the link of a double opt-in email stays valid.",
    )

    @api.constrains("gdpr_opt_in_validity_days")
    def _check_gdpr_opt_in_validity_days(self):
        for settings in self:
            if settings.gdpr_opt_in_validity_days < 1:
                raise ValidationError(
                    self.env._("The confirmation link must stay valid at least one day: enter 1 or more.")
                )

    # ---- requests ----
    gdpr_download_link_validity_days = fields.Integer(
        string="Download Link Validity (days)",
        config_parameter="gdpr_crm.download_link_validity_days",
        default=30,
        help="How long the link emailed to a requester to download their data keeps working.",
    )

    @api.constrains("gdpr_download_link_validity_days")
    def _check_gdpr_download_link_validity_days(self):
        for settings in self:
            if settings.gdpr_download_link_validity_days < 1:
                raise ValidationError(self.env._("A download link must stay valid for at least one day."))
