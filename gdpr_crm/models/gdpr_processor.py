# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.tools import format_date

from .gdpr_processing_activity import TRANSFER_SAFEGUARDS

# How long before the next review date its reminder activity falls due.
REVIEW_REMINDER_DAYS = 30


class GdprProcessor(models.Model):
    """A processor (GDPR art. 28): a vendor that processes personal data on
    behalf of the company (CRM host, emailing service, call centre...), the
    data processing agreement signed with it, where it keeps the data and
    under which safeguard when that is outside the EEA."""

    _name = "gdpr.processor"
    _description = "Processor"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "name, id"

    partner_id = fields.Many2one(
        "res.partner", string="Processor", required=True, index=True, tracking=True, ondelete="restrict"
    )
    name = fields.Char(related="partner_id.name", store=True)
    services = fields.Text(
        translate=True, help="What the processor does with the data (hosting, emailing, payment, support...)."
    )
    dpa_signed = fields.Boolean(
        string="DPA Signed",
        tracking=True,
        help="A data processing agreement meeting GDPR art. 28(3) is signed with this processor.",
    )
    dpa_date = fields.Date(string="DPA Date", tracking=True)
    dpa_document = fields.Binary(string="DPA Document", attachment=True)
    dpa_document_name = fields.Char(string="DPA Document Name")
    location_country_ids = fields.Many2many(
        "res.country",
        "gdpr_processor_location_country_rel",
        "processor_id",
        "country_id",
        string="Data Locations",
        help="Countries where the processor stores the data or accesses it from (support, back-ups...).",
    )
    outside_eea_country_ids = fields.Many2many(
        "res.country", string="Countries Outside the EEA", compute="_compute_outside_eea_country_ids"
    )
    outside_eea = fields.Boolean(string="Outside the EEA", compute="_compute_outside_eea", store=True)
    transfer_safeguard = fields.Selection(
        TRANSFER_SAFEGUARDS,
        tracking=True,
        help="The mechanism that makes the transfer outside the EEA lawful (GDPR chapter V).",
    )
    transfer_safeguard_details = fields.Text(string="Safeguard Details")
    subprocessor_ids = fields.Many2many(
        "gdpr.processor",
        "gdpr_processor_subprocessor_rel",
        "processor_id",
        "subprocessor_id",
        string="Sub-processors",
        help="The processors this processor itself uses (art. 28(2) and (4)).",
    )
    processing_activity_ids = fields.Many2many(
        "gdpr.processing.activity",
        "gdpr_processing_activity_processor_rel",
        "processor_id",
        "activity_id",
        string="Processing Activities",
    )
    next_review_date = fields.Date(
        tracking=True,
        help="When to check the processor again (agreement, locations, security). A to-do is "
        "scheduled %d days before it." % REVIEW_REMINDER_DAYS,
    )
    notes = fields.Html()
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)

    _sql_constraints = [
        ("partner_company_uniq", "unique (partner_id, company_id)", "This partner is already a processor."),
    ]

    @api.depends("location_country_ids.gdpr_eea")
    def _compute_outside_eea_country_ids(self):
        for processor in self:
            processor.outside_eea_country_ids = processor.location_country_ids.filtered(lambda c: not c.gdpr_eea)

    @api.depends("location_country_ids.gdpr_eea")
    def _compute_outside_eea(self):
        for processor in self:
            processor.outside_eea = not all(processor.location_country_ids.mapped("gdpr_eea"))

    @api.model_create_multi
    def create(self, vals_list):
        # Check what is checkable before the INSERT, for a clear message.
        for vals in vals_list:
            self.new(vals)._gdpr_check_processor()
        processors = super().create(vals_list)
        processors._gdpr_schedule_review()
        return processors

    def write(self, vals):
        result = super().write(vals)
        if "next_review_date" in vals:
            self._gdpr_schedule_review()
        return result

    @api.constrains(
        "partner_id", "company_id", "location_country_ids", "transfer_safeguard", "subprocessor_ids", "dpa_date"
    )
    def _check_processor(self):
        for processor in self:
            processor._gdpr_check_processor()

    def _gdpr_check_processor(self):
        self.ensure_one()
        outside = self.location_country_ids.filtered(lambda c: not c.gdpr_eea)
        if outside and not self.transfer_safeguard:
            raise ValidationError(
                self.env._(
                    "The processor '%(name)s' keeps data outside the EEA (%(countries)s): choose the transfer "
                    "safeguard (adequacy decision, standard contractual clauses, binding corporate rules or a "
                    "derogation of art. 49), or remove those countries.",
                    name=self.partner_id.display_name or "",
                    countries=", ".join(outside.mapped("name")),
                )
            )
        if self.dpa_date and self.dpa_date > fields.Date.context_today(self):
            raise ValidationError(
                self.env._(
                    "The data processing agreement of '%(name)s' cannot be signed in the future: "
                    "enter the date it was signed.",
                    name=self.partner_id.display_name or "",
                )
            )
        if self.partner_id:
            company = self.company_id or self.env.company
            duplicate = (
                self.with_context(active_test=False)
                .sudo()
                .search(
                    [
                        ("partner_id", "=", self.partner_id.id),
                        ("company_id", "=", company.id),
                        ("id", "!=", self._origin.id or 0),
                    ],
                    limit=1,
                )
            )
            if duplicate:
                raise ValidationError(
                    self.env._(
                        "'%(name)s' is already in the register of processors: open it rather than adding it again.",
                        name=self.partner_id.display_name,
                    )
                )
        if self.id and isinstance(self.id, int) and self in self.subprocessor_ids:
            raise ValidationError(self.env._("A processor cannot be its own sub-processor."))

    def _gdpr_schedule_review(self):
        """Keep one review to-do per processor, due some days before its next
        review date (never in the past); none without a review date."""
        xmlid = "gdpr_crm.mail_activity_type_processor_review"
        today = fields.Date.context_today(self)
        activities = self.activity_search([xmlid])
        activities.filtered(lambda a: not self.browse(a.res_id).next_review_date).unlink()
        for processor in self.filtered("next_review_date"):
            values = {
                "date_deadline": max(processor.next_review_date - timedelta(days=REVIEW_REMINDER_DAYS), today),
                "summary": self.env._(
                    "Review the processor before %(date)s", date=format_date(self.env, processor.next_review_date)
                ),
            }
            activity = activities.filtered(lambda a, p=processor: a.res_id == p.id)
            if activity:
                activity.write(values)
            else:
                processor.activity_schedule(xmlid, user_id=self.env.uid, **values)
