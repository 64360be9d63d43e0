# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The personal-data engine: find, and export, everything about one person.

``gdpr.personal.data`` is the one place of gdpr_crm that knows where a data
subject's data lives. Access and portability exports use it; erasure,
anonymization and retention reuse its discovery.

Discovery is generic, read from ``ir.model.fields``: a module installed later
is covered with no code. For every installed model with a table (transient,
abstract and SQL-view models are skipped) it takes the stored

- many2one and many2many fields to ``res.partner`` (``partner_m2o``,
  ``partner_m2m``);
- ``email_normalized`` fields (``email_normalized``, exact comparison);
- char/text fields named like an email (``email``, ``email_from``,
  ``email_cc``, ``x_email``, ``company_email``…: ``email``) or a phone
  (``phone``, ``mobile``, ``phone_sanitized``, ``partner_phone``…:
  ``phone``), compared normalized (lowercase address, last 9 digits);
- many2one_reference fields (``res_model``/``res_id`` pairs: ``reference``),
  which attach messages, activities and attachments to the subject's records.

Free text (message bodies, partner notes, lead descriptions, activity notes)
and the raw phone fields of contacts and leads are not scanned: they are read
through ``gdpr.mention``, an index of the emails and phone numbers they
mention.

Refinement hooks, per model:

- :meth:`_gdpr_personal_data_fields` (``model_name``, ``fields_by_kind``):
  which fields, of which kind, identify the subject in a model;
- :meth:`_gdpr_export_fields` / :meth:`_gdpr_export_values` (``model``,
  ``records``): which fields, and which values, an export holds.
"""

import logging
import re
from collections import defaultdict

from odoo import api, models
from odoo.tools import SQL, create_index

from ..lib.personal_data import normalize_email, phone_key

_logger = logging.getLogger(__name__)

PARTNER = "res.partner"
KINDS = ("partner_m2o", "partner_m2m", "email_normalized", "email", "phone", "reference")
# Char/text fields whose name says they hold an email or a phone number.
EMAIL_FIELD_RE = re.compile(r"^(?:\w+_)?(?:email|email_from|email_to|email_cc|email_bcc)$")
PHONE_FIELD_RE = re.compile(r"^(?:\w+_)?(?:phone|mobile|phone_sanitized)$")
# Models the engine never reports: its own index, and the audit trail, which
# holds no personal values.
EXCLUDED_MODELS = frozenset({"gdpr.mention", "gdpr.audit.log"})
# Models whose res_model/res_id link to the subject's records is not the
# subject's data (the followers of a lead are salespeople).
REFERENCE_EXCLUDED_MODELS = frozenset({"mail.followers", "gdpr.mention", "gdpr.audit.log"})


class GdprPersonalData(models.AbstractModel):
    _name = "gdpr.personal.data"
    _description = "Personal Data Engine"

    def init(self):
        self._gdpr_ensure_indexes()

    @api.model
    def _gdpr_ensure_indexes(self):
        """Give a btree index to every column the engine looks subjects up by.

        Odoo leaves some unindexed (``res_partner.email_normalized``,
        ``mail_notification.author_id``, ``mail_activity.request_partner_id``…)
        or indexes them with trigrams only (``crm_lead.email_normalized``,
        slow for equality). Without them, finding a person scans those tables.
        Run at install and by the daily cron ``ir_cron_mention_index`` (for
        modules installed later); partial (``IS NOT NULL``) to stay small.
        """
        cr = self.env.cr
        cr.execute(
            """
            SELECT c.relname, a.attname
              FROM pg_index i
              JOIN pg_class c ON c.oid = i.indrelid
              JOIN pg_class ic ON ic.oid = i.indexrelid
              JOIN pg_am am ON am.oid = ic.relam AND am.amname = 'btree'
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
             WHERE i.indpred IS NULL
                OR pg_get_expr(i.indpred, i.indrelid) = '(' || quote_ident(a.attname) || ' IS NOT NULL)'
            """
        )
        indexed = set(cr.fetchall())
        created = []
        for model_name, fields_by_kind in self._gdpr_discover().items():
            table = self.env[model_name]._table
            for fname in (*fields_by_kind["partner_m2o"], *fields_by_kind["email_normalized"]):
                if (table, fname) in indexed:
                    continue
                name = f"gdpr_{table}_{fname}_idx"[:63]
                create_index(cr, name, table, [f'"{fname}"'], where=f'"{fname}" IS NOT NULL')
                indexed.add((table, fname))
                created.append(f"{table}.{fname}")
        if created:
            _logger.info("gdpr_crm: indexed %s for the personal-data lookups", ", ".join(created))
        return created

    # ------------------------------------------------------------------
    # Discovery
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_discover(self):
        """Return ``{model name: {kind: [field names]}}`` for every model that
        may hold personal data, from ``ir.model.fields`` and the registry,
        after the per-model refinement of :meth:`_gdpr_personal_data_fields`.
        """
        self.env.cr.execute(
            """
            SELECT model, name, ttype
              FROM ir_model_fields
             WHERE store
               AND (   (ttype IN ('many2one', 'many2many') AND relation = 'res.partner')
                    OR (ttype IN ('char', 'text')
                        AND (name LIKE '%%email%%' OR name LIKE '%%phone%%' OR name LIKE '%%mobile%%'))
                    OR ttype = 'many2one_reference')
            """
        )
        discovered = defaultdict(lambda: {kind: [] for kind in KINDS})
        for model_name, fname, ttype in self.env.cr.fetchall():
            model = self.env.registry.get(model_name)
            if model is None or not self._gdpr_model_has_table(model):
                continue
            field = model._fields.get(fname)
            if field is None or not field.store or field.company_dependent:
                continue
            if ttype == "many2one":
                kind = "partner_m2o"
            elif ttype == "many2many":
                kind = "partner_m2m"
            elif ttype == "many2one_reference":
                if not field.model_field or field.model_field not in model._fields:
                    continue
                kind = "reference"
            elif getattr(field, "translate", False):
                continue
            elif fname == "email_normalized":
                kind = "email_normalized"
            elif EMAIL_FIELD_RE.match(fname):
                kind = "email"
            elif PHONE_FIELD_RE.match(fname):
                kind = "phone"
            else:
                continue
            discovered[model_name][kind].append(fname)
        mention_sources = self.env["gdpr.mention"]._gdpr_mention_sources()
        result = {}
        for model_name, fields_by_kind in discovered.items():
            if model_name in EXCLUDED_MODELS:
                continue
            fields_by_kind = self._gdpr_default_refinement(model_name, fields_by_kind, mention_sources)
            fields_by_kind = self._gdpr_personal_data_fields(model_name, fields_by_kind)
            if any(fields_by_kind.values()):
                result[model_name] = fields_by_kind
        return result

    @api.model
    def _gdpr_model_has_table(self, model):
        return bool(model._auto and not model._abstract and not model._transient and not model._table_query)

    @api.model
    def _gdpr_default_refinement(self, model_name, fields_by_kind, mention_sources):
        """Drop what is better found another way.

        - the primary email field of a model with ``email_normalized``
          (``email``, ``email_from``): the normalized column is compared;
        - the fields indexed by ``gdpr.mention`` (and ``phone_sanitized``,
          derived from them): the index is read instead of the column.
        """
        indexed = set(mention_sources.get(model_name, ()))
        if fields_by_kind["email_normalized"]:
            indexed |= {"email", "email_from"}
        if indexed & {"phone", "mobile"}:
            indexed.add("phone_sanitized")
        for kind in ("email", "phone"):
            fields_by_kind[kind] = [f for f in fields_by_kind[kind] if f not in indexed]
        return fields_by_kind

    @api.model
    def _gdpr_personal_data_fields(self, model_name, fields_by_kind):
        """Refinement hook: the fields identifying the subject in ``model_name``.

        :param fields_by_kind: ``{kind: [field names]}`` as discovered, kinds
            being ``partner_m2o``, ``partner_m2m``, ``email_normalized``,
            ``email``, ``phone`` and ``reference`` (see the module docstring)
        :return: the same dict, changed as needed (override, call super, add
            or remove field names). An empty dict ignores the model.
        """
        if model_name == "res.users":
            # the login of a user is often their email address
            fields_by_kind["email"] = [*fields_by_kind["email"], "login"]
        return fields_by_kind

    # ------------------------------------------------------------------
    # Find
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_find(self, partners=None, emails=(), phones=()):
        """Find every record of every installed model holding a subject's data.

        :param partners: ``res.partner`` recordset; their child contacts
            (recursively) and the contacts sharing their email are included
        :param emails: bare email addresses (any format, normalized here)
        :param phones: bare phone numbers (any format)
        :return: ``{model name: sorted list of ids}``

        Set-based: a few queries in all (one UNION of index lookups per
        stage), never one per record. Reads through SQL, regardless of
        access rights: callers check that the user may see the result.
        """
        self.env.flush_all()
        cr = self.env.cr
        partner_ids = set(partners.ids) if partners else set()
        emails = {e for e in (normalize_email(v) for v in emails or ()) if e}
        phone_keys = {k for k in (phone_key(v) for v in phones or ()) if k}

        partner_ids = self._gdpr_partner_closure(partner_ids)
        if partner_ids:
            cr.execute(
                "SELECT email_normalized, phone, mobile FROM res_partner WHERE id = ANY(%s)",
                [list(partner_ids)],
            )
            for email, phone, mobile in cr.fetchall():
                emails.update(filter(None, [email]))
                phone_keys.update(filter(None, [phone_key(phone), phone_key(mobile)]))
        if emails:
            # contacts with the same address are the same person
            cr.execute(
                "SELECT id FROM res_partner WHERE email_normalized = ANY(%s::varchar[])",
                [list(emails)],
            )
            same = {row[0] for row in cr.fetchall()} - partner_ids
            if same:
                partner_ids |= self._gdpr_partner_closure(same)
        if not (partner_ids or emails or phone_keys):
            return {}

        discovered = self._gdpr_discover()
        found = defaultdict(set)
        owned = defaultdict(set)  # records that belong to the subject
        if partner_ids:
            found[PARTNER] |= partner_ids
            owned[PARTNER] |= partner_ids

        # Stage 1: records pointing at the subject or holding their identifiers
        for model_name, res_id in self._gdpr_execute_union(
            self._gdpr_direct_queries(discovered, sorted(partner_ids), sorted(emails), sorted(phone_keys))
        ):
            found[model_name].add(res_id)
            owned[model_name].add(res_id)

        # Stage 1b: records whose text mentions their email or phone
        mentioned = self.env["gdpr.mention"]._gdpr_lookup(emails, phone_keys)
        for model_name, res_id in self._gdpr_execute_union(
            self._gdpr_existing_queries(
                {m: ids - found.get(m, set()) for m, ids in mentioned.items() if m not in EXCLUDED_MODELS}
            )
        ):
            found[model_name].add(res_id)

        # Stage 2: messages, activities, attachments… of the subject's records
        documents = {
            model_name: ids
            for model_name, ids in owned.items()
            if ids and not discovered.get(model_name, {}).get("reference")
        }
        for model_name, res_id in self._gdpr_execute_union(self._gdpr_reference_queries(discovered, documents)):
            found[model_name].add(res_id)

        # Stage 3: what hangs off the messages found (attachments, tracking)
        for model_name, ids in self._gdpr_find_related(found).items():
            found[model_name] |= ids

        return {model_name: sorted(ids) for model_name, ids in sorted(found.items()) if ids}

    @api.model
    def _gdpr_find_summary(self, found):
        """``[{"model", "name", "count"}]`` of ``found``, for a preview shown
        to the DPO before an export or an erasure (model labels translated)."""
        IrModel = self.env["ir.model"].sudo()
        return [
            {"model": model_name, "name": IrModel._get(model_name).name or model_name, "count": len(ids)}
            for model_name, ids in sorted(found.items())
            if ids
        ]

    @api.model
    def _gdpr_partner_closure(self, partner_ids):
        """Return ``partner_ids`` with all their descendants (child contacts)."""
        if not partner_ids:
            return set()
        self.env.cr.execute(
            """
            WITH RECURSIVE tree(id) AS (
                SELECT id FROM res_partner WHERE id = ANY(%s)
                UNION
                SELECT p.id FROM res_partner p JOIN tree ON p.parent_id = tree.id
            )
            SELECT id FROM tree
            """,
            [list(partner_ids)],
        )
        return {row[0] for row in self.env.cr.fetchall()}

    @api.model
    def _gdpr_execute_union(self, queries):
        """Run the ``SELECT model, id`` queries as one UNION ALL; yield the rows."""
        if not queries:
            return []
        self.env.cr.execute(SQL(" UNION ALL ").join(queries))
        return self.env.cr.fetchall()

    @api.model
    def _gdpr_email_regex(self, emails):
        """A PostgreSQL regex matching any of ``emails`` as a whole address."""
        alternatives = "|".join(re.escape(e).replace("\\-", "-") for e in emails)
        return rf"(^|[^a-z0-9._%+-])({alternatives})($|[^a-z0-9_.-]|\.($|[^a-z0-9_-]))"

    @api.model
    def _gdpr_direct_queries(self, discovered, partner_ids, emails, phone_keys):
        queries = []
        email_regex = self._gdpr_email_regex(emails) if emails else None
        for model_name, fields_by_kind in discovered.items():
            model = self.env[model_name]
            table = SQL.identifier(model._table)
            if partner_ids:
                for fname in fields_by_kind["partner_m2o"]:
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, id FROM %s WHERE %s = ANY(%s))",
                            model_name,
                            table,
                            SQL.identifier(fname),
                            partner_ids,
                        )
                    )
                for fname in fields_by_kind["partner_m2m"]:
                    field = model._fields[fname]
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, %s FROM %s WHERE %s = ANY(%s))",
                            model_name,
                            SQL.identifier(field.column1),
                            SQL.identifier(field.relation),
                            SQL.identifier(field.column2),
                            partner_ids,
                        )
                    )
            if emails:
                for fname in fields_by_kind["email_normalized"]:
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, id FROM %s WHERE %s = ANY(%s::varchar[]))",
                            model_name,
                            table,
                            SQL.identifier(fname),
                            emails,
                        )
                    )
                for fname in fields_by_kind["email"]:
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, id FROM %s WHERE %s ~* %s)",
                            model_name,
                            table,
                            SQL.identifier(fname),
                            email_regex,
                        )
                    )
            if phone_keys:
                for fname in fields_by_kind["phone"]:
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, id FROM %s WHERE %s IS NOT NULL"
                            " AND right(regexp_replace(%s, '\\D', '', 'g'), 9) = ANY(%s::varchar[]))",
                            model_name,
                            table,
                            SQL.identifier(fname),
                            SQL.identifier(fname),
                            phone_keys,
                        )
                    )
        return queries

    @api.model
    def _gdpr_existing_queries(self, ids_by_model):
        """Queries keeping the ids that still exist (index rows may outlive a
        record deleted outside the ORM)."""
        queries = []
        for model_name, ids in ids_by_model.items():
            model = self.env.get(model_name)
            if model is None or not ids or not self._gdpr_model_has_table(model):
                continue
            queries.append(
                SQL(
                    "(SELECT %s::varchar, id FROM %s WHERE id = ANY(%s))",
                    model_name,
                    SQL.identifier(model._table),
                    sorted(ids),
                )
            )
        return queries

    @api.model
    def _gdpr_reference_queries(self, discovered, documents):
        queries = []
        if not documents:
            return queries
        for model_name, fields_by_kind in discovered.items():
            if model_name in REFERENCE_EXCLUDED_MODELS:
                continue
            model = self.env[model_name]
            for fname in fields_by_kind["reference"]:
                model_field = model._fields[fname].model_field
                for doc_model, ids in documents.items():
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, id FROM %s WHERE %s = %s AND %s = ANY(%s))",
                            model_name,
                            SQL.identifier(model._table),
                            SQL.identifier(model_field),
                            doc_model,
                            SQL.identifier(fname),
                            sorted(ids),
                        )
                    )
        return queries

    @api.model
    def _gdpr_find_related(self, found):
        """Return ``{model: set(ids)}`` hanging off the records found: the
        attachments and tracking values of the messages, the history of the
        consents (who, when, proof, IP address, user agent). Override to add."""
        related = defaultdict(set)
        queries = []
        message_ids = sorted(found.get("mail.message", ()))
        if message_ids:
            attachments = self.env["mail.message"]._fields["attachment_ids"]
            queries += [
                SQL(
                    "(SELECT 'ir.attachment'::varchar, %s FROM %s WHERE %s = ANY(%s))",
                    SQL.identifier(attachments.column2),
                    SQL.identifier(attachments.relation),
                    SQL.identifier(attachments.column1),
                    message_ids,
                ),
                SQL(
                    "(SELECT 'mail.tracking.value'::varchar, id FROM mail_tracking_value "
                    "WHERE mail_message_id = ANY(%s))",
                    message_ids,
                ),
            ]
        consent_ids = sorted(found.get("gdpr.consent", ()))
        if consent_ids:
            queries.append(
                SQL(
                    "(SELECT 'gdpr.consent.event'::varchar, id FROM gdpr_consent_event WHERE consent_id = ANY(%s))",
                    consent_ids,
                )
            )
        if not queries:
            return related
        for model_name, res_id in self._gdpr_execute_union(queries):
            related[model_name].add(res_id)
        return related
