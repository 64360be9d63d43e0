# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The export half of the personal-data engine: the answer to an access or
portability request (GDPR art. 15 and 20).

What :mod:`gdpr_personal_data` finds about a data subject, this file turns
into the files of the answer, holding only the subject's data (art. 15(4)):

- the provenance of each record (:meth:`_gdpr_find_provenance`): the
  subject's **own** records (their contact, their leads, consents, requests,
  the messages and files of those records), the records that **reference**
  them among others (a breach that affected them, a message they received)
  and those that only **mention** them (a message quoting their address);
- per-model export adapters (``_gdpr_export_adapt_<model>``, e.g.
  :meth:`_gdpr_export_adapt_mail_message`): own records with their personal
  fields, the others reduced to what concerns the subject; other people's
  names, emails and phone numbers are never written
  (:meth:`_gdpr_export_scrub`, ``lib/access_export.py``);
- the files: a JSON (complete, machine-readable, schema
  :data:`SCHEMA_VERSION`), a ZIP (one CSV per kind of record, and the
  subject's files), a self-contained HTML page and a PDF in the company's
  layout, both opening with the information of art. 15(1) drawn from the
  registers (:meth:`_gdpr_export_information`). The addon's own export files
  (the answers to earlier requests) are listed, never embedded again.

JSON schema (``"schema": "gdpr_crm.access_export"``, version 2)::

    {"schema", "schema_version", "generated" (UTC), "time_zone", "language",
     "record_count",
     "information": {art. 15(1) information, see _gdpr_export_information},
     "models": [{"model", "name", "group", "fields": {name: label},
                 "records": [{"id", "xml_id", "display_name",
                              "relation": "own" | "reference" | "mention",
                              "via": [how it was found],
                              "summary": a sentence or "",
                              "values": {field name: value}}]}],
     "previous_exports": [{"id", "name", "date"}]}

Values: relations are ``[id, display name]`` (or a list of them), dates ISO
strings in UTC, selections their key (the label is in the HTML and PDF).
"""

import base64
import csv
import io
import json
import mimetypes
import re
import zipfile
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, html2plaintext
from odoo.tools.image import image_data_uri, image_process
from odoo.tools.misc import format_date, format_datetime

from ..lib.access_export import excerpt, mask_text
from ..lib.personal_data import normalize_email, phone_key
from ..lib.spreadsheet import csv_safe
from .gdpr_personal_data import EXCLUDED_MODELS, KINDS, PARTNER

SCHEMA = "gdpr_crm.access_export"
SCHEMA_VERSION = "2.0"
# Fields never exported (secrets, not personal data of the subject).
EXPORT_EXCLUDED_FIELD_RE = re.compile(r"password|secret|token|signup_|api_key|totp", re.IGNORECASE)
# Fields left to the JSON: technical, derived, or bookkeeping of the database.
READABLE_EXCLUDED_FIELDS = frozenset(
    {
        "create_uid",
        "write_uid",
        "write_date",
        "display_name",
        "complete_name",
        "commercial_partner_id",
        "email_normalized",
        "phone_sanitized",
        "index_content",
        "store_fname",
        "checksum",
        "res_field",
        "db_datas",
        "color",
        "sequence",
        "company_id",
        "partner_share",
        "lang_id",
        "record_name",
        "email_domain_criterion",
        "message_bounce",
        "signature",
        "previous_signature",
        "subject_partner_id",
        "calendar_last_notif_ack",
    }
)
READABLE_EXCLUDED_FIELD_RE = re.compile(r"^(?:message_|activity_|website_message|x_studio_)|_count$|_hash$|_uid$")
# Texts longer than this are cut in the HTML and the PDF (the JSON keeps them whole).
READABLE_TEXT_LIMIT = 3000
# Images shown in the human-readable answer are downscaled to this box.
IMAGE_SIZE = (256, 256)
# Invisible characters of email preheaders, and runs of blank lines.
INVISIBLE_RE = re.compile(r"[\u034f\u200b\u200c\u200d\u00ad\ufeff]+[ \u034f\u200b\u200c\u200d\u00ad\ufeff]*")
BLANK_LINES_RE = re.compile(r"\n\s*\n[\s\n]*")
RELATION_RANK = {"own": 0, "reference": 1, "mention": 2, "name_mention": 3}
# Models whose records are the history of another record: plain sentences or the JSON.
TECHNICAL_MODELS = frozenset({"ir.model.data", "mail.tracking.value", "mail.followers", "mail.notification"})
GROUP_OF_MODEL = {
    "res.partner": "identity",
    "res.users": "identity",
    "gdpr.consent": "consents",
    "gdpr.consent.event": "consents",
    "gdpr.request": "requests",
    "crm.lead": "opportunities",
    "mail.message": "messages",
    "mail.notification": "followed",
    "mail.activity": "activities",
    "calendar.event": "activities",
    "calendar.attendee": "activities",
    "ir.attachment": "files",
    "gdpr.breach": "breaches",
    "mail.followers": "followed",
    "mail.tracking.value": "changes",
    "ir.model.data": "technical",
    "mail.mail": "technical",
}
GROUP_ORDER = (
    "identity",
    "consents",
    "requests",
    "opportunities",
    "messages",
    "activities",
    "files",
    "breaches",
    "followed",
    "changes",
    "other",
    "technical",
)


def _is_relation(value):
    """``[id, display name]``, as the export writes a related record."""
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)


class _ModelLabels(dict):
    """``{model name: its label}``, read from ``ir.model`` on first use (translated)."""

    def __init__(self, env):
        super().__init__()
        self.env = env

    def __missing__(self, model_name):
        label = self.env["ir.model"]._get(model_name).name or model_name
        self[model_name] = label
        return label

    def get(self, model_name, default=None):
        return self[model_name] if model_name else default


class GdprPersonalData(models.AbstractModel):
    _inherit = "gdpr.personal.data"

    # ------------------------------------------------------------------
    # Who the subject is, and where each record comes from
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_export_identifiers(self, partners=None, emails=(), phones=()):
        """What identifies the subject, as the engine reads it: ``{"partner_ids",
        "emails", "phone_keys", "names"}`` (contacts with their child contacts
        and the contacts sharing their address)."""
        cr = self.env.cr
        partner_ids = self._gdpr_partner_closure(set(partners.ids) if partners else set())
        emails = {e for e in (normalize_email(v) for v in emails or ()) if e}
        phone_keys = {k for k in (phone_key(v) for v in phones or ()) if k}
        names = set()
        if partner_ids:
            cr.execute(
                "SELECT email_normalized, phone, mobile FROM res_partner WHERE id = ANY(%s)", [list(partner_ids)]
            )
            for email, phone, mobile in cr.fetchall():
                emails.update(filter(None, [email]))
                phone_keys.update(filter(None, [phone_key(phone), phone_key(mobile)]))
        if emails:
            cr.execute("SELECT id FROM res_partner WHERE email_normalized = ANY(%s::varchar[])", [list(emails)])
            same = {row[0] for row in cr.fetchall()} - partner_ids
            if same:
                partner_ids |= self._gdpr_partner_closure(same)
        if partner_ids:
            cr.execute("SELECT name FROM res_partner WHERE id = ANY(%s)", [list(partner_ids)])
            names = {row[0] for row in cr.fetchall() if row[0]}
        return {"partner_ids": partner_ids, "emails": emails, "phone_keys": phone_keys, "names": names}

    @api.model
    def _gdpr_export_nameable_partners(self, partner_ids, ident):
        """The contacts among ``partner_ids`` an export may name: the subject's,
        companies, and the company's own staff (internal users). Everybody
        else is another person, never named (art. 15(4))."""
        partner_ids = set(partner_ids) - ident["partner_ids"]
        nameable = set(ident["partner_ids"])
        if partner_ids:
            self.env.cr.execute(
                """
                SELECT p.id FROM res_partner p
                 WHERE p.id = ANY(%s)
                   AND (p.is_company
                        OR EXISTS (SELECT 1 FROM res_users u WHERE u.partner_id = p.id AND u.share IS NOT TRUE)
                        OR EXISTS (SELECT 1 FROM res_company c WHERE c.partner_id = p.id))
                """,
                [list(partner_ids)],
            )
            nameable |= {row[0] for row in self.env.cr.fetchall()}
        return nameable

    # ------------------------------------------------------------------
    # Export: values
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_export_fields(self, model):
        """Refinement hook: the fields of ``model`` (a recordset) that an
        export holds, in order. Default: every stored field except binary
        ones and secrets (passwords, tokens, keys); a field of the
        personal-data registry is never taken for a secret."""
        personal = set(self._gdpr_registry(model._name).get(model._name, ()))
        return [
            fname
            for fname, field in model._fields.items()
            if field.store
            and field.type not in ("binary", "image")
            and fname != "id"
            and (fname in personal or not EXPORT_EXCLUDED_FIELD_RE.search(fname))
        ]

    @api.model
    def _gdpr_export_values(self, model, records):
        """Refinement hook: ``[{field name: JSON value}]`` of ``records``.

        Relations are ``[id, display name]`` (many2one) or a list of them
        (x2many); dates are ISO strings; selections give their key.
        """
        fnames = self._gdpr_export_fields(model)
        rows = records.read(fnames, load=None)
        # display names of every related record, one batch per comodel
        related = defaultdict(set)
        for fname in fnames:
            field = model._fields[fname]
            if field.type in ("many2one", "many2many", "one2many"):
                for row in rows:
                    value = row[fname]
                    related[field.comodel_name].update(value if isinstance(value, list) else [value] if value else [])
        names = {}
        for comodel, ids in related.items():
            for rec in self.env[comodel].browse(ids).exists():
                names[comodel, rec.id] = rec.display_name
        result = []
        for row in rows:
            values = {}
            for fname in fnames:
                field = model._fields[fname]
                value = row[fname]
                if field.type == "many2one":
                    value = [value, names.get((field.comodel_name, value), "")] if value else False
                elif field.type in ("many2many", "one2many"):
                    value = [[v, names.get((field.comodel_name, v), "")] for v in value]
                elif field.type == "datetime" and value:
                    value = fields.Datetime.to_string(value)
                elif field.type == "date" and value:
                    value = fields.Date.to_string(value)
                elif field.type in ("html", "text", "char") and value:
                    value = str(value)
                elif field.type == "json":
                    value = value or False
                values[fname] = value
            result.append(values)
        return result

    @api.model
    def _gdpr_export_scrub(self, model, rows, ident):
        """Remove other people from the ``rows`` of ``_gdpr_export_values``.

        Links to contacts who are neither the subject, a company nor the
        company's staff are dropped, and so are links to portal users who are
        not the subject; links to records of models holding personal data
        (followers, messages, meetings…) are kept only when the export holds
        them; emails and phone numbers that are not the subject's are hidden
        in every text.
        """
        provenance = ident.get("provenance") or {}
        personal_models = ident.get("personal_models") or ()
        partner_fields = [
            fname
            for fname in (rows[0] if rows else ())
            if fname in model._fields
            and model._fields[fname].type in ("many2one", "many2many", "one2many")
            and model._fields[fname].comodel_name in (PARTNER, "res.users")
        ]
        refs = defaultdict(set)
        for row in rows:
            for fname in partner_fields:
                value = row[fname]
                comodel = model._fields[fname].comodel_name
                if _is_relation(value):
                    refs[comodel].add(value[0])
                elif isinstance(value, list):
                    refs[comodel].update(v[0] for v in value)
        nameable = self._gdpr_export_nameable_partners(refs[PARTNER], ident)
        users_ok = set()
        if refs["res.users"]:
            users = self.env["res.users"].sudo().with_context(active_test=False).browse(refs["res.users"]).exists()
            users_ok = {u.id for u in users if not u.share or u.partner_id.id in ident["partner_ids"]}
        allowed = {PARTNER: nameable, "res.users": users_ok}
        for row in rows:
            for fname, value in row.items():
                field = model._fields.get(fname)
                if fname in partner_fields:
                    ok = allowed[field.comodel_name]
                    if field.type == "many2one":
                        row[fname] = value if isinstance(value, list) and value and value[0] in ok else False
                    elif isinstance(value, list):
                        row[fname] = [v for v in value if isinstance(v, list) and v and v[0] in ok]
                elif (
                    field is not None
                    and field.type in ("many2one", "many2many", "one2many")
                    and field.comodel_name in personal_models
                ):
                    exported = provenance.get(field.comodel_name, {})
                    if field.type == "many2one":
                        row[fname] = value if isinstance(value, list) and value and value[0] in exported else False
                    elif isinstance(value, list):
                        row[fname] = [v for v in value if isinstance(v, list) and v and v[0] in exported]
                elif isinstance(value, str) and field is not None and field.type in ("char", "text", "html"):
                    row[fname] = mask_text(value, ident["emails"], ident["phone_keys"])
        return rows

    @api.model
    def _gdpr_export_record(self, rec, values, entry, xml_ids=None, display_name=None, summary=""):
        return {
            "id": rec.id,
            "xml_id": ((xml_ids or {}).get(rec.id) or [False])[0],
            "display_name": rec.display_name if display_name is None else display_name,
            "relation": entry["relation"],
            "via": entry["via"],
            "summary": summary,
            "values": values,
        }

    @api.model
    def _gdpr_export_adapt(self, model, records, entries, ident, context):
        """Per-model export adapter: ``[record dict]`` (see the module docstring)
        of ``records``, whose provenance is ``entries`` (``{id: entry}``).

        A model gets its own adapter by defining
        ``_gdpr_export_adapt_<model_with_underscores>`` with this signature.
        Default: own records with their personal fields, scrubbed; records
        listing the subject with the fields that name them only; records
        quoting them with the passage that does.
        """
        method = getattr(self, "_gdpr_export_adapt_" + model._name.replace(".", "_"), None)
        if method is not None:
            return method(model, records, entries, ident, context)
        own = records.filtered(lambda r: entries[r.id]["relation"] == "own")
        result = {}
        if own:
            xml_ids = own._get_external_ids()
            rows = self._gdpr_export_scrub(model, self._gdpr_export_values(model, own), ident)
            for rec, values in zip(own, rows, strict=True):
                result[rec.id] = self._gdpr_export_record(rec, values, entries[rec.id], xml_ids)
        label = context["model_labels"].get(model._name, model._name)
        for rec in records - own:
            entry = entries[rec.id]
            if entry["relation"] == "reference":
                # ("partner_m2m:partner_ids", or a bare field name)
                fnames = [str(v).split(":", 1)[-1] for v in entry["via"]]
                fnames = [f for f in fnames if f in model._fields]
                values = self._gdpr_export_scrub(model, self._gdpr_export_values_of(model, rec, fnames), ident)[0]
                if "create_date" in model._fields:
                    values["create_date"] = fields.Datetime.to_string(rec.create_date) if rec.create_date else False
                summary = self.env._("You are listed in a record of the kind “%(kind)s”.", kind=label)
            else:
                values = {"excerpt": self._gdpr_export_excerpt(rec, ident, context)}
                summary = self.env._("A record of the kind “%(kind)s” mentions you.", kind=label)
            result[rec.id] = self._gdpr_export_record(rec, values, entry, display_name=label, summary=summary)
        return [result[rec.id] for rec in records if rec.id in result]

    @api.model
    def _gdpr_export_values_of(self, model, records, fnames):
        """``_gdpr_export_values`` restricted to ``fnames``."""
        rows = self._gdpr_export_values(model, records)
        return [{f: row[f] for f in fnames if f in row} for row in rows]

    @api.model
    def _gdpr_export_excerpt(self, rec, ident, context, names=()):
        """The passages of ``rec``'s text that quote the subject, other people hidden."""
        sources = context["mention_sources"].get(rec._name) or [
            f for f, field in rec._fields.items() if field.store and field.type in ("char", "text", "html")
        ]
        needles = [*ident["emails"], *ident["phone_keys"], *ident.get("names", ())]
        passages = []
        for fname in sources:
            value = rec[fname]
            if not value or not isinstance(value, str):
                continue
            text = html2plaintext(value) if rec._fields[fname].type == "html" else value
            text = mask_text(text, ident["emails"], ident["phone_keys"], names)
            found = excerpt(text, needles)
            if found:
                passages.append(found)
        return " … ".join(passages)

    # ---- per-model adapters ----
    @api.model
    def _gdpr_export_adapt_mail_message(self, model, records, entries, ident, context):
        """Messages the subject wrote, received, or that are about their own
        records: the message; messages of other people quoting them: the
        passage, without the other people's names."""
        own_docs = context["own_documents"]
        partner_ids = ident["partner_ids"]
        refs = set()
        for message in records:
            refs.update(message.partner_ids.ids)
            refs.update(message.author_id.ids)
        nameable = self._gdpr_export_nameable_partners(refs, ident)
        labels = context["model_labels"]
        types = dict(model._fields["message_type"]._description_selection(self.env))
        result = []
        for message in records:
            entry = entries[message.id]
            wrote = message.author_id.id in partner_ids or (
                normalize_email(message.email_from or "") in ident["emails"] and not message.author_id
            )
            received = bool(set(message.partner_ids.ids) & partner_ids)
            about = message.res_id in own_docs.get(message.model or "", ())
            kind = labels.get(message.model or "", message.model or "")
            if wrote or received or about:
                author = message.author_id
                values = {
                    "date": fields.Datetime.to_string(message.date),
                    "author_id": [author.id, author.name] if author and author.id in nameable else False,
                    "email_from": message.email_from if wrote else False,
                    "subject": mask_text(message.subject or "", ident["emails"], ident["phone_keys"]) or False,
                    "body": mask_text(str(message.body or ""), ident["emails"], ident["phone_keys"]),
                    "message_type": message.message_type,
                    "model": message.model or False,
                    "res_id": message.res_id or False,
                    "record_name": message.record_name if about else False,
                    "partner_ids": [[p.id, p.name] for p in message.partner_ids if p.id in nameable],
                    "attachment_ids": [[a.id, a.name] for a in message.attachment_ids],
                }
                if wrote:
                    summary = self.env._("A message you wrote (%(type)s).", type=types.get(message.message_type, ""))
                elif received:
                    summary = self.env._("A message you received (%(type)s).", type=types.get(message.message_type, ""))
                else:
                    summary = self.env._("A message or note about you, on your record “%(kind)s”.", kind=kind)
                entry = dict(entry, relation="own")
                name = message.subject or (message.record_name if about else "") or kind
            else:
                others = [p.name for p in (message.author_id | message.partner_ids) if p.id not in nameable]
                if message.record_name:
                    others.append(message.record_name)
                values = {
                    "date": fields.Datetime.to_string(message.date),
                    "model": message.model or False,
                    "excerpt": self._gdpr_export_excerpt(message, ident, context, names=others),
                }
                summary = self.env._(
                    "A message of someone else mentions you, on a record of the kind “%(kind)s”.", kind=kind
                )
                name = kind
            result.append(self._gdpr_export_record(message, values, entry, display_name=name, summary=summary))
        return result

    @api.model
    def _gdpr_export_adapt_gdpr_breach(self, model, records, entries, ident, context):
        """A breach: the fact of being affected, its dates, nature, the data
        concerned, its likely consequences and the measures taken (what art. 34
        tells the subject); never the other people affected nor the company's
        internal assessment."""
        fnames = [
            "name",
            "date_occurred",
            "date_detected",
            "nature",
            "data_category_ids",
            "consequences",
            "measures",
            "subjects_notified_at",
        ]
        rows = self._gdpr_export_scrub(model, self._gdpr_export_values_of(model, records, fnames), ident)
        return [
            self._gdpr_export_record(
                breach,
                values,
                dict(entries[breach.id], relation="reference"),
                summary=self.env._("Your data was affected by this personal data breach."),
            )
            for breach, values in zip(records, rows, strict=True)
        ]

    @api.model
    def _gdpr_export_adapt_mail_followers(self, model, records, entries, ident, context):
        labels = context["model_labels"]
        result = []
        for follower in records:
            kind = labels.get(follower.res_model, follower.res_model)
            own = follower.res_id in context["own_documents"].get(follower.res_model, ())
            values = {"res_model": follower.res_model, "res_id": follower.res_id}
            if own:
                summary = self.env._("You receive the updates of your record “%(kind)s”.", kind=kind)
            else:
                summary = self.env._(
                    "You receive the updates of a record of the kind “%(kind)s” (number %(id)s).",
                    kind=kind,
                    id=follower.res_id,
                )
            result.append(
                self._gdpr_export_record(follower, values, entries[follower.id], display_name=kind, summary=summary)
            )
        return result

    @api.model
    def _gdpr_export_adapt_mail_notification(self, model, records, entries, ident, context):
        types = dict(model._fields["notification_type"]._description_selection(self.env))
        states = dict(model._fields["notification_status"]._description_selection(self.env))
        result = []
        for notification in records:
            date = notification.mail_message_id.date
            values = {
                "mail_message_id": notification.mail_message_id.id,
                "notification_type": notification.notification_type,
                "notification_status": notification.notification_status,
                "is_read": notification.is_read,
                "failure_type": notification.failure_type or False,
                "date": fields.Datetime.to_string(date) if date else False,
            }
            summary = self.env._(
                "A message of %(date)s was sent to you (%(type)s: %(status)s).",
                date=self._gdpr_export_format_datetime(date, context),
                type=types.get(notification.notification_type, ""),
                status=states.get(notification.notification_status, ""),
            )
            result.append(
                self._gdpr_export_record(
                    notification,
                    values,
                    entries[notification.id],
                    display_name=types.get(notification.notification_type, ""),
                    summary=summary,
                )
            )
        return result

    @api.model
    def _gdpr_export_adapt_mail_tracking_value(self, model, records, entries, ident, context):
        """The history of the subject's records: "your email address was changed on …"."""
        result = []
        formatted = {info["id"]: info for info in records._tracking_value_format()}
        refs = set()
        for tracking in records:
            if tracking.field_id.relation == PARTNER:
                refs.update(filter(None, [tracking.old_value_integer, tracking.new_value_integer]))
        nameable = self._gdpr_export_nameable_partners(refs, ident)
        own_documents = context["own_documents"]
        for tracking in records:
            info = formatted.get(tracking.id)
            message = tracking.mail_message_id
            if not info or message.res_id not in own_documents.get(message.model or "", ()):
                continue  # the history of somebody else's record
            old, new = info["oldValue"]["value"], info["newValue"]["value"]
            if tracking.field_id.relation == PARTNER:
                old = old if tracking.old_value_integer in nameable else (old and "[…]")
                new = new if tracking.new_value_integer in nameable else (new and "[…]")
            old = mask_text(str(old), ident["emails"], ident["phone_keys"]) if old not in (False, None) else ""
            new = mask_text(str(new), ident["emails"], ident["phone_keys"]) if new not in (False, None) else ""
            date = tracking.mail_message_id.date
            values = {
                "field": info["changedField"],
                "old_value": old,
                "new_value": new,
                "date": fields.Datetime.to_string(date) if date else False,
            }
            summary = self.env._(
                "%(field)s changed on %(date)s: from “%(old)s” to “%(new)s”.",
                field=info["changedField"],
                date=self._gdpr_export_format_datetime(date, context),
                old=old,
                new=new,
            )
            result.append(
                self._gdpr_export_record(
                    tracking, values, entries[tracking.id], display_name=info["changedField"], summary=summary
                )
            )
        return result

    @api.model
    def _gdpr_export_adapt_ir_attachment(self, model, records, entries, ident, context):
        """The subject's files, embedded in the ZIP; the files of earlier
        answers (export files of the addon) are listed, never embedded again."""
        exports = context["previous_export_ids"]
        fnames = ["name", "description", "mimetype", "file_size", "res_model", "res_id", "type", "url", "create_date"]
        rows = self._gdpr_export_scrub(model, self._gdpr_export_values_of(model, records, fnames), ident)
        result = []
        for attachment, values in zip(records, rows, strict=True):
            previous = attachment.id in exports
            values["embedded"] = attachment.type == "binary" and not previous
            if previous:
                summary = self.env._("A file of an earlier answer to your requests (listed, not included again).")
            else:
                summary = ""
            result.append(
                self._gdpr_export_record(
                    attachment, values, entries[attachment.id], display_name=attachment.name, summary=summary
                )
            )
        return result

    # ------------------------------------------------------------------
    # Export: the data
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_export_normalize(self, found):
        """``found`` as provenance: a plain ``{model: [ids]}`` (from ``_gdpr_find``)
        counts as the subject's own records. Records found only by a name in
        a text (``name_mention``: possibly somebody else of the same name)
        are for the DPO to review, not exported."""
        result = {}
        for model_name, value in found.items():
            if isinstance(value, dict):
                entries = {
                    res_id: {"relation": entry["relation"], "via": sorted(entry.get("via") or (), key=str)}
                    for res_id, entry in value.items()
                    if entry["relation"] != "name_mention"
                }
            else:
                entries = {i: {"relation": "own", "via": []} for i in value}
            if entries:
                result[model_name] = entries
        return result

    @api.model
    def _gdpr_export_data(self, found, ident=None, tz=None):
        """Return the JSON-ready dict of an export (schema in the module docstring).

        :param found: provenance (:meth:`_gdpr_find_provenance`), or
            ``{model: [ids]}`` from ``_gdpr_find`` (all counted as own)
        :param ident: the subject's identifiers (:meth:`_gdpr_export_identifiers`);
            by default, the contacts found
        :param tz: the subject's time zone, for the sentences
        """
        env = self.sudo().env
        engine = self.sudo()
        provenance = self._gdpr_export_normalize(found)
        if ident is None:
            ident = engine._gdpr_export_identifiers(partners=env[PARTNER].browse(list(provenance.get(PARTNER, ()))))
        ir_models = _ModelLabels(env)
        ident = dict(
            ident, provenance=provenance, personal_models=set(engine._gdpr_discover()) - {PARTNER, "res.users"}
        )
        own_documents = defaultdict(set)
        for model_name, entries in provenance.items():
            own_documents[model_name] = {i for i, e in entries.items() if e["relation"] == "own"}
        previous = set()
        request_ids = sorted(own_documents.get("gdpr.request", ()))
        attachment_ids = sorted(provenance.get("ir.attachment", ()))
        if attachment_ids:
            # the files sent with any answer (the addon's own export files)
            env.cr.execute(
                "SELECT attachment_id FROM gdpr_request_attachment_rel WHERE attachment_id = ANY(%s)",
                [attachment_ids],
            )
            previous = {row[0] for row in env.cr.fetchall()}
        context = {
            "tz": tz or self.env.context.get("tz") or "UTC",
            "model_labels": ir_models,
            "own_documents": own_documents,
            "previous_export_ids": previous,
            "mention_sources": env["gdpr.mention"]._gdpr_mention_sources(),
            "request_ids": request_ids,
        }
        result = {
            "schema": SCHEMA,
            "schema_version": SCHEMA_VERSION,
            "generated": fields.Datetime.to_string(fields.Datetime.now()),
            "time_zone": context["tz"],
            "language": self.env.lang,
            "record_count": 0,
            "models": [],
            "previous_exports": [],
        }
        for model_name, entries in sorted(provenance.items()):
            model = env.get(model_name)
            if model is None or not entries:
                continue
            records = model.browse(list(entries)).exists()
            if not records:
                continue
            adapted = engine._gdpr_export_adapt(model, records, entries, ident, context)
            if not adapted:
                continue
            fnames = list(dict.fromkeys(f for rec in adapted for f in rec["values"]))
            labels = {}
            for fname in fnames:
                field = model._fields.get(fname)
                labels[fname] = field._description_string(env) if field else self._gdpr_export_extra_label(fname)
            result["models"].append(
                {
                    "model": model_name,
                    "name": ir_models.get(model_name, model_name),
                    "group": GROUP_OF_MODEL.get(model_name, "other"),
                    "fields": labels,
                    "records": adapted,
                }
            )
            result["record_count"] += len(adapted)
            if model_name == "ir.attachment":
                result["previous_exports"] = [
                    {"id": rec["id"], "name": rec["values"]["name"], "date": rec["values"].get("create_date")}
                    for rec in adapted
                    if rec["id"] in previous
                ]
        return result

    @api.model
    def _gdpr_export_extra_label(self, fname):
        return {
            "excerpt": self.env._("Mention in context"),
            "date": self.env._("Date"),
            "embedded": self.env._("Included in the archive"),
            "field": self.env._("Field"),
            "old_value": self.env._("Old value"),
            "new_value": self.env._("New value"),
        }.get(fname, fname)

    # ------------------------------------------------------------------
    # Export: the human-readable answer
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_export_format_datetime(self, value, context):
        if not value:
            return ""
        return format_datetime(self.env, value, tz=context["tz"], dt_format="short")

    @api.model
    def _gdpr_export_groups(self):
        return {
            "identity": self.env._("Identity and contact details"),
            "consents": self.env._("Consents and their history"),
            "requests": self.env._("Your requests"),
            "opportunities": self.env._("Sales opportunities"),
            "messages": self.env._("Messages and notes"),
            "activities": self.env._("Activities and meetings"),
            "files": self.env._("Files"),
            "breaches": self.env._("Personal data breaches that concerned you"),
            "followed": self.env._("Records you follow and notifications"),
            "changes": self.env._("Changes to your data"),
            "other": self.env._("Other records"),
            "technical": self.env._("Technical records"),
        }

    @api.model
    def _gdpr_export_display(self, field, value, context):
        """A value as a person reads it: labels, names, local dates, plain text."""
        if value in (False, None, "", []):
            return ""
        if field is None:
            if isinstance(value, bool):
                return self.env._("Yes") if value else self.env._("No")
            return str(value)
        ftype = field.type
        if ftype == "boolean":
            return self.env._("Yes") if value else self.env._("No")
        if ftype == "selection":
            return dict(field._description_selection(self.env)).get(value, value)
        if ftype == "datetime":
            return self._gdpr_export_format_datetime(fields.Datetime.to_datetime(value), context)
        if ftype == "date":
            return format_date(self.env, value)
        if ftype == "many2one":
            return value[1] if _is_relation(value) else ""
        if ftype in ("many2many", "one2many"):
            return ", ".join(str(v[1]) for v in value if _is_relation(v))
        if ftype == "html":
            value = INVISIBLE_RE.sub("", html2plaintext(value))
            value = BLANK_LINES_RE.sub("\n\n", value).strip()
        if ftype in ("json", "properties", "properties_definition"):
            return ""
        text = str(value)
        if len(text) > READABLE_TEXT_LIMIT:
            text = text[:READABLE_TEXT_LIMIT] + "…"
        return text

    @api.model
    def _gdpr_export_readable(self, data, tz):
        """The data of ``data`` grouped by what it is, with labels and translated values."""
        env = self.sudo().env
        context = {"tz": tz}
        group_labels = self._gdpr_export_groups()
        groups = defaultdict(list)
        for model_data in data["models"]:
            model_name = model_data["model"]
            group = model_data.get("group") or "other"
            if group == "technical":
                continue
            model = env.get(model_name)
            records = []
            for record in model_data["records"]:
                rows = []
                for fname, value in record["values"].items():
                    field = model._fields.get(fname) if model is not None else None
                    if fname in READABLE_EXCLUDED_FIELDS or READABLE_EXCLUDED_FIELD_RE.search(fname):
                        continue
                    if field is not None and field.type in ("one2many", "many2one_reference"):
                        continue
                    if fname in ("embedded", "res_id", "model", "res_model", "id"):
                        continue
                    if fname == "date" and field is None:
                        field = env["mail.message"]._fields["date"]
                    shown = self._gdpr_export_display(field, value, context)
                    if shown:
                        rows.append((model_data["fields"].get(fname, fname), shown))
                if model_name in TECHNICAL_MODELS:
                    rows = []
                records.append(
                    {"title": record["display_name"] or model_data["name"], "summary": record["summary"], "rows": rows}
                )
            groups[group].append({"name": model_data["name"], "model": model_name, "records": records})
        return [
            {"key": key, "title": group_labels[key], "kinds": groups[key]} for key in GROUP_ORDER if groups.get(key)
        ]

    @api.model
    def _gdpr_export_information(self, company, data):
        """The information of GDPR art. 15(1), drawn from the registers of ``company``.

        ``{"purposes": [{"name", "description", "legal_basis", "purposes":
        [{"name", "legal_basis"}]}], "consents": [...], "data_categories": [...],
        "recipients": [...], "processors": [...], "transfers": [...],
        "retention": [...], "sources": [...], "automated_decisions": bool,
        "controller": {...}, "dpo": {...}, "request_url"}``, translated.
        """
        env = self.sudo().env
        activities = env["gdpr.processing.activity"].search(
            [("company_id", "in", [company.id, False]), ("active", "=", True)]
        )
        Activity = env["gdpr.processing.activity"]
        Purpose = env["gdpr.purpose"]
        Processor = env["gdpr.processor"]
        bases = dict(Purpose._fields["legal_basis"]._description_selection(env))
        activity_bases = dict(Activity._fields["legal_basis"]._description_selection(env))
        safeguards = dict(Activity._fields["transfer_safeguard"]._description_selection(env))
        processor_safeguards = dict(Processor._fields["transfer_safeguard"]._description_selection(env))
        purposes = []
        for activity in activities:
            purposes.append(
                {
                    "name": activity.name,
                    "description": activity.description or "",
                    "legal_basis": activity_bases.get(activity.legal_basis, "") if activity.legal_basis else "",
                    "purposes": [
                        {"name": p.name, "legal_basis": bases.get(p.legal_basis, "")}
                        for p in activity.purpose_ids.filtered("active")
                    ],
                }
            )
        consent_states = dict(env["gdpr.consent"]._fields["state"]._description_selection(env))
        consent_sources = dict(env["gdpr.consent"]._fields["source"]._description_selection(env))
        consents, sources = [], set()
        for model_data in data["models"]:
            if model_data["model"] != "gdpr.consent":
                continue
            for record in model_data["records"]:
                values = record["values"]
                purpose = values.get("purpose_id")
                consents.append(
                    {
                        "purpose": purpose[1] if _is_relation(purpose) else "",
                        "state": consent_states.get(values.get("state"), ""),
                    }
                )
                if values.get("source"):
                    sources.add(consent_sources.get(values["source"], values["source"]))
        processors = activities.processor_ids.filtered("active")
        transfers = []
        for activity in activities.filtered("transfer_outside_eea"):
            transfers.append(
                {
                    "name": activity.name,
                    "countries": ", ".join(activity.outside_eea_country_ids.mapped("name")),
                    "safeguard": safeguards.get(activity.transfer_safeguard, "") if activity.transfer_safeguard else "",
                    "details": activity.transfer_safeguard_details or "",
                }
            )
        for processor in processors.filtered("outside_eea"):
            transfers.append(
                {
                    "name": processor.name,
                    "countries": ", ".join(processor.outside_eea_country_ids.mapped("name")),
                    "safeguard": processor_safeguards.get(processor.transfer_safeguard, "")
                    if processor.transfer_safeguard
                    else "",
                    "details": processor.transfer_safeguard_details or "",
                }
            )
        dpo = company.gdpr_dpo_partner_id
        address = ", ".join(
            filter(None, [company.street, company.street2, company.zip, company.city, company.country_id.name])
        )
        return {
            "purposes": purposes,
            "consents": consents,
            "data_categories": sorted(set(activities.data_category_ids.mapped("name"))),
            "special_categories": bool(activities.filtered("special_category")),
            "recipients": [{"name": a.name, "recipients": a.recipients} for a in activities if a.recipients],
            "processors": [{"name": p.name, "services": p.services or ""} for p in processors],
            "transfers": transfers,
            "retention": [{"name": a.name, "retention": a.retention_period} for a in activities if a.retention_period],
            "sources": sorted(sources),
            "data_sources": [{"name": a.name, "sources": a.data_sources} for a in activities if a.data_sources],
            "automated_decisions": bool(activities.filtered("dpia_automated_decision")),
            "controller": {
                "name": company.name,
                "address": address,
                "email": company.email or "",
                "phone": company.phone or "",
            },
            "dpo": {"name": dpo.name or "", "email": dpo.email or company.email or ""},
            "request_url": f"{company.get_base_url()}/gdpr/request",
        }

    @api.model
    def _gdpr_export_document(self, data, name, company=None, subject_name="", tz=None):
        """The values of the human-readable answer (HTML page and PDF)."""
        company = company or self.env.company
        tz = tz or data.get("time_zone") or "UTC"
        logo = False
        if company.logo:
            # downscaled: the PDF of a typical subject stays small
            logo = image_data_uri(base64.b64encode(image_process(base64.b64decode(company.logo), size=IMAGE_SIZE)))
        return {
            "title": name,
            "subject_name": subject_name,
            "generated": self._gdpr_export_format_datetime(fields.Datetime.now(), {"tz": tz}),
            "tz": tz,
            "company": company.sudo(),
            "logo": logo,
            "information": data.get("information") or self._gdpr_export_information(company, data),
            "groups": self._gdpr_export_readable(data, tz),
            "record_count": data["record_count"],
            "previous_exports": data.get("previous_exports", []),
        }

    @api.model
    def _gdpr_export_html(self, document):
        """The answer as one self-contained HTML page (no external resource)."""
        html = self.env["ir.qweb"].sudo()._render("gdpr_crm.personal_data_document", {"gdpr_doc": document})
        return ("<!DOCTYPE html>\n" + str(html)).encode()

    # ------------------------------------------------------------------
    # Export: the files
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_export_csv(self, model_data):
        """One CSV (UTF-8 with BOM, for spreadsheets) of a model of the export."""
        out = io.StringIO()
        writer = csv.writer(out)
        fnames = list(model_data["fields"])
        writer.writerow(["id", "xml_id", *fnames])
        writer.writerow(["ID", "External ID", *(model_data["fields"][f] for f in fnames)])
        for record in model_data["records"]:
            row = [record["id"], record["xml_id"] or ""]
            for fname in fnames:
                value = record["values"].get(fname, False)
                if _is_relation(value):  # many2one: its name
                    value = value[1]
                elif isinstance(value, list) and all(_is_relation(v) for v in value):  # x2many: names
                    value = "; ".join(str(v[1]) for v in value)
                elif value is False or value is None:
                    value = ""
                elif isinstance(value, list | dict):
                    value = json.dumps(value, ensure_ascii=False, default=str)
                row.append(csv_safe(value))
            writer.writerow(row)
        return ("\ufeff" + out.getvalue()).encode()

    @api.model
    def _gdpr_export_zip(self, data, found=None):
        """The zip: ``<model>.csv`` per model, and ``attachments/<id>-<name>``
        (with the extension of its type); earlier answers are not included."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            embedded = []
            for model_data in data["models"]:
                archive.writestr(f"{model_data['model']}.csv", self._gdpr_export_csv(model_data))
                if model_data["model"] == "ir.attachment":
                    embedded = [r["id"] for r in model_data["records"] if r["values"].get("embedded")]
            attachments = self.env["ir.attachment"].sudo().browse(embedded).exists()
            for attachment in attachments:
                name = re.sub(r"[^\w.-]+", "_", attachment.name or "file")
                if "." not in name.lstrip("."):
                    name += mimetypes.guess_extension(attachment.mimetype or "") or ".bin"
                archive.writestr(f"attachments/{attachment.id}-{name}", attachment.raw or b"")
        return buffer.getvalue()

    @api.model
    def _gdpr_export_pdf(self, data, name, document=None):
        """The human-readable PDF (QWeb report ``gdpr_crm.action_report_personal_data``)."""
        report = self.env.ref("gdpr_crm.action_report_personal_data").sudo()
        document = document or self._gdpr_export_document(data, name)
        # (in test mode, unless force_report_rendering is in the context,
        # Odoo renders the HTML of the report instead of calling wkhtmltopdf)
        content, _report_type = (
            self.env["ir.actions.report"]
            .sudo()
            .with_context(gdpr_report_print_delay=0)
            ._render_qweb_pdf(report, res_ids=[], data={"gdpr_doc": document, "company_id": document["company"].id})
        )
        return content

    @api.model
    def _gdpr_export_attachments(self, found, name, res_model=None, res_id=None, subject=None):
        """Build the export files of ``found`` and return them as
        ``ir.attachment`` records (``<name>.json``, ``<name>.zip``,
        ``<name>.html``, ``<name>.pdf``), attached to ``res_model``/``res_id``
        when given. The export is written to the audit log (counts per model,
        no values).

        :param found: provenance, or ``{model: [ids]}`` (see ``_gdpr_export_data``)
        :param subject: ``{"identifiers", "name", "tz", "company"}``, all optional
        """
        subject = subject or {}
        company = subject.get("company") or self.env.company
        tz = subject.get("tz") or self.env.context.get("tz") or "UTC"
        data = self._gdpr_export_data(found, ident=subject.get("identifiers"), tz=tz)
        data["information"] = self._gdpr_export_information(company, data)
        document = self._gdpr_export_document(
            data, name, company=company, subject_name=subject.get("name") or "", tz=tz
        )
        files = [
            (f"{name}.json", json.dumps(data, indent=1, ensure_ascii=False, default=str).encode(), "application/json"),
            (f"{name}.zip", self._gdpr_export_zip(data), "application/zip"),
            (f"{name}.html", self._gdpr_export_html(document), "text/html"),
            (f"{name}.pdf", self._gdpr_export_pdf(data, name, document=document), "application/pdf"),
        ]
        # (as superuser: the HTML page keeps its type; the creator stays the user)
        attachments = (
            self.env["ir.attachment"]
            .sudo()
            .create(
                [
                    {
                        "name": filename,
                        "raw": content,
                        "mimetype": mimetype,
                        "res_model": res_model or False,
                        "res_id": res_id or False,
                    }
                    for filename, content, mimetype in files
                ]
            )
        )
        counts = ", ".join(f"{m['model']}: {len(m['records'])}" for m in data["models"])
        self.env["gdpr.audit.log"]._gdpr_log(
            "dsar_export",
            model=res_model,
            res_id=res_id,
            record_count=data["record_count"],
            description=self.env._("Personal data export of %(count)s records (%(counts)s).")
            % {"count": data["record_count"], "counts": counts},
        )
        return attachments
