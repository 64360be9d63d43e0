# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import ValidationError

from ..models.gdpr_consent import SOURCES


class GdprConsentRecord(models.TransientModel):
    """Record the answer of a data subject, with its proof (GDPR art. 7(1))."""

    _name = "gdpr.consent.record"
    _description = "Record a Consent"

    consent_id = fields.Many2one("gdpr.consent", string="Consent", readonly=True)
    partner_id = fields.Many2one("res.partner", string="Contact")
    lead_id = fields.Many2one("crm.lead", string="Lead")
    email = fields.Char(help="For a lead without contact: the email of the data subject.")
    purpose_id = fields.Many2one(
        "gdpr.purpose",
        string="Purpose",
        required=True,
        domain="[('legal_basis', '=', 'consent')]",
    )
    purpose_description = fields.Text(related="purpose_id.description")
    answer = fields.Selection(
        [("give", "Gives consent"), ("refuse", "Refuses"), ("withdraw", "Withdraws consent")],
        required=True,
        default="give",
    )
    # a double opt-in is recorded by the confirmation link only, never by hand
    source = fields.Selection(
        [source for source in SOURCES if source[0] != "double_opt_in"], help="How the answer was collected."
    )
    proof = fields.Text(
        string="Proof Wording",
        help="The exact wording the person was shown or read (form text, call script...).",
    )
    proof_version = fields.Char(help="Version of that wording, e.g. 'Paper form v3, 2026-01'.")
    date = fields.Datetime(
        string="Answer Date", default=fields.Datetime.now, required=True, help="When the person answered."
    )

    def _gdpr_subject_consent(self):
        """The consent of this subject for this purpose, created pending if missing."""
        self.ensure_one()
        if self.consent_id:
            return self.consent_id
        Consent = self.env["gdpr.consent"]
        if not (self.partner_id or self.lead_id or self.email):
            raise ValidationError(self.env._("Choose the contact, the lead or the email the consent belongs to."))
        partner = self.partner_id or self.lead_id.partner_id
        vals = {"purpose_id": self.purpose_id.id, "lead_id": self.lead_id.id or False}
        if partner:
            domain = [("partner_id", "=", partner.id)]
            vals["partner_id"] = partner.id
        else:
            email = Consent._gdpr_normalize_email(self.email or self.lead_id.email_from)
            domain = [("partner_id", "=", False), ("email", "=", email)]
            vals["email"] = email
        Consent._gdpr_check_subject_access(partner, self.lead_id)
        consent = Consent.search([*domain, ("purpose_id", "=", self.purpose_id.id)], limit=1)
        if not consent and self.answer == "withdraw":
            raise ValidationError(self.env._("There is no consent to withdraw for this purpose: it was never given."))
        if not consent:
            Consent._gdpr_check_purpose_basis(self.purpose_id)
            if self.answer == "give":
                # validate before creating anything
                Consent._gdpr_check_proof(self.source, self.proof, self.proof_version)
            consent = Consent.create(vals)
        return consent

    def _gdpr_check_answer(self):
        """Say what is missing, and why, before anything is recorded."""
        if self.answer == "withdraw" and not self.source:
            raise ValidationError(
                self.env._(
                    "Say how the person withdrew their consent (phone, email, paper...): it is kept in the history."
                )
            )
        if self.answer != "give":
            return
        missing = [
            self._fields[fname]._description_string(self.env)
            for fname in ("source", "proof_version", "proof")
            if not (self[fname] or "").strip()
        ]
        if missing:
            raise ValidationError(
                self.env._(
                    "A consent must be provable (GDPR art. 7(1)): you must be able to show how the person "
                    "agreed and to which exact wording. Fill in: %(fields)s.",
                    fields=", ".join(missing),
                )
            )

    def action_record(self):
        self.ensure_one()
        self._gdpr_check_answer()
        consent = self._gdpr_subject_consent()
        if self.answer == "give":
            consent.action_give(source=self.source, proof=self.proof, proof_version=self.proof_version, date=self.date)
        elif self.answer == "refuse":
            consent.action_refuse(
                source=self.source, proof=self.proof, proof_version=self.proof_version, date=self.date
            )
        else:
            consent.action_withdraw(source=self.source)
        return {"type": "ir.actions.act_window_close"}
