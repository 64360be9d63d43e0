# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The anonymizer: the ONE place of gdpr_crm that anonymizes records in place.

Retention policies (action ``anonymize``) and erasure requests both call
:meth:`GdprAnonymizer._gdpr_anonymize`. It is set-based and fast (one SQL
``UPDATE ... WHERE id = ANY(batch)`` per table, then the ORM cache is
invalidated): the ORM's ``write`` would fire tracking, the audit mixin and
the mention index per field, which is what anonymization must not leave
behind anyway.

What it does, for the records of one model:

1. the record's personal fields, per the rules of :meth:`_gdpr_anonymize_rules`
   (``placeholder``: a neutral text such as "Anonymized"; ``clear``: emptied;
   image fields: their attachments are deleted); the record keeps its id,
   its non-personal fields (stage, amounts, dates, salesperson) and gets
   ``gdpr_anonymized_date`` when the model has it;
2. the messages of the record's chatter (what the person and the salespeople
   wrote about them): body, subject, sender address, reply-to and record
   name emptied, authors who are not internal users unlinked, their
   tracking values (old and new values of personal fields) deleted, their
   copies in the outgoing mail queue deleted;
3. the activities of the record (their notes are about the person) deleted;
   the followers who are not internal users removed; the attachments of the
   record deleted (through the ORM, so the filestore is cleaned);
4. for contacts: the sender address of the messages they wrote elsewhere;
5. the mention index (``gdpr.mention``) rows of the records and messages.

Hooks, for other modules (the erasure engine extends this service):

- :meth:`_gdpr_anonymize_rules` (``model``): ``{field name: "placeholder" |
  "clear"}``; reads the personal-data registry
  (``gdpr.personal.data._gdpr_registry``) when it exists, else a default;
- :meth:`_gdpr_anonymizable` (``records``): the records that may be
  anonymized (contacts of a user account are not: the account keeps its
  login and is handled by the user's own deletion);
- :meth:`_gdpr_anonymize_related` (``records``): steps 2 to 5, override to
  scrub more (mentions in other records, a residue check).
"""

import json
import logging

from odoo import api, fields, models
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

# Default rules, used while the personal-data registry does not give them.
DEFAULT_RULES = {
    "res.partner": {
        "name": "placeholder",
        "complete_name": "placeholder",
        "email": "clear",
        "email_normalized": "clear",
        "phone": "clear",
        "mobile": "clear",
        "phone_sanitized": "clear",
        "street": "clear",
        "street2": "clear",
        "zip": "clear",
        "city": "clear",
        "website": "clear",
        "comment": "clear",
        "function": "clear",
        "vat": "clear",
        "ref": "clear",
        "title": "clear",
        "company_name": "clear",
        "commercial_company_name": "clear",
        "image_1920": "clear",
    },
    "crm.lead": {
        "name": "placeholder",
        "contact_name": "clear",
        "partner_name": "clear",
        "email_from": "clear",
        "email_normalized": "clear",
        "email_cc": "clear",
        "email_domain_criterion": "clear",
        "phone": "clear",
        "mobile": "clear",
        "phone_sanitized": "clear",
        "street": "clear",
        "street2": "clear",
        "zip": "clear",
        "city": "clear",
        "website": "clear",
        "description": "clear",
        "function": "clear",
        "referred": "clear",
        "title": "clear",
        "partner_id": "clear",
    },
}
# For any other model: the fields the personal-data engine discovers.
DISCOVERED_KINDS_CLEARED = ("email", "email_normalized", "phone", "partner_m2o")
RULES = ("placeholder", "clear")


class GdprAnonymizer(models.AbstractModel):
    _name = "gdpr.anonymizer"
    _description = "Anonymizer"

    # ------------------------------------------------------------------
    # Rules
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_anonymize_rules(self, model):
        """``{field name: "placeholder" | "clear"}`` for ``model`` (a model
        instance). From the personal-data registry when it is installed
        (its ``anonymize`` entry per field), else :data:`DEFAULT_RULES`, else
        the fields the personal-data engine discovers (emails, phones, links
        to contacts). Only stored fields of the model are returned."""
        PersonalData = self.env["gdpr.personal.data"]
        rules = {}
        registry = getattr(PersonalData, "_gdpr_registry", None)
        if registry is not None:
            rules = {
                fname: spec.get("anonymize")
                for fname, spec in (registry(model._name) or {}).items()
                if spec.get("anonymize") in RULES
            }
        if not rules:
            rules = dict(DEFAULT_RULES.get(model._name, {}))
        if not rules:
            discovered = PersonalData._gdpr_discover().get(model._name, {})
            for kind in DISCOVERED_KINDS_CLEARED:
                for fname in discovered.get(kind, ()):
                    rules[fname] = "clear"
        return {fname: rule for fname, rule in rules.items() if fname in model._fields and model._fields[fname].store}

    @api.model
    def _gdpr_placeholder(self, model):
        return self.env._("Anonymized")

    # ------------------------------------------------------------------
    # Anonymization
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_anonymizable(self, records):
        """The records of ``records`` that may be anonymized: every one, but
        the contacts of a user account (internal or portal)."""
        if records._name != "res.partner" or not records:
            return records
        self.env.cr.execute(SQL("SELECT DISTINCT partner_id FROM res_users WHERE partner_id = ANY(%s)", records.ids))
        with_user = {row[0] for row in self.env.cr.fetchall()}
        return records.browse([record_id for record_id in records.ids if record_id not in with_user])

    @api.model
    def _gdpr_anonymize(self, records):
        """Anonymize ``records`` in place (see the module docstring) and
        return the records anonymized. Set-based: a constant number of
        queries per call, whatever the number of records (call it with
        batches of about 1,000). Runs as superuser; the caller checks the
        user's right to do it. Nothing is logged here: the caller writes one
        audit entry for the batch or the run."""
        records = self._gdpr_anonymizable(records.sudo().exists())
        if not records:
            return records
        model = records.with_context(active_test=False)
        rules = self._gdpr_anonymize_rules(model)
        ids = records.ids
        assignments = []
        binary_fields = []
        placeholder = self._gdpr_placeholder(model)
        for fname, rule in sorted(rules.items()):
            field = model._fields[fname]
            if field.type == "binary":
                if field.attachment:
                    binary_fields.append(fname)
                else:
                    assignments.append(SQL("%s = NULL", SQL.identifier(fname)))
                continue
            if not field.column_type:
                continue
            if rule == "placeholder" or (field.required and field.type in ("char", "text", "html")):
                value = {"en_US": placeholder} if field.translate else placeholder
                if field.translate:
                    assignments.append(SQL("%s = %s::jsonb", SQL.identifier(fname), json.dumps(value)))
                else:
                    assignments.append(SQL("%s = %s", SQL.identifier(fname), value))
            elif not field.required:
                assignments.append(SQL("%s = NULL", SQL.identifier(fname)))
        now = fields.Datetime.now()
        if "gdpr_anonymized_date" in model._fields:
            assignments.append(SQL("gdpr_anonymized_date = %s", now))
        if model._log_access:
            assignments.append(SQL("write_date = %s, write_uid = %s", now, self.env.uid))
        if assignments:
            self.env.flush_all()
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET %s WHERE id = ANY(%s)",
                    SQL.identifier(model._table),
                    SQL(", ").join(assignments),
                    ids,
                )
            )
        if binary_fields:
            # the resized copies (image_1024... related to image_1920) go with it
            binary_fields += [
                fname
                for fname, field in model._fields.items()
                if field.type == "binary"
                and field.attachment
                and field.store
                and field.related
                and field.related in binary_fields
            ]
            self.env["ir.attachment"].sudo().search(
                [("res_model", "=", model._name), ("res_field", "in", binary_fields), ("res_id", "in", ids)]
            ).unlink()
        self._gdpr_anonymize_related(records)
        records.invalidate_recordset()
        return records

    @api.model
    def _gdpr_anonymize_related(self, records):
        """Steps 2 to 5 of the module docstring for ``records``: their
        chatter, activities, followers, attachments and mention index rows."""
        cr = self.env.cr
        model_name, ids = records._name, records.ids
        cr.execute(SQL("SELECT id FROM mail_message WHERE model = %s AND res_id = ANY(%s)", model_name, ids))
        message_ids = [row[0] for row in cr.fetchall()]
        if message_ids:
            cr.execute(SQL("DELETE FROM mail_tracking_value WHERE mail_message_id = ANY(%s)", message_ids))
            cr.execute(SQL("DELETE FROM mail_mail WHERE mail_message_id = ANY(%s)", message_ids))
            cr.execute(
                SQL(
                    """
                    UPDATE mail_message msg
                       SET body = '', subject = NULL, email_from = NULL, reply_to = NULL, record_name = NULL,
                           author_id = CASE WHEN EXISTS (SELECT 1 FROM res_users u
                                                          WHERE u.partner_id = msg.author_id AND u.share IS NOT TRUE)
                                            THEN msg.author_id END
                     WHERE id = ANY(%s)
                    """,
                    message_ids,
                )
            )
            self.env["gdpr.mention"].sudo()._gdpr_forget_records("mail.message", message_ids)
            self.env["mail.message"].invalidate_model()
        if model_name == "res.partner":
            # the sender address of what they wrote on other records
            cr.execute(SQL("UPDATE mail_message SET email_from = NULL WHERE author_id = ANY(%s)", ids))
        cr.execute(SQL("DELETE FROM mail_activity WHERE res_model = %s AND res_id = ANY(%s)", model_name, ids))
        cr.execute(
            SQL(
                """
                DELETE FROM mail_followers fol
                 WHERE fol.res_model = %s AND fol.res_id = ANY(%s)
                   AND NOT EXISTS (SELECT 1 FROM res_users u
                                    WHERE u.partner_id = fol.partner_id AND u.share IS NOT TRUE)
                """,
                model_name,
                ids,
            )
        )
        self.env["ir.attachment"].sudo().search([("res_model", "=", model_name), ("res_id", "in", ids)]).unlink()
        self.env["gdpr.mention"].sudo()._gdpr_forget_records(model_name, ids)
        self.env["mail.activity"].invalidate_model()
        self.env["mail.followers"].invalidate_model()
