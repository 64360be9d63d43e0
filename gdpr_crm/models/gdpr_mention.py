# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import defaultdict

from odoo import api, fields, models
from odoo.tools import SQL, create_index

from ..lib.personal_data import extract_emails, extract_phones

_logger = logging.getLogger(__name__)

WATERMARK_PARAM = "gdpr_crm.mention_index_last_id.%s"


class GdprMention(models.Model):
    """Index of the email addresses and phone numbers that records mention.

    One row per (record, normalized email or phone key) found in the text of
    the fields of :meth:`_gdpr_mention_sources`. The personal-data engine
    finds every message, note or description quoting a data subject with one
    index lookup instead of scanning text (``ILIKE '%…%'``).

    The index is kept up to date when those records are created, written or
    deleted (see the ``create``/``write``/``unlink`` overrides of
    ``mail.message``, ``res.partner``, ``crm.lead`` and ``mail.activity``),
    and filled for existing records at install and by the batched cron
    ``gdpr_crm.ir_cron_mention_index``, which walks each source model by id
    from a watermark (``ir.config_parameter`` ``gdpr_crm.mention_index_last_id.<model>``).
    Indexing a record is idempotent: its rows are replaced.
    """

    _name = "gdpr.mention"
    _description = "Personal Data Mention"
    _log_access = False
    _rec_name = "value"

    res_model = fields.Char(string="Model", required=True, readonly=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", required=True, readonly=True)
    kind = fields.Selection([("email", "Email"), ("phone", "Phone")], required=True, readonly=True)
    value = fields.Char(
        required=True,
        readonly=True,
        help="Normalized email address, or the last 9 digits of a phone number.",
    )
    field = fields.Char(readonly=True, help="The field of the record whose text mentions the value.")

    def init(self):
        # (value) first: the engine's lookup; covering, so it is index-only.
        self.env.cr.execute("DROP INDEX IF EXISTS gdpr_mention_value_idx")
        create_index(
            self.env.cr, "gdpr_mention_value_field_idx", self._table, ["value", "res_model", "res_id", "field"]
        )
        # (res_model, res_id): re-indexing and forgetting a record.
        create_index(self.env.cr, "gdpr_mention_record_idx", self._table, ["res_model", "res_id"])

    # ------------------------------------------------------------------
    # Sources
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_mention_sources(self):
        """Return ``{model name: (field names)}`` of the text that is indexed.

        Read from the personal-data registry: its fields whose ``match`` is
        ``text`` (the raw phone fields of contacts and leads, which may hold
        several numbers…) and its free text (kinds ``free_text`` and
        ``sensitive``: notes, descriptions, message bodies), stored in a
        table. The models inheriting ``gdpr.mention.mixin`` are re-indexed
        when they change; the others by the daily cron, which indexes new
        records. After adding a source, reset its watermark (or run the
        cron) to index the existing records.
        """
        # the cached registry itself (kind, purpose, anonymize, match, owner):
        # this runs at every write of a source model
        registry = self.env["gdpr.personal.field"]._gdpr_registry_map()
        Engine = self.env["gdpr.personal.data"]
        sources = {}
        for model_name, entries in registry.items():
            model = self.env.get(model_name)
            if model is None or not Engine._gdpr_model_has_table(model):
                continue
            kept = tuple(
                sorted(
                    fname
                    for fname, (kind, _purpose, _anonymize, match, _owner) in entries.items()
                    if (match == "text" or kind in ("free_text", "sensitive"))
                    and model._fields[fname].store
                    and model._fields[fname].type in ("char", "text", "html")
                )
            )
            if kept:
                sources[model_name] = kept
        return sources

    # ------------------------------------------------------------------
    # Indexing
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_index_records(self, model_name, ids, fresh=False):
        """(Re-)index the records ``ids`` of ``model_name``: set-based, 3 queries.

        :param fresh: the records are new (no rows to delete first)
        """
        ids = list(ids)
        fnames = self._gdpr_mention_sources().get(model_name)
        if not ids or not fnames:
            return 0
        model = self.env[model_name]
        model.flush_model(fnames)
        self.env.cr.execute(
            SQL(
                "SELECT id, %s FROM %s WHERE id = ANY(%s)",
                SQL(", ").join(model._field_to_sql(model._table, f) for f in fnames),
                SQL.identifier(model._table),
                ids,
            )
        )
        res_ids, kinds, values, field_names = [], [], [], []
        for row in self.env.cr.fetchall():
            for fname, text in zip(fnames, row[1:], strict=True):
                if not text:
                    continue
                for kind, found in (("email", extract_emails(text)), ("phone", extract_phones(text))):
                    for value in found:
                        if len(value) <= 254:
                            res_ids.append(row[0])
                            kinds.append(kind)
                            values.append(value)
                            field_names.append(fname)
        if not fresh:
            self._gdpr_forget_records(model_name, ids)
        if res_ids:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO gdpr_mention (res_model, res_id, kind, value, field)
                       SELECT %s, unnest(%s::int[]), unnest(%s::varchar[]), unnest(%s::varchar[]),
                              unnest(%s::varchar[])""",
                    model_name,
                    res_ids,
                    kinds,
                    values,
                    field_names,
                )
            )
        return len(res_ids)

    @api.model
    def _gdpr_forget_records(self, model_name, ids):
        """Remove the index rows of the records ``ids`` of ``model_name``."""
        if ids:
            self.env.cr.execute(
                SQL("DELETE FROM gdpr_mention WHERE res_model = %s AND res_id = ANY(%s)", model_name, list(ids))
            )

    @api.model
    def _gdpr_on_write(self, records, vals):
        """Hook for the ``write`` of a source model: re-index when indexed text changed."""
        fnames = self._gdpr_mention_sources().get(records._name, ())
        if records and any(f in vals for f in fnames):
            self.sudo()._gdpr_index_records(records._name, records.ids)

    @api.model
    def _gdpr_lookup(self, emails=(), phone_keys=()):
        """Return ``{model name: set(ids)}`` of the records mentioning any of the values."""
        values = list({*emails, *phone_keys})
        found = defaultdict(set)
        if not values:
            return found
        self.env.cr.execute(SQL("SELECT res_model, res_id FROM gdpr_mention WHERE value = ANY(%s::varchar[])", values))
        for res_model, res_id in self.env.cr.fetchall():
            found[res_model].add(res_id)
        return found

    @api.model
    def _gdpr_lookup_fields(self, emails=(), phone_keys=()):
        """Return ``{model name: {id: set(field names)}}`` of the records
        mentioning any of the values, and in which fields (``None`` for rows
        indexed before the field was recorded)."""
        values = list({*emails, *phone_keys})
        found = defaultdict(lambda: defaultdict(set))
        if not values:
            return found
        self.env.cr.execute(
            SQL("SELECT res_model, res_id, field FROM gdpr_mention WHERE value = ANY(%s::varchar[])", values)
        )
        for res_model, res_id, fname in self.env.cr.fetchall():
            found[res_model][res_id].add(fname)
        return found

    # ------------------------------------------------------------------
    # Backfill
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_get_watermark(self, model_name):
        """The last id of ``model_name`` indexed by the backfill.

        Kept in ``ir_config_parameter`` but read and written in SQL: going
        through ``set_param`` would clear every worker's caches at each batch.
        """
        self.env.cr.execute("SELECT value FROM ir_config_parameter WHERE key = %s", [WATERMARK_PARAM % model_name])
        row = self.env.cr.fetchone()
        return int(row[0]) if row and row[0] and row[0].isdigit() else 0

    @api.model
    def _gdpr_set_watermark(self, model_name, last_id):
        self.env["ir.config_parameter"].flush_model()
        self.env.cr.execute(
            """INSERT INTO ir_config_parameter (key, value, create_uid, write_uid, create_date, write_date)
               VALUES (%s, %s, %s, %s, now() at time zone 'UTC', now() at time zone 'UTC')
               ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value, write_date = EXCLUDED.write_date""",
            [WATERMARK_PARAM % model_name, str(last_id), self.env.uid, self.env.uid],
        )
        self.env["ir.config_parameter"].invalidate_model(["value"])

    @api.model
    def _gdpr_backfill_batch(self, batch_size=5000):
        """Index the next ``batch_size`` not yet indexed records of each source.

        Returns ``(done, remaining)`` counted in records.
        """
        done = remaining = 0
        for model_name in self._gdpr_mention_sources():
            model = self.env[model_name]
            last_id = self._gdpr_get_watermark(model_name)
            self.env.cr.execute(
                SQL(
                    "SELECT id FROM %s WHERE id > %s ORDER BY id LIMIT %s",
                    SQL.identifier(model._table),
                    last_id,
                    batch_size,
                )
            )
            ids = [row[0] for row in self.env.cr.fetchall()]
            if ids:
                self._gdpr_index_records(model_name, ids)
                self._gdpr_set_watermark(model_name, ids[-1])
                done += len(ids)
                self.env.cr.execute(SQL("SELECT count(*) FROM %s WHERE id > %s", SQL.identifier(model._table), ids[-1]))
                remaining += self.env.cr.fetchone()[0]
        return done, remaining

    @api.model
    def _gdpr_backfill(self, max_batches=5, batch_size=5000):
        """Index existing records, up to ``max_batches`` batches (at install).

        What remains is left to the cron, which is triggered.
        """
        remaining = 0
        for _i in range(max_batches):
            done, remaining = self._gdpr_backfill_batch(batch_size)
            if not remaining:
                break
        if remaining:
            cron = self.env.ref("gdpr_crm.ir_cron_mention_index", raise_if_not_found=False)
            if cron:
                cron._trigger()
        return remaining

    @api.model
    def _cron_mention_index(self, batch_size=5000):
        """Batched cron: index the records created before the index existed.

        One batch per call; ``ir.cron`` calls again (and commits) while
        ``_notify_progress`` reports work remaining.
        """
        # modules installed since the last run may bring new columns to
        # index: they are indexed at their installation (never here: CREATE
        # INDEX would lock a busy table, and CONCURRENTLY waits for the
        # cron's own transaction)
        missing = [spec[0] for spec in self.env["gdpr.personal.data"]._gdpr_index_specs()]
        if missing:
            _logger.info("gdpr.mention: lookup columns without an index: %s", ", ".join(missing))
        done, remaining = self._gdpr_backfill_batch(batch_size)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        _logger.info("gdpr.mention: indexed %s records, %s remaining", done, remaining)
