# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The personal-data engine: find, and export, everything about one person.

``gdpr.personal.data`` is the one place of gdpr_crm that knows where a data
subject's data lives. Access and portability exports use it; erasure,
anonymization and retention reuse its discovery.

What is personal data is said once, in the **personal-data registry**
(:meth:`_gdpr_registry`: the declared ``gdpr.personal.field`` entries merged
with the fields discovered in ``ir.model.fields``, see
``models/gdpr_personal_field.py``). The engine finds a subject through the
registry's fields that have a ``match``:

- ``partner``: many2one and many2many fields to ``res.partner``;
- ``email_normalized``: compared for equality;
- ``email``: an address inside the value (regex, served by a trigram index);
- ``phone``: the last 9 digits (served by an expression index);
- ``text``: the emails and phones quoted in the value, read through
  ``gdpr.mention``, an index kept up to date (free text is never scanned);

and through the many2one_reference fields (``res_model``/``res_id`` pairs),
which attach messages, activities and attachments to the subject's records.
Possible mentions of the subject's full name in the free text of the registry
are found through trigram (pg_trgm) indexes and returned apart
(:meth:`_gdpr_find_provenance`).

Refinement hooks, per model:

- :meth:`_gdpr_personal_data_fields` (``model_name``, ``fields_by_kind``):
  which fields, of which kind, identify the subject in a model;
- :meth:`_gdpr_export_fields` / :meth:`_gdpr_export_values` (``model``,
  ``records``): which fields, and which values, an export holds.
"""

import hashlib
import logging
import re
from collections import defaultdict
from contextlib import closing

import psycopg2

from odoo import api, models, sql_db
from odoo.tools import SQL

from ..lib.personal_data import normalize_email, phone_key
from .gdpr_personal_field import EXCLUDED_MODELS, TEXT_TYPES

_logger = logging.getLogger(__name__)

PARTNER = "res.partner"
KINDS = ("partner_m2o", "partner_m2m", "email_normalized", "email", "phone", "reference")
# Models whose res_model/res_id link to the subject's records is not the
# subject's data (the followers of a lead are salespeople).
REFERENCE_EXCLUDED_MODELS = frozenset({"mail.followers", "gdpr.mention", "gdpr.audit.log"})
# Relations of a record to the subject, strongest first.
RELATIONS = ("own", "reference", "mention", "name_mention")
RELATION_RANK = {relation: rank for rank, relation in enumerate(RELATIONS)}
# Text kinds of the registry: scanned for mentions (emails, phones, names).
TEXT_KINDS = ("free_text", "sensitive")
# A full name worth looking for: two words or more, 5 characters or more.
NAME_MIN_LENGTH = 5
NAME_MAX_COUNT = 50
INDEX_PREFIX = "gdpr_"
# How the records of _gdpr_find_related hang off a record found.
RELATED_VIA = {
    "ir.attachment": "mail.message:attachment_ids",
    "mail.tracking.value": "mail.message:tracking_value_ids",
    "gdpr.consent.event": "gdpr.consent:event_ids",
}


def _index_name(table, column, suffix):
    name = f"{INDEX_PREFIX}{table}_{column}_{suffix}"
    if len(name) > 63:
        digest = hashlib.sha256(name.encode()).hexdigest()[:8]
        name = f"{name[:54]}_{digest}"
    return name


def _like_escape(value):
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


class GdprPersonalData(models.AbstractModel):
    _name = "gdpr.personal.data"
    _description = "Personal Data Engine"

    def init(self):
        self._gdpr_ensure_trigram()
        self._gdpr_ensure_indexes()

    def _register_hook(self):
        """A module installed or updated after gdpr_crm (``mass_mailing``…)
        brings new columns to look subjects up by: index them as part of that
        installation, before the registry serves requests."""
        result = super()._register_hook()
        if self.pool.updated_modules and "gdpr.personal.field" in self.env:
            self._gdpr_ensure_indexes()
        return result

    # ------------------------------------------------------------------
    # The personal-data registry
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_registry(self, model_name=None):
        """What is personal data, per model and field.

        :param model_name: only this model (``{}`` when it holds none)
        :return: ``{model: {field: {"kind", "purpose", "anonymize", "match",
            "owner"}}}``, a fresh copy:

            - ``kind``: ``identifier | contact | free_text | sensitive | image``;
            - ``purpose``: the code of the purpose it serves, or ``False``;
            - ``anonymize``: ``clear`` (empty it), ``pseudonym`` (a stable
              pseudonym, for required fields such as a name), ``mask`` (keep
              the shape, hide the content), ``scrub`` (remove the subject's
              identifiers from the text, keep the rest), ``keep`` (leave it:
              a link to the contact, itself anonymized);
            - ``match``: how the engine finds a subject through it
              (``partner | email_normalized | email | phone | text``), or
              ``False``;
            - ``owner``: a record found through it belongs to the subject.

        Declared entries (``gdpr.personal.field``) merged with the fields
        discovered in every installed model; cached until a declaration
        changes or a module is installed.
        """
        registry = self.env["gdpr.personal.field"]._gdpr_registry_map()
        if model_name is not None:
            registry = {model_name: registry[model_name]} if model_name in registry else {}
        purpose_ids = {entry[1] for entries in registry.values() for entry in entries.values() if entry[1]}
        codes = {}
        if purpose_ids:
            purposes = self.env["gdpr.purpose"].sudo().with_context(active_test=False).browse(purpose_ids).exists()
            codes = {purpose.id: purpose.code for purpose in purposes}
        return {
            model: {
                fname: {
                    "kind": kind,
                    "purpose": codes.get(purpose_id, False),
                    "anonymize": anonymize,
                    "match": match,
                    "owner": owner,
                }
                for fname, (kind, purpose_id, anonymize, match, owner) in entries.items()
            }
            for model, entries in registry.items()
        }

    @api.model
    def _gdpr_registry_fields(self, kinds, model_name=None):
        """``{model: [field names]}`` of the registry's fields of ``kinds``
        (one kind or a list of them), sorted; cheap (no query once cached)."""
        kinds = {kinds} if isinstance(kinds, str) else set(kinds)
        registry = self.env["gdpr.personal.field"]._gdpr_registry_map()
        if model_name is not None:
            registry = {model_name: registry[model_name]} if model_name in registry else {}
        result = {}
        for model, entries in registry.items():
            names = sorted(fname for fname, entry in entries.items() if entry[0] in kinds)
            if names:
                result[model] = names
        return result

    @api.model
    def _gdpr_text_sources(self):
        """``{model: [field names]}`` of the free text of the registry (kinds
        ``free_text`` and ``sensitive``) stored in a table: what is searched
        for name mentions (and indexed with trigrams)."""
        result = {}
        for model_name, fnames in self._gdpr_registry_fields(TEXT_KINDS).items():
            model = self.env.get(model_name)
            if model is None or not self._gdpr_model_has_table(model):
                continue
            kept = [
                f
                for f in fnames
                if model._fields[f].store
                and model._fields[f].type in TEXT_TYPES
                and not getattr(model._fields[f], "translate", False)
            ]
            if kept:
                result[model_name] = kept
        return result

    # ------------------------------------------------------------------
    # Indexes
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_ensure_trigram(self):
        """Install PostgreSQL's pg_trgm extension when it is missing (Odoo
        creates it with the databases it creates); False if it cannot be."""
        cr = self.env.cr
        if self._gdpr_has_trigram():
            return True
        try:
            with cr.savepoint(flush=False):
                cr.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        except psycopg2.Error:
            _logger.info("gdpr_crm: pg_trgm is not available, name mentions are searched without an index")
            return False
        return True

    @api.model
    def _gdpr_has_trigram(self):
        self.env.cr.execute("SELECT 1 FROM pg_opclass WHERE opcname = 'gin_trgm_ops'")
        return bool(self.env.cr.fetchone())

    @api.model
    def _gdpr_index_specs(self):
        """The indexes the engine's lookups need and the database lacks.

        ``[(label, name, table, expression, method, where)]``:

        - a btree on every partner link and ``email_normalized`` column (Odoo
          leaves some unindexed: ``res_partner.email_normalized``,
          ``mail_notification.author_id``…, or trigram-only:
          ``crm_lead.email_normalized``), partial (``IS NOT NULL``);
        - a btree on the second column of partner many2many tables;
        - a btree on ``(res_model, res_id)`` of many2one_reference fields;
        - a trigram (GIN) index on the ``email`` columns (an address inside
          the value: ``mail_mail.email_to``, ``mailing_trace.email``…) and on
          the free text searched for name mentions;
        - an expression btree on the last 9 digits of ``phone`` columns.
        """
        cr = self.env.cr
        cr.execute(
            """
            SELECT c.relname, a.attname, a2.attname, am.amname, op.opcname,
                   i.indpred IS NULL
                   OR pg_get_expr(i.indpred, i.indrelid) = '(' || quote_ident(a.attname) || ' IS NOT NULL)'
              FROM pg_index i
              JOIN pg_class c ON c.oid = i.indrelid
              JOIN pg_class ic ON ic.oid = i.indexrelid
              JOIN pg_am am ON am.oid = ic.relam
              JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0]
              LEFT JOIN pg_attribute a2 ON a2.attrelid = i.indrelid AND a2.attnum = i.indkey[1]
              LEFT JOIN pg_opclass op ON op.oid = i.indclass[0]
             WHERE i.indisvalid
            """
        )
        btree, btree_pairs, trigram = set(), set(), set()
        for table, col1, col2, method, opclass, full in cr.fetchall():
            if method == "btree" and full:
                btree.add((table, col1))
                btree_pairs.add((table, col1, col2))
            elif method == "gin" and opclass == "gin_trgm_ops":
                trigram.add((table, col1))
        cr.execute("SELECT indexname FROM pg_indexes WHERE indexname LIKE 'gdpr\\_%%'")
        named = {row[0] for row in cr.fetchall()}
        has_trigram = self._gdpr_has_trigram()
        specs = {}

        def want(label, name, table, expression, method="btree", where=""):
            if name not in named and name not in specs:
                specs[name] = (label, name, table, expression, method, where)

        for model_name, fields_by_kind in self._gdpr_discover().items():
            model = self.env[model_name]
            table = model._table
            for fname in (*fields_by_kind["partner_m2o"], *fields_by_kind["email_normalized"]):
                if (table, fname) not in btree:
                    want(
                        f"{table}.{fname}",
                        _index_name(table, fname, "idx"),
                        table,
                        f'"{fname}"',
                        where=f'"{fname}" IS NOT NULL',
                    )
            for fname in fields_by_kind["partner_m2m"]:
                field = model._fields[fname]
                if (field.relation, field.column2) not in btree:
                    want(
                        f"{field.relation}.{field.column2}",
                        _index_name(field.relation, field.column2, "idx"),
                        field.relation,
                        f'"{field.column2}"',
                    )
            for fname in fields_by_kind["reference"]:
                model_field = model._fields[fname].model_field
                if (table, fname) not in btree and (table, model_field, fname) not in btree_pairs:
                    want(f"{table}.{fname}", _index_name(table, fname, "idx"), table, f'"{model_field}", "{fname}"')
            for fname in fields_by_kind["email"]:
                if has_trigram and (table, fname) not in trigram:
                    want(f"{table}.{fname}", _index_name(table, fname, "trgm"), table, f'"{fname}" gin_trgm_ops', "gin")
            for fname in fields_by_kind["phone"]:
                want(
                    f"{table}.{fname}",
                    _index_name(table, fname, "phone"),
                    table,
                    self._gdpr_phone_expression(fname),
                    where=f'"{fname}" IS NOT NULL',
                )
        if has_trigram:
            for model_name, fnames in self._gdpr_text_sources().items():
                table = self.env[model_name]._table
                for fname in fnames:
                    if (table, fname) not in trigram:
                        want(
                            f"{table}.{fname}",
                            _index_name(table, fname, "trgm"),
                            table,
                            f'"{fname}" gin_trgm_ops',
                            "gin",
                        )
        return list(specs.values())

    @api.model
    def _gdpr_phone_expression(self, fname):
        """The indexed expression of a phone column: its last 9 digits."""
        return f"(right(regexp_replace(\"{fname}\", '\\D', '', 'g'), 9))"

    @api.model
    def _gdpr_ensure_indexes(self, concurrently=False):
        """Create the indexes of :meth:`_gdpr_index_specs`; return their
        labels (``table.column``).

        Called at install (in the installation's transaction), and when a
        module is installed later (:meth:`_register_hook`). On a live
        database, ``concurrently=True`` commits the current transaction and
        builds them with ``CREATE INDEX CONCURRENTLY`` on a connection of
        its own (no table is locked; run it from ``odoo shell``, not from a
        cron: ``CREATE INDEX CONCURRENTLY`` waits for every open transaction,
        the cron's included). An index left invalid by a failure is dropped.
        Every index the engine creates is named ``gdpr_…`` and dropped when
        gdpr_crm is uninstalled.
        """
        specs = self._gdpr_index_specs()
        if not specs:
            return []
        created = []
        if concurrently and not self.env.registry.in_test_mode():
            self.env.cr.commit()
            with closing(sql_db.db_connect(self.env.cr.dbname).cursor()) as cr:
                cr._cnx.autocommit = True
                for label, name, table, expression, method, where in specs:
                    try:
                        cr.execute(self._gdpr_index_sql(name, table, expression, method, where, concurrently=True))
                        created.append(label)
                    except psycopg2.Error as error:
                        _logger.warning("gdpr_crm: could not create the index %s: %s", name, error)
                        cr.execute(SQL("DROP INDEX CONCURRENTLY IF EXISTS %s", SQL.identifier(name)))
        else:
            for label, name, table, expression, method, where in specs:
                self.env.cr.execute(self._gdpr_index_sql(name, table, expression, method, where))
                created.append(label)
        _logger.info("gdpr_crm: indexed %s for the personal-data lookups", ", ".join(created))
        return created

    @api.model
    def _gdpr_index_sql(self, name, table, expression, method, where, concurrently=False):
        return SQL(
            "CREATE INDEX %s IF NOT EXISTS %s ON %s USING %s (%s)%s",
            SQL("CONCURRENTLY") if concurrently else SQL(),
            SQL.identifier(name),
            SQL.identifier(table),
            SQL(method),
            SQL(expression),
            SQL(" WHERE %s", SQL(where)) if where else SQL(),
        )

    @api.model
    def _gdpr_drop_indexes(self):
        """Drop the indexes the engine created on other modules' tables
        (uninstall; gdpr_crm's own tables go with their indexes)."""
        cr = self.env.cr
        cr.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'gdpr\\_%%' AND tablename NOT LIKE 'gdpr\\_%%'"
        )
        names = [row[0] for row in cr.fetchall()]
        for name in names:
            cr.execute(SQL("DROP INDEX IF EXISTS %s", SQL.identifier(name)))
        return names

    # ------------------------------------------------------------------
    # Discovery
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_discover(self):
        """Return ``{model name: {kind: [field names]}}`` for every model that
        may hold a subject's data: the registry's fields with a ``match``
        (kinds ``partner_m2o``, ``partner_m2m``, ``email_normalized``,
        ``email``, ``phone``) and the many2one_reference fields
        (``reference``), after the per-model refinement of
        :meth:`_gdpr_personal_data_fields`.
        """
        discovered = defaultdict(lambda: {kind: [] for kind in KINDS})
        registry = self.env["gdpr.personal.field"]._gdpr_registry_map()
        for model_name, entries in registry.items():
            model = self.env.registry.get(model_name)
            if model is None or not self._gdpr_model_has_table(model):
                continue
            for fname, (_kind, _purpose, _anonymize, match, _owner) in entries.items():
                field = model._fields[fname]
                if not field.store:
                    continue
                if match == "partner":
                    discovered[model_name]["partner_m2o" if field.type == "many2one" else "partner_m2m"].append(fname)
                elif match in ("email_normalized", "email", "phone"):
                    discovered[model_name][match].append(fname)
        for model_name, fnames in self.env["gdpr.personal.field"]._gdpr_reference_map().items():
            discovered[model_name]["reference"].extend(fnames)
        mention_sources = self.env["gdpr.mention"]._gdpr_mention_sources()
        result = {}
        for model_name, fields_by_kind in discovered.items():
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

        Prefer declaring a field in the registry (``gdpr.personal.field``);
        this hook is for what a declaration cannot say.

        :param fields_by_kind: ``{kind: [field names]}`` as discovered, kinds
            being ``partner_m2o``, ``partner_m2m``, ``email_normalized``,
            ``email``, ``phone`` and ``reference`` (see the module docstring)
        :return: the same dict, changed as needed (override, call super, add
            or remove field names). An empty dict ignores the model.
        """
        return fields_by_kind

    @api.model
    def _gdpr_owner_fields(self, model_name):
        """Fields of ``model_name`` through which a match makes the record
        the subject's own (the registry's ``owner``)."""
        entries = self.env["gdpr.personal.field"]._gdpr_registry_map().get(model_name, {})
        return {fname for fname, entry in entries.items() if entry[4]}

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
        :return: ``{model name: sorted list of ids}``: the records of
            :meth:`_gdpr_find_provenance` that are certain (owned, referencing
            or mentioning the subject's email or phone; not the possible name
            mentions)

        Set-based: a few queries in all (one UNION of index lookups per
        stage), never one per record. Reads through SQL, regardless of
        access rights: callers check that the user may see the result.
        """
        provenance = self._gdpr_find_provenance(partners=partners, emails=emails, phones=phones, name_mentions=False)
        return {
            model_name: sorted(res_id for res_id, info in records.items() if info["relation"] != "name_mention")
            for model_name, records in sorted(provenance.items())
            if any(info["relation"] != "name_mention" for info in records.values())
        }

    @api.model
    def _gdpr_find_provenance(self, partners=None, emails=(), phones=(), names=(), name_mentions=True):
        """Find a subject's data and say, for each record, why it was found.

        :param partners: ``res.partner`` recordset; their child contacts
            (recursively) and the contacts sharing their email are included
        :param emails: bare email addresses (any format, normalized here)
        :param phones: bare phone numbers (any format)
        :param names: full names to look for in free text, besides the names
            of the subject's contacts (who are people, not companies)
        :param name_mentions: False skips the name search (``_gdpr_find``)
        :return: ``{model name: {record id: {"relation": relation, "via":
            [sorted field or index names]}}}``, where ``relation`` is

            - ``"own"``: the record belongs to the subject (their contact and
              its child contacts, their lead, a message they wrote, their
              followers, the chatter, activities and attachments of their
              records), found through a field whose registry entry is
              ``owner``;
            - ``"reference"``: someone else's document that points at the
              subject or holds one of their identifiers (a message addressed
              to them, a copy ``email_cc``, an email sent to them), and what
              hangs off such records or off mentions;
            - ``"mention"``: free text (a note, a message body, a lead
              description) quoting their email or phone, found through the
              mention index;
            - ``"name_mention"``: free text that contains the full name of
              the subject, found through a trigram index: only possible, for
              the DPO to review; never counted as the subject's data.

            A record found several ways keeps its strongest relation (in the
            order above) and every way in ``via``: field names
            (``partner_id``, ``email_normalized``, ``res_id``…; ``id`` for
            the contacts given, ``parent_id`` for their child contacts),
            ``gdpr.mention:<field>`` for the mention index, ``<model>:<field>``
            for what hangs off a found record (``mail.message:attachment_ids``,
            ``related`` when an override of :meth:`_gdpr_find_related` adds
            it), and the text field of a name mention.
        """
        self.env.flush_all()
        cr = self.env.cr
        result = defaultdict(dict)

        def add(model_name, res_id, relation, via):
            info = result[model_name].get(res_id)
            if info is None:
                result[model_name][res_id] = {"relation": relation, "via": {via}}
                return
            info["via"].add(via)
            if RELATION_RANK[relation] < RELATION_RANK[info["relation"]]:
                info["relation"] = relation

        given = set(partners.ids) if partners else set()
        emails = {e for e in (normalize_email(v) for v in emails or ()) if e}
        phone_keys = {k for k in (phone_key(v) for v in phones or ()) if k}

        for partner_id in given:
            add(PARTNER, partner_id, "own", "id")
        partner_ids = self._gdpr_partner_closure(given)
        for partner_id in partner_ids - given:
            add(PARTNER, partner_id, "own", "parent_id")
        if partner_ids:
            cr.execute(
                "SELECT email_normalized, phone, mobile FROM res_partner WHERE id = ANY(%s)",
                [sorted(partner_ids)],
            )
            for email, phone, mobile in cr.fetchall():
                emails.update(filter(None, [email]))
                phone_keys.update(filter(None, [phone_key(phone), phone_key(mobile)]))
        if emails:
            # contacts with the same address are the same person
            cr.execute(
                "SELECT id FROM res_partner WHERE email_normalized = ANY(%s::varchar[])",
                [sorted(emails)],
            )
            same = {row[0] for row in cr.fetchall()} - partner_ids
            if same:
                closure = self._gdpr_partner_closure(same)
                for partner_id in closure:
                    add(PARTNER, partner_id, "own", "email_normalized" if partner_id in same else "parent_id")
                partner_ids |= closure
        if not (partner_ids or emails or phone_keys or names):
            return {}

        discovered = self._gdpr_discover()
        owner_fields = {model_name: self._gdpr_owner_fields(model_name) for model_name in discovered}

        # Stage 1: records pointing at the subject or holding their identifiers
        referencing = defaultdict(set)
        for model_name, res_id, fname in self._gdpr_execute_union(
            self._gdpr_direct_queries(discovered, sorted(partner_ids), sorted(emails), sorted(phone_keys))
        ):
            relation = "own" if fname in owner_fields[model_name] else "reference"
            add(model_name, res_id, relation, fname)
            if relation == "reference":
                referencing[model_name].add(res_id)

        # Stage 1b: records whose text mentions their email or phone
        mentioned = self.env["gdpr.mention"]._gdpr_lookup_fields(emails, phone_keys)
        existing = self._gdpr_execute_union(
            self._gdpr_existing_queries({m: set(ids) for m, ids in mentioned.items() if m not in EXCLUDED_MODELS})
        )
        registry = self.env["gdpr.personal.field"]._gdpr_registry_map()
        for model_name, res_id in existing:
            for fname in mentioned[model_name][res_id]:
                entry = registry.get(model_name, {}).get(fname)
                if entry and entry[4]:
                    relation = "own"
                elif not entry or entry[0] in TEXT_KINDS:
                    relation = "mention"
                else:
                    relation = "reference"
                add(model_name, res_id, relation, f"gdpr.mention:{fname}" if fname else "gdpr.mention")

        # Stage 2: messages, activities, attachments… of the subject's own
        # records (theirs too) and of the records pointing at them (stage 1;
        # not of the records that only quote them)
        documents = {"own": defaultdict(set), "reference": defaultdict(set)}
        for model_name, records in result.items():
            if discovered.get(model_name, {}).get("reference"):
                continue
            for res_id, info in records.items():
                if info["relation"] == "own":
                    documents["own"][model_name].add(res_id)
                elif res_id in referencing[model_name]:
                    documents["reference"][model_name].add(res_id)
        for model_name, res_id, fname, relation in self._gdpr_execute_union(
            self._gdpr_reference_queries(discovered, documents)
        ):
            add(model_name, res_id, relation, fname)

        # Stage 3: what hangs off the messages and consents found
        # (attachments, tracking values, consent history)
        own = {m: {i for i, info in records.items() if info["relation"] == "own"} for m, records in result.items()}
        others = {m: set(records) - own[m] for m, records in result.items()}
        for relation, parents in (("own", own), ("reference", others)):
            for model_name, ids in self._gdpr_find_related({m: ids for m, ids in parents.items() if ids}).items():
                for res_id in ids:
                    add(model_name, res_id, relation, RELATED_VIA.get(model_name, "related"))

        # Stage 4: possible mentions of their full name (apart)
        if name_mentions:
            for model_name, res_id, fname in self._gdpr_execute_union(
                self._gdpr_name_queries(self._gdpr_subject_names(partner_ids, names))
            ):
                add(model_name, res_id, "name_mention", fname)

        return {
            model_name: {
                res_id: {"relation": info["relation"], "via": sorted(info["via"])}
                for res_id, info in sorted(records.items())
            }
            for model_name, records in sorted(result.items())
            if records
        }

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
        """Run the ``SELECT model, id, …`` queries as one UNION ALL; return the rows."""
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
        """``SELECT model, id, field`` of the records whose fields match the
        subject: one index lookup each (see :meth:`_gdpr_index_specs`)."""
        queries = []
        email_regex = self._gdpr_email_regex(emails) if emails else None
        for model_name, fields_by_kind in discovered.items():
            model = self.env[model_name]
            table = SQL.identifier(model._table)
            if partner_ids:
                for fname in fields_by_kind["partner_m2o"]:
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, id, %s::varchar FROM %s WHERE %s = ANY(%s))",
                            model_name,
                            fname,
                            table,
                            SQL.identifier(fname),
                            partner_ids,
                        )
                    )
                for fname in fields_by_kind["partner_m2m"]:
                    field = model._fields[fname]
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, %s, %s::varchar FROM %s WHERE %s = ANY(%s))",
                            model_name,
                            SQL.identifier(field.column1),
                            fname,
                            SQL.identifier(field.relation),
                            SQL.identifier(field.column2),
                            partner_ids,
                        )
                    )
            if emails:
                for fname in fields_by_kind["email_normalized"]:
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, id, %s::varchar FROM %s WHERE %s = ANY(%s::varchar[]))",
                            model_name,
                            fname,
                            table,
                            SQL.identifier(fname),
                            emails,
                        )
                    )
                for fname in fields_by_kind["email"]:
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, id, %s::varchar FROM %s WHERE %s ~* %s)",
                            model_name,
                            fname,
                            table,
                            SQL.identifier(fname),
                            email_regex,
                        )
                    )
            if phone_keys:
                for fname in fields_by_kind["phone"]:
                    queries.append(
                        SQL(
                            "(SELECT %s::varchar, id, %s::varchar FROM %s"
                            " WHERE %s IS NOT NULL AND %s = ANY(%s::varchar[]))",
                            model_name,
                            fname,
                            table,
                            SQL.identifier(fname),
                            SQL(self._gdpr_phone_expression(fname)),
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
        """``SELECT model, id, field, relation`` of the records attached
        (``res_model``/``res_id``) to the ``documents``:
        ``{relation: {model: ids}}``."""
        queries = []
        for model_name, fields_by_kind in discovered.items():
            if model_name in REFERENCE_EXCLUDED_MODELS:
                continue
            model = self.env[model_name]
            for fname in fields_by_kind["reference"]:
                model_field = model._fields[fname].model_field
                for relation, by_model in documents.items():
                    for doc_model, ids in by_model.items():
                        if not ids:
                            continue
                        queries.append(
                            SQL(
                                "(SELECT %s::varchar, id, %s::varchar, %s::varchar FROM %s"
                                " WHERE %s = %s AND %s = ANY(%s))",
                                model_name,
                                fname,
                                relation,
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

    # ------------------------------------------------------------------
    # Name mentions
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_subject_names(self, partner_ids, names=()):
        """The full names worth looking for: ``names`` and the names of the
        contacts ``partner_ids`` that are people (not companies), with two
        words or more; at most :data:`NAME_MAX_COUNT`."""
        candidates = list(names or ())
        if partner_ids:
            self.env.cr.execute(
                "SELECT name FROM res_partner WHERE id = ANY(%s) AND NOT is_company ORDER BY id",
                [sorted(partner_ids)],
            )
            candidates += [row[0] for row in self.env.cr.fetchall()]
        result = []
        for name in candidates:
            name = " ".join((name or "").split())
            if len(name) >= NAME_MIN_LENGTH and " " in name and name.lower() not in {n.lower() for n in result}:
                result.append(name)
        return result[:NAME_MAX_COUNT]

    @api.model
    def _gdpr_name_queries(self, names):
        """``SELECT model, id, field`` of the free text containing one of
        ``names`` as whole words: ``ILIKE`` served by the trigram index of
        each text column, confirmed by a word-boundary regex."""
        if not names:
            return []
        # (words in order, whatever the spaces between them)
        likes = ["%" + "%".join(_like_escape(word) for word in name.split()) + "%" for name in names]
        regex = r"\m(%s)\M" % "|".join(r"\s+".join(re.escape(word) for word in name.split()) for name in names)
        queries = []
        for model_name, fnames in self._gdpr_text_sources().items():
            if model_name in EXCLUDED_MODELS:
                continue
            model = self.env[model_name]
            for fname in fnames:
                column = SQL.identifier(fname)
                queries.append(
                    SQL(
                        "(SELECT %s::varchar, id, %s::varchar FROM %s WHERE (%s) AND %s ~* %s)",
                        model_name,
                        fname,
                        SQL.identifier(model._table),
                        SQL(" OR ").join(SQL("%s ILIKE %s", column, like) for like in likes),
                        column,
                        regex,
                    )
                )
        return queries
