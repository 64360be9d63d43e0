# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import re

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib.validation import CONSENT_VALIDITY_MONTHS, bounded_setting

LEGAL_BASES = [
    ("consent", "Consent"),
    ("contract", "Contract"),
    ("legal_obligation", "Legal obligation"),
    ("vital_interest", "Vital interest"),
    ("public_task", "Public task"),
    ("legitimate_interest", "Legitimate interest"),
]

CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


class GdprPurpose(models.Model):
    """A purpose of processing (GDPR art. 5(1)(b)) and its legal basis (art. 6).

    Every consent, retention rule and register entry hangs off a purpose, so
    that the data collected can always be justified by what it is used for.
    """

    _name = "gdpr.purpose"
    _description = "Processing Purpose"
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True,
        index=True,
        help="Technical identifier used by other modules and mail templates "
        "(lowercase letters, digits and underscores), unique per company.",
    )
    sequence = fields.Integer(default=10)
    description = fields.Text(
        translate=True,
        help="What the data is used for, in words the data subject understands. Shown on consent pages.",
    )
    legal_basis = fields.Selection(
        LEGAL_BASES,
        required=True,
        default="consent",
        help="The ground of GDPR art. 6 that makes the processing lawful. "
        "Only purposes based on consent can be given, refused or withdrawn "
        "by the data subject.",
    )
    consent_validity_months = fields.Integer(
        string="Consent Validity (months)",
        default=lambda self: self._default_consent_validity_months(),
        help="How long a consent given for this purpose stays valid before it "
        "must be asked again. 0 means it does not expire.",
    )
    processing_activity_id = fields.Many2one(
        "gdpr.processing.activity",
        string="Processing Activity",
        index="btree_not_null",
        ondelete="restrict",
        help="The entry of the register of processing activities (art. 30) this purpose belongs to.",
    )
    active = fields.Boolean(default=True)
    company_id = fields.Many2one(
        "res.company",
        index=True,
        help="Leave empty to share the purpose between all companies.",
    )

    _sql_constraints = [
        (
            "code_company_uniq",
            "unique (code, company_id)",
            "A purpose with this code already exists in this company.",
        ),
        (
            "consent_validity_months_positive",
            "CHECK (consent_validity_months >= 0)",
            "The consent validity cannot be negative.",
        ),
    ]

    @api.model
    def _default_consent_validity_months(self):
        value = self.env["ir.config_parameter"].sudo().get_param("gdpr_crm.default_consent_validity_months", "0")
        return bounded_setting("gdpr_crm.default_consent_validity_months", value, 0)

    @api.model
    def _normalize_code(self, code):
        return (code or "").strip().lower()

    @api.model_create_multi
    def create(self, vals_list):
        # Validate before the INSERT, so that the user reads a clear message
        # rather than the database's constraint error; create and write are
        # the only ways in, so no @api.constrains repeats these queries.
        new_codes = set()
        for vals in vals_list:
            vals["code"] = self._normalize_code(vals.get("code"))
            self._gdpr_validate(
                vals["code"],
                vals.get("company_id", False),
                vals.get("consent_validity_months", 0),
                vals.get("name") or "",
            )
            if vals["code"] in new_codes:
                raise ValidationError(
                    self.env._(
                        "The code '%(code)s' is given to two new purposes: choose another code.", code=vals["code"]
                    )
                )
            new_codes.add(vals["code"])
        return super().create(vals_list)

    def write(self, vals):
        if "code" in vals:
            vals["code"] = self._normalize_code(vals["code"])
        if {"code", "company_id", "consent_validity_months"} & set(vals):
            for purpose in self:
                purpose._gdpr_validate(
                    vals.get("code", purpose.code),
                    vals.get("company_id", purpose.company_id.id),
                    vals.get("consent_validity_months", purpose.consent_validity_months),
                    vals.get("name", purpose.name),
                    exclude_id=purpose.id,
                )
        return super().write(vals)

    @api.model
    def _gdpr_validate(self, code, company_id, validity_months, name, exclude_id=None):
        """Raise a ValidationError saying what is wrong with these values."""
        if not code:
            raise ValidationError(self.env._("A purpose needs a code, for example 'newsletter'."))
        if not CODE_PATTERN.match(code):
            raise ValidationError(
                self.env._(
                    "The code '%(code)s' of purpose '%(name)s' is not valid: "
                    "use lowercase letters, digits and underscores, starting "
                    "with a letter (for example 'marketing_email').",
                    code=code,
                    name=name,
                )
            )
        low, high = CONSENT_VALIDITY_MONTHS
        if not low <= (validity_months or 0) <= high:
            raise ValidationError(
                self.env._(
                    "The consent validity of purpose '%(name)s' must be between %(min)s and %(max)s "
                    "months (ten years): enter a number of months, or 0 for no expiry.",
                    name=name,
                    min=low,
                    max=high,
                )
            )
        # A shared purpose (no company) and a company's purpose must not use
        # the same code either, or lookups by code become ambiguous; the SQL
        # constraint does not see that case (NULLs are distinct).
        domain = [("code", "=", code)]
        if exclude_id:
            domain.append(("id", "!=", exclude_id))
        if company_id:
            domain.append(("company_id", "in", [False, company_id]))
        duplicate = self.with_context(active_test=False).sudo().search(domain, limit=1)
        if duplicate:
            raise ValidationError(
                self.env._(
                    "The code '%(code)s' is already used by the purpose '%(other)s'. Choose another code.",
                    code=code,
                    other=duplicate.name,
                )
            )

    @api.model
    def _gdpr_get_by_code(self, code, company=None):
        """Return the active purpose with ``code`` for ``company``.

        A company's own purpose wins over a shared one. Returns an empty
        recordset when there is none.
        """
        company = company or self.env.company
        purposes = self.search([("code", "=", self._normalize_code(code)), ("company_id", "in", [False, company.id])])
        return purposes.filtered("company_id")[:1] or purposes[:1]
