# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The personal-data registry: which fields of which model hold personal data.

One declarative place, read by every feature of gdpr_crm (the engine that
finds a data subject, the mention index, the audit of personal-data changes,
the sensitive-notes restriction, the export, erasure, retention and the field
inventory):

- **declared** entries are ``gdpr.personal.field`` records, shipped in
  ``data/gdpr_personal_field_data.xml`` (noupdate: the DPO edits their
  purpose) and added by any module the same way (see the README);
- **discovered** entries complete them for every model installed, now or
  later, from ``ir.model.fields``: many2one/many2many fields to
  ``res.partner``, ``email_normalized``, and char/text fields named like an
  email (``email``, ``email_from``, ``x_email``…) or a phone (``phone``,
  ``mobile``, ``partner_phone``…).

A declared entry wins over a discovered one for the same field; an archived
declaration removes a discovered field from the registry.
"""

import re

from odoo import api, fields, models, tools
from odoo.exceptions import ValidationError

PARTNER = "res.partner"
KINDS = [
    ("identifier", "Identifier"),
    ("contact", "Contact Details"),
    ("free_text", "Free Text"),
    ("sensitive", "Sensitive Free Text"),
    ("image", "Image"),
]
ANONYMIZE = [
    ("clear", "Clear"),
    ("pseudonym", "Pseudonym"),
    ("mask", "Mask"),
    ("scrub", "Scrub"),
    ("keep", "Keep"),
]
MATCHES = [
    ("partner", "Link to the Contact"),
    ("email_normalized", "Normalized Email"),
    ("email", "Email Address"),
    ("phone", "Phone Number"),
    ("text", "Mention Index"),
]
# Char/text fields whose name says they hold an email or a phone number.
EMAIL_FIELD_RE = re.compile(r"^(?:\w+_)?(?:email|email_from|email_to|email_cc|email_bcc)$")
PHONE_FIELD_RE = re.compile(r"^(?:\w+_)?(?:phone|mobile|phone_sanitized)$")
# Fields whose match makes the record the subject's own (their lead, their
# message, their subscription); other matches only reference them.
OWNER_FIELDS = frozenset({"partner_id", "author_id", "email_normalized", "email", "email_from", "phone", "mobile"})
# Models never in the registry: the engine's own index and the audit trail,
# which hold no personal values, and the registry itself.
EXCLUDED_MODELS = frozenset({"gdpr.mention", "gdpr.audit.log", "gdpr.personal.field"})
TEXT_TYPES = ("char", "text", "html")


class GdprPersonalField(models.Model):
    """One declared entry of the personal-data registry.

    ``kind``: what the field holds — an *identifier* (name, login, VAT number,
    link to the contact), *contact* details (email, phone, address), *free
    text* (notes, message bodies: may quote anybody), *sensitive* free text
    (readable only by the groups chosen in Settings → Privacy: may hold health
    or other special-category data), an *image*.

    ``anonymize``: what erasure and retention do to the field — *clear* (empty
    it), *pseudonym* (replace it by a stable pseudonym, for required fields
    such as a name), *mask* (keep its shape, hide its content, such as
    ``j***@example.com``), *scrub* (remove the subject's identifiers from the
    text, keep the rest), *keep* (leave it: a link to the contact, which is
    itself anonymized, or a value that identifies nobody).

    ``match``: how the personal-data engine finds the subject through it —
    a link to their contact, their normalized email (equality), an email
    address inside the value, a phone number (last 9 digits), or the mention
    index (the emails and phones quoted in the text); empty: the field is
    personal data but not used to find the subject. ``owner``: a record found
    through the field belongs to the subject (their lead); otherwise it only
    references them (a recipient, someone else's document).
    """

    _name = "gdpr.personal.field"
    _description = "Personal Data Field"
    _order = "model, name"
    _rec_name = "field_id"

    field_id = fields.Many2one(
        "ir.model.fields",
        string="Field",
        required=True,
        ondelete="cascade",
        index=True,
        domain="[('store', '=', True)]",
    )
    model_id = fields.Many2one(related="field_id.model_id", string="Model", store=True)
    model = fields.Char(related="field_id.model", string="Model Name", store=True, index=True)
    name = fields.Char(related="field_id.name", string="Field Name", store=True)
    kind = fields.Selection(KINDS, required=True, default="contact")
    purpose_id = fields.Many2one(
        "gdpr.purpose",
        string="Purpose",
        ondelete="set null",
        help="The purpose this data is collected and kept for (art. 5(1)(b)).",
    )
    anonymize = fields.Selection(
        ANONYMIZE,
        string="Anonymization",
        required=True,
        default="clear",
        help="What erasure and retention do to this field: clear it, replace it by a pseudonym, "
        "mask it, scrub the subject's identifiers from the text, or keep it.",
    )
    match = fields.Selection(
        MATCHES,
        string="Finds the Subject By",
        help="How the personal-data engine finds a data subject through this field; "
        "empty: personal data that is not used to find anybody.",
    )
    owner = fields.Boolean(
        string="Belongs to the Subject",
        help="A record found through this field is the subject's own (their lead, their message); "
        "otherwise it only references them (a recipient, someone else's document).",
    )
    active = fields.Boolean(
        default=True, help="Archive the declaration to take a discovered field out of the personal-data registry."
    )
    note = fields.Text()

    _sql_constraints = [
        ("field_unique", "UNIQUE(field_id)", "A field is declared once in the personal-data registry."),
    ]

    @api.constrains("field_id", "match")
    def _check_match(self):
        for entry in self:
            field = entry.field_id
            if entry.match == "partner" and not (
                field.ttype in ("many2one", "many2many") and field.relation == PARTNER
            ):
                raise ValidationError(
                    self.env._("Only a link to contacts can find the subject by their contact (%(field)s).")
                    % {"field": field.display_name}
                )
            if entry.match and entry.match != "partner" and field.ttype not in TEXT_TYPES:
                raise ValidationError(
                    self.env._("Only a text field can find the subject by an email or a phone (%(field)s).")
                    % {"field": field.display_name}
                )

    @api.model_create_multi
    def create(self, vals_list):
        records = super().create(vals_list)
        self.env.registry.clear_cache()
        return records

    def write(self, vals):
        result = super().write(vals)
        self.env.registry.clear_cache()
        return result

    def unlink(self):
        result = super().unlink()
        self.env.registry.clear_cache()
        return result

    # ------------------------------------------------------------------
    # The registry (read through gdpr.personal.data._gdpr_registry)
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_model_has_table(self, model):
        return bool(model._auto and not model._abstract and not model._transient and not model._table_query)

    @api.model
    def _gdpr_discover_entries(self):
        """The discovered entries: ``{model: {field: entry tuple}}`` (see
        :meth:`_gdpr_registry_map`), from ``ir.model.fields``."""
        self.env.cr.execute(
            """
            SELECT model, name, ttype
              FROM ir_model_fields
             WHERE store
               AND (   (ttype IN ('many2one', 'many2many') AND relation = 'res.partner')
                    OR (ttype IN ('char', 'text')
                        AND (name LIKE '%%email%%' OR name LIKE '%%phone%%' OR name LIKE '%%mobile%%')))
            """
        )
        result = {}
        for model_name, fname, ttype in self.env.cr.fetchall():
            model = self.env.registry.get(model_name)
            if model_name in EXCLUDED_MODELS or model is None or not self._gdpr_model_has_table(model):
                continue
            field = model._fields.get(fname)
            if field is None or not field.store or field.company_dependent:
                continue
            if ttype in ("many2one", "many2many"):
                entry = ("identifier", False, "keep", "partner", ttype == "many2one" and fname in OWNER_FIELDS)
            elif getattr(field, "translate", False):
                continue
            elif fname == "email_normalized":
                entry = ("identifier", False, "clear", "email_normalized", True)
            elif EMAIL_FIELD_RE.match(fname):
                entry = ("contact", False, "clear", "email", fname in OWNER_FIELDS)
            elif PHONE_FIELD_RE.match(fname):
                entry = ("contact", False, "clear", "phone", fname in OWNER_FIELDS or fname == "phone_sanitized")
            else:
                continue
            result.setdefault(model_name, {})[fname] = entry
        return result

    @api.model
    @tools.ormcache()
    def _gdpr_registry_map(self):
        """The merged registry, cached until a declaration changes (or the
        registry of models is reloaded, when a module is installed).

        ``{model: {field: (kind, purpose id, anonymize, match, owner)}}``,
        shared by every caller: never change it, copy it
        (:meth:`gdpr.personal.data._gdpr_registry` does).
        """
        registry = self._gdpr_discover_entries()
        self.env["ir.model.fields"].flush_model()
        self.flush_model()
        self.env.cr.execute(
            """
            SELECT f.model, f.name, p.kind, p.purpose_id, p.anonymize, p.match, p.owner, p.active
              FROM gdpr_personal_field p
              JOIN ir_model_fields f ON f.id = p.field_id
            """
        )
        for model_name, fname, kind, purpose_id, anonymize, match, owner, active in self.env.cr.fetchall():
            model = self.env.registry.get(model_name)
            if model is None or fname not in model._fields:
                continue
            if not active:
                registry.get(model_name, {}).pop(fname, None)
                continue
            registry.setdefault(model_name, {})[fname] = (
                kind,
                purpose_id or False,
                anonymize,
                match or False,
                bool(owner),
            )
        return {model_name: entries for model_name, entries in registry.items() if entries}

    @api.model
    @tools.ormcache()
    def _gdpr_reference_map(self):
        """``{model: (many2one_reference field names)}``: the ``res_model`` /
        ``res_id`` pairs attaching messages, activities, attachments… to a
        record (not personal data themselves; the engine follows them)."""
        self.env.cr.execute("SELECT model, name FROM ir_model_fields WHERE store AND ttype = 'many2one_reference'")
        result = {}
        for model_name, fname in self.env.cr.fetchall():
            model = self.env.registry.get(model_name)
            if model is None or model_name in EXCLUDED_MODELS or not self._gdpr_model_has_table(model):
                continue
            field = model._fields.get(fname)
            if field is None or not field.store or not field.model_field or field.model_field not in model._fields:
                continue
            result.setdefault(model_name, []).append(fname)
        return {model_name: tuple(sorted(fnames)) for model_name, fnames in result.items()}
