# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
from collections import defaultdict

from markupsafe import Markup, escape

from odoo import _, api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, create_index

from ..lib import sensitive

_logger = logging.getLogger(__name__)

WATERMARK_PARAM = "gdpr_crm.sensitive_scan_last_id.%s"
#: the guidance page the warnings link to (the charter's page on free text)
GUIDANCE_URL = "/odoo/action-gdpr_crm.gdpr_sensitive_guidance_action"
#: field types whose text is scanned (the mention sources also hold phone and email fields)
TEXT_TYPES = ("text", "html")
TEXT_CHAR_FIELDS = ("subject", "summary")


class GdprSensitiveFinding(models.Model):
    """Special-category data (art. 9, 10) or an identifier found in free text.

    Found by the daily cron ``gdpr_crm.ir_cron_sensitive_scan`` in the texts
    of ``gdpr.mention._gdpr_mention_sources()`` (contact notes, lead
    descriptions, chatter messages, activity notes, and whatever free text
    the registry adds). The scan is incremental through the mention index's
    own change tracking: records created since the last scan are read from a
    per-model watermark (by id), records whose text was rewritten are queued
    by ``gdpr.mention._gdpr_on_write`` in ``gdpr.sensitive.queue``. A re-run
    with nothing new reads nothing.

    The DPO redacts a finding (its words are replaced in the source record,
    the change is logged in the audit log) or dismisses it: a dismissed
    finding is not raised again for the same words in the same field.
    """

    _name = "gdpr.sensitive.finding"
    _description = "Sensitive Data Finding"
    _order = "create_date desc, id desc"
    _rec_name = "category"

    res_model = fields.Char(string="Model", required=True, readonly=True, index=True)
    res_id = fields.Many2oneReference(string="Record ID", model_field="res_model", required=True, readonly=True)
    res_name = fields.Char(string="Record", compute="_compute_res_name")
    field_name = fields.Char(string="Field", required=True, readonly=True)
    field_description = fields.Char(string="Field Label", compute="_compute_res_name")
    category = fields.Selection(
        [
            ("health", "Health"),
            ("ethnic_origin", "Racial or ethnic origin"),
            ("political", "Political opinions"),
            ("religion", "Religious or philosophical beliefs"),
            ("trade_union", "Trade-union membership"),
            ("genetic", "Genetic data"),
            ("biometric", "Biometric data"),
            ("sex_life", "Sex life or sexual orientation"),
            ("criminal", "Criminal offences or convictions"),
            ("nir", "French social security number (NIR)"),
            ("iban", "Bank account number (IBAN)"),
            ("card", "Payment card number"),
        ],
        required=True,
        readonly=True,
    )
    confidence = fields.Float(readonly=True, digits=(3, 2))
    excerpt = fields.Char(readonly=True, help="The text around the finding, the sensitive words masked.")
    fingerprint = fields.Char(
        readonly=True,
        help="Keyed on the category and the words found (case, accents and markup ignored): "
        "a dismissed finding is not raised again for the same words.",
    )
    state = fields.Selection(
        [("new", "New"), ("redacted", "Redacted"), ("dismissed", "Dismissed")],
        default="new",
        required=True,
        readonly=True,
        index=True,
    )
    reviewer_id = fields.Many2one("res.users", string="Reviewer", readonly=True)
    review_date = fields.Datetime(readonly=True)

    def init(self):
        create_index(
            self.env.cr,
            "gdpr_sensitive_finding_record_idx",
            self._table,
            ["res_model", "res_id", "field_name"],
        )

    @api.depends("res_model", "res_id", "field_name")
    def _compute_res_name(self):
        by_model = defaultdict(list)
        for finding in self:
            by_model[finding.res_model].append(finding)
        for model_name, findings in by_model.items():
            model = self.env.get(model_name)
            if model is None:
                for finding in findings:
                    finding.res_name = finding.field_description = False
                continue
            records = model.sudo().browse([f.res_id for f in findings]).exists()
            names = dict(zip(records.ids, records.mapped("display_name"), strict=True))
            for finding in findings:
                finding.res_name = names.get(finding.res_id) or _(
                    "%(model)s #%(id)s", model=model_name, id=finding.res_id
                )
                field = model._fields.get(finding.field_name)
                finding.field_description = field.get_description(self.env)["string"] if field else finding.field_name

    # ------------------------------------------------------------------
    # Sources
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_scan_sources(self):
        """``{model: (text fields)}``: the free-text fields of the mention sources."""
        sources = {}
        for model_name, fnames in self.env["gdpr.mention"]._gdpr_mention_sources().items():
            model = self.env[model_name]
            kept = tuple(
                f
                for f in fnames
                if model._fields[f].type in TEXT_TYPES or (model._fields[f].type == "char" and f in TEXT_CHAR_FIELDS)
            )
            if kept:
                sources[model_name] = kept
        return sources

    # ------------------------------------------------------------------
    # Scanning
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_scan_records(self, model_name, ids):
        """Scan the records ``ids`` of ``model_name``: their findings in state
        ``new`` are replaced; redacted and dismissed ones are kept, and a
        finding whose words were dismissed in that field is not raised again.
        Set-based: one query to read, one to forget, one to insert. Returns
        the number of findings inserted."""
        ids = list(ids)
        fnames = self._gdpr_scan_sources().get(model_name)
        if not ids or not fnames:
            return 0
        model = self.env[model_name]
        model.flush_model(fnames)
        self.flush_model()
        self.env.cr.execute(
            SQL(
                "SELECT id, %s FROM %s WHERE id = ANY(%s)",
                SQL(", ").join(model._field_to_sql(model._table, f) for f in fnames),
                SQL.identifier(model._table),
                ids,
            )
        )
        rows = self.env.cr.fetchall()
        found = []
        for row in rows:
            for fname, value in zip(fnames, row[1:], strict=True):
                if not value:
                    continue
                if isinstance(value, dict):  # a translated field: every language
                    value = "\n".join(v for v in value.values() if v)
                for finding in sensitive.detect(value):
                    found.append((row[0], fname, finding, value))
        self.env.cr.execute(
            SQL(
                "DELETE FROM gdpr_sensitive_finding WHERE res_model = %s AND res_id = ANY(%s) AND state = 'new'",
                model_name,
                ids,
            )
        )
        if not found:
            self.invalidate_model()
            return 0
        self.env.cr.execute(
            SQL(
                """SELECT res_id, field_name, fingerprint FROM gdpr_sensitive_finding
                    WHERE res_model = %s AND res_id = ANY(%s) AND state = 'dismissed'""",
                model_name,
                list({f[0] for f in found}),
            )
        )
        dismissed = set(self.env.cr.fetchall())
        columns = defaultdict(list)
        seen = set()
        for res_id, fname, finding, value in found:
            key = sensitive.fingerprint(finding.category, finding.text)
            if (res_id, fname, key) in dismissed or (res_id, fname, key) in seen:
                continue
            seen.add((res_id, fname, key))
            columns["res_id"].append(res_id)
            columns["field_name"].append(fname)
            columns["category"].append(finding.category)
            columns["confidence"].append(finding.confidence)
            columns["excerpt"].append(sensitive.excerpt(value, finding)[:250])
            columns["fingerprint"].append(key)
        if columns:
            self.env.cr.execute(
                SQL(
                    """INSERT INTO gdpr_sensitive_finding
                           (res_model, res_id, field_name, category, confidence, excerpt, fingerprint, state,
                            create_uid, write_uid, create_date, write_date)
                       SELECT %s, unnest(%s::int[]), unnest(%s::varchar[]), unnest(%s::varchar[]),
                              unnest(%s::float[]), unnest(%s::varchar[]), unnest(%s::varchar[]), 'new',
                              %s, %s, now() at time zone 'UTC', now() at time zone 'UTC'""",
                    model_name,
                    columns["res_id"],
                    columns["field_name"],
                    columns["category"],
                    columns["confidence"],
                    columns["excerpt"],
                    columns["fingerprint"],
                    self.env.uid,
                    self.env.uid,
                )
            )
        self.invalidate_model()
        return len(columns["res_id"])

    @api.model
    def _gdpr_get_watermark(self, model_name):
        """Last id of ``model_name`` scanned; kept like the mention index's
        watermarks (``ir_config_parameter`` read and written in SQL)."""
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
    def _gdpr_scan_batch(self, batch_size=5000):
        """Scan the next ``batch_size`` records to scan of each source: those
        queued because their text changed, then those created since the last
        scan. Returns ``(done, remaining)`` counted in records."""
        done = remaining = 0
        queue = self.env["gdpr.sensitive.queue"]
        for model_name in self._gdpr_scan_sources():
            table = SQL.identifier(self.env[model_name]._table)
            last_id = self._gdpr_get_watermark(model_name)
            # rewritten records (already past the watermark: the others are read below anyway)
            queued = queue._gdpr_pop(model_name, batch_size, below=last_id)
            if queued:
                self._gdpr_scan_records(model_name, queued)
                done += len(queued)
            self.env.cr.execute(SQL("SELECT id FROM %s WHERE id > %s ORDER BY id LIMIT %s", table, last_id, batch_size))
            ids = [row[0] for row in self.env.cr.fetchall()]
            if ids:
                self._gdpr_scan_records(model_name, ids)
                self._gdpr_set_watermark(model_name, ids[-1])
                done += len(ids)
                last_id = ids[-1]
            if len(ids) == batch_size:
                # an estimate from the last id (gaps included): counting the rest of a big table
                # at every batch would cost more than the scan itself
                self.env.cr.execute(SQL("SELECT max(id) FROM %s", table))
                remaining += max(0, (self.env.cr.fetchone()[0] or 0) - last_id)
            remaining += queue._gdpr_count(model_name)
        return done, remaining

    @api.model
    def _cron_sensitive_scan(self, batch_size=5000):
        """Daily cron: one batch per call; ``ir.cron`` calls again (and commits)
        while ``_notify_progress`` reports work remaining."""
        done, remaining = self._gdpr_scan_batch(batch_size)
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        _logger.info("gdpr.sensitive.finding: scanned %s records, %s remaining", done, remaining)

    def action_scan_now(self):
        """Run the scan now (in the cron's worker, batched)."""
        self.env.ref("gdpr_crm.ir_cron_sensitive_scan").sudo()._trigger()
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "type": "info",
                "message": _("The scan has started; new findings appear here as it goes."),
                "sticky": False,
            },
        }

    # ------------------------------------------------------------------
    # Warnings (contact notes, lead descriptions, chatter notes)
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_category_labels(self, categories):
        labels = dict(self._fields["category"]._description_selection(self.env))
        return [labels[c] for c in sensitive.CATEGORIES if c in categories]

    @api.model
    def _gdpr_warning_text(self, categories):
        return self.env._(
            "This text seems to hold %(categories)s. Following the CNIL, free-text fields must only hold "
            "objective, relevant facts needed for the relationship: never health, origins, opinions, beliefs, "
            "union membership, sex life, offences or bank and social security numbers. "
            "Please remove it unless the law allows it.",
            categories=", ".join(self._gdpr_category_labels(categories)),
        )

    @api.model
    def _gdpr_warning_html(self, categories):
        return Markup(
            '<div class="alert alert-warning o_gdpr_sensitive_warning mb-2" role="alert">'
            "<strong>%s</strong> %s "
            '<a href="%s" target="_blank">%s</a></div>'
        ) % (
            self.env._("Sensitive data:"),
            escape(self._gdpr_warning_text(categories)),
            GUIDANCE_URL,
            self.env._("Read the guidance of the data-protection charter"),
        )

    @api.model
    def _gdpr_notify_user(self, user, categories):
        """Non-blocking notification to ``user`` (after a chatter note is posted)."""
        user._bus_send(
            "simple_notification",
            {
                "type": "warning",
                "sticky": True,
                "title": self.env._("Sensitive data in your note"),
                "message": self._gdpr_warning_text(categories) + " " + self.env._("See Privacy > Guidance."),
            },
        )

    # ------------------------------------------------------------------
    # Review
    # ------------------------------------------------------------------
    def _gdpr_check_new(self):
        if any(finding.state != "new" for finding in self):
            raise UserError(_("Only new findings can be redacted or dismissed; this one was already reviewed."))

    def action_dismiss(self):
        """Keep the text: the same words in the same field are not raised again."""
        self._gdpr_check_new()
        self.sudo().write({"state": "dismissed", "reviewer_id": self.env.uid, "review_date": fields.Datetime.now()})
        return True

    def action_redact(self):
        """Replace the words found in the source record by "[redacted]" and log it."""
        self._gdpr_check_new()
        replacement = _("[redacted]")
        for finding in self:
            record = self.env[finding.res_model].sudo().browse(finding.res_id).exists()
            if not record:
                raise UserError(_("The record of this finding no longer exists; dismiss the finding."))
            value = record[finding.field_name] or ""
            spans = [
                (f.start, f.end)
                for f in sensitive.detect(value, categories={finding.category})
                if sensitive.fingerprint(f.category, f.text) == finding.fingerprint
            ]
            if not spans:
                raise UserError(
                    _(
                        "The text of %(record)s changed since the scan and no longer holds what was found; "
                        "dismiss the finding.",
                        record=finding.res_name,
                    )
                )
            redacted = sensitive.redact(value, spans, replacement)
            record.write({finding.field_name: redacted})
            self.env["gdpr.audit.log"]._gdpr_log(
                "erasure",
                records=record,
                description=_(
                    "Sensitive data redacted: %(category)s in field %(field)s (%(count)s occurrence(s)).",
                    category=dict(finding._fields["category"]._description_selection(self.env))[finding.category],
                    field=finding.field_name,
                    count=len(spans),
                ),
            )
        self.sudo().write({"state": "redacted", "reviewer_id": self.env.uid, "review_date": fields.Datetime.now()})
        return True

    def action_open_record(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "res_model": self.res_model,
            "res_id": self.res_id,
            "view_mode": "form",
            "target": "current",
        }
