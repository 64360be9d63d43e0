# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Retention policies (GDPR art. 5(1)(e)): archive, anonymize or delete what
is kept past its duration, from a reference date such as the last
interaction coming from the person.

The engine (:meth:`GdprRetentionPolicy._gdpr_run`) works in batches: each
batch is claimed with ``SELECT ... FOR UPDATE SKIP LOCKED`` (two workers, or
a cron run and a DPO's "Run now", never process the same record), filtered
from legal holds and restrictions (skipped and counted), processed with set
based SQL, and committed with the run's counters when the caller allows
commits (the cron). A run killed between two batches keeps what was
committed; the next run finds only what is still due.
"""

import ast
import logging
import time

import psycopg2.errors
from dateutil.relativedelta import relativedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import SQL

_logger = logging.getLogger(__name__)

BATCH_SIZE = 1000
# batches one cron call processes before it reports progress and lets the
# cron framework call it again (Odoo calls a job up to 10 times a run)
CRON_MAX_BATCHES = 20
# batches a "Run now" processes in the DPO's request; the cron does the rest
MANUAL_MAX_BATCHES = 10
# upper bounds of a duration, per unit (100 years)
MAX_DURATION = {"days": 36500, "months": 1200, "years": 100}
# a claim that meets a row another transaction just changed is retried
CLAIM_RETRIES = 3

ACTIONS = [
    ("archive", "Archive"),
    ("anonymize", "Anonymize"),
    ("delete", "Delete"),
    ("withdraw", "Withdraw consents"),
]


class GdprRetentionPolicy(models.Model):
    _name = "gdpr.retention.policy"
    _description = "Retention Policy"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True, tracking=True)
    company_id = fields.Many2one(
        "res.company",
        string="Company",
        default=lambda self: self.env.company,
        tracking=True,
        help="Only the records of this company (and those without company) are concerned. "
        "Leave empty for every company.",
    )
    model_id = fields.Many2one(
        "ir.model",
        string="Model",
        required=True,
        ondelete="cascade",
        domain=[("transient", "=", False), ("abstract", "=", False)],
        tracking=True,
    )
    model_name = fields.Char(related="model_id.model", string="Model Name", store=True)
    domain = fields.Char(
        string="Records",
        default="[]",
        tracking=True,
        help="Which records of the model the policy applies to.",
    )
    date_field_id = fields.Many2one(
        "ir.model.fields",
        string="Reference Date",
        required=True,
        ondelete="cascade",
        domain="[('model_id', '=', model_id), ('ttype', 'in', ('date', 'datetime')), ('store', '=', True)]",
        tracking=True,
        help="The duration counts from this date (for prospects, the CNIL counts from the last "
        "interaction coming from the person). Records without a date are never due.",
    )
    duration = fields.Integer(required=True, default=3, tracking=True)
    duration_unit = fields.Selection(
        [("days", "Days"), ("months", "Months"), ("years", "Years")],
        required=True,
        default="years",
        tracking=True,
    )
    action = fields.Selection(ACTIONS, required=True, default="anonymize", tracking=True)
    purpose_ids = fields.Many2many(
        "gdpr.purpose",
        string="Purposes to Withdraw",
        help="With the action 'Withdraw consents': the purposes whose given consents are withdrawn.",
    )
    mode = fields.Selection(
        [("review", "Review"), ("automatic", "Automatic")],
        required=True,
        default="review",
        tracking=True,
        help="Review: the daily job lists what is due and notifies the responsible, who "
        "checks the records and runs the policy. Automatic: the daily job applies it.",
    )
    responsible_id = fields.Many2one(
        "res.users",
        string="Responsible",
        default=lambda self: self.env.user,
        domain=[("share", "=", False)],
        help="Notified when records are due in review mode.",
    )
    last_run_date = fields.Datetime(
        compute="_compute_last_run_date",
        help="When the policy last ran (read from its runs: runs never write the policy, so that "
        "two of them can end at once).",
    )
    due_count = fields.Integer(string="Records Past Due", compute="_compute_due_count")
    run_ids = fields.One2many("gdpr.retention.run", "policy_id", string="Runs", readonly=True)
    run_count = fields.Integer(compute="_compute_run_count")
    description = fields.Text(help="Why these records are kept this long (legal basis, reference).")

    # ------------------------------------------------------------------
    # Validation, at save time
    # ------------------------------------------------------------------
    @api.constrains("model_id", "domain", "date_field_id", "duration", "duration_unit", "action", "purpose_ids")
    def _check_policy(self):
        for policy in self:
            policy._gdpr_check()

    def _gdpr_check(self):
        self.ensure_one()
        _ = self.env._
        model = self.env.get(self.model_name) if self.model_name else None
        if model is None:
            raise ValidationError(_("The model of the retention policy '%(name)s' is not installed.", name=self.name))
        if not self._gdpr_has_personal_data(model):
            raise ValidationError(
                _(
                    "The model '%(model)s' holds no personal data: a retention policy applies to contacts, "
                    "leads, messages or another model that identifies a person.",
                    model=self.model_id.name,
                )
            )
        if self.date_field_id.model != self.model_name or self.date_field_id.ttype not in ("date", "datetime"):
            raise ValidationError(
                _(
                    "The reference date must be a date or date-time field of '%(model)s'; " "'%(field)s' is not.",
                    model=self.model_id.name,
                    field=self.date_field_id.field_description or "",
                )
            )
        if not self.date_field_id.store:
            raise ValidationError(
                _(
                    "The reference date '%(field)s' is not stored: choose a stored date.",
                    field=self.date_field_id.field_description,
                )
            )
        limit = MAX_DURATION[self.duration_unit]
        if not 0 < self.duration <= limit:
            raise ValidationError(
                _(
                    "The duration must be between 1 and %(limit)s %(unit)s.",
                    limit=limit,
                    unit=dict(self._fields["duration_unit"]._description_selection(self.env))[self.duration_unit],
                )
            )
        self._gdpr_parse_domain(model)
        if self.action == "archive" and "active" not in model._fields:
            raise ValidationError(
                _("The records of '%(model)s' cannot be archived: choose another action.", model=self.model_id.name)
            )
        if self.action == "anonymize" and "gdpr_anonymized_date" not in model._fields:
            raise ValidationError(
                _(
                    "Only contacts, leads and other data subjects can be anonymized; for the records of "
                    "'%(model)s', choose Archive or Delete.",
                    model=self.model_id.name,
                )
            )
        if self.action == "withdraw":
            if self.model_name != "res.partner":
                raise ValidationError(_("Consents can be withdrawn by a policy on contacts only."))
            if not self.purpose_ids:
                raise ValidationError(_("Choose the purposes whose consents the policy withdraws."))

    @api.model
    def _gdpr_has_personal_data(self, model):
        if "gdpr_last_interaction_date" in model._fields:
            return True
        return model._name in self.env["gdpr.personal.data"]._gdpr_discover()

    def _gdpr_parse_domain(self, model=None):
        """The policy's domain, parsed and checked against the model: a clear
        ValidationError when it does not parse or names unknown fields."""
        self.ensure_one()
        model = model if model is not None else self.env[self.model_name]
        _ = self.env._
        try:
            domain = ast.literal_eval((self.domain or "[]").strip() or "[]")
        except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as error:
            raise ValidationError(
                _("The records filter of '%(name)s' is not a valid domain: %(error)s", name=self.name, error=error)
            ) from error
        if not isinstance(domain, list | tuple):
            raise ValidationError(_("The records filter of '%(name)s' must be a list of conditions.", name=self.name))
        try:
            domain = expression.normalize_domain(list(domain))
            model.sudo().with_context(active_test=False)._search(domain)
        except (ValueError, TypeError, KeyError, AssertionError, IndexError, UserError) as error:
            raise ValidationError(
                _(
                    "The records filter of '%(name)s' does not apply to '%(model)s': %(error)s",
                    name=self.name,
                    model=self.model_id.name,
                    error=error,
                )
            ) from error
        return domain

    @api.onchange("model_id")
    def _onchange_model_id(self):
        if self.date_field_id and self.date_field_id.model_id != self.model_id:
            self.date_field_id = False
        if self.model_id and not self.date_field_id:
            self.date_field_id = self.env["ir.model.fields"]._get(self.model_name, "gdpr_last_interaction_date")

    @api.onchange("mode")
    def _onchange_mode(self):
        if self.mode != "automatic" or not self._origin or self._origin.mode == "automatic" or not self.model_id:
            return None
        count = self._origin._gdpr_due_count()
        action = dict(self._fields["action"]._description_selection(self.env))[self.action]
        return {
            "warning": {
                "title": self.env._("Automatic retention"),
                "message": self.env._(
                    "Once saved, the next daily run will apply '%(action)s' to %(count)s records "
                    "past due now, without review.",
                    action=action,
                    count=count,
                ),
            }
        }

    # ------------------------------------------------------------------
    # What is due
    # ------------------------------------------------------------------
    def _gdpr_cutoff(self):
        self.ensure_one()
        cutoff = fields.Datetime.now() - relativedelta(**{self.duration_unit: self.duration})
        return cutoff.date() if self.date_field_id.ttype == "date" else cutoff

    def _gdpr_due_domain(self, for_client=False):
        """The domain of the records past due (not yet processed).

        :param for_client: a domain an action can send to the web client
            (dates as strings, ids rather than subqueries)
        """
        self.ensure_one()
        model = self.env[self.model_name]
        cutoff = self._gdpr_cutoff()
        if for_client:
            cutoff = (
                fields.Date.to_string(cutoff)
                if self.date_field_id.ttype == "date"
                else fields.Datetime.to_string(cutoff)
            )
        parts = [self._gdpr_parse_domain(model), [(self.date_field_id.name, "<", cutoff)]]
        if self.company_id and "company_id" in model._fields and model._fields["company_id"].store:
            parts.append([("company_id", "in", [self.company_id.id, False])])
        if self.action == "archive":
            parts.append([("active", "=", True)])
        if self.action == "anonymize":
            parts.append([("gdpr_anonymized_date", "=", False)])
        if self.action == "withdraw":
            consents = (
                self.env["gdpr.consent"]
                .sudo()
                ._search([("state", "=", "given"), ("purpose_id", "in", self.purpose_ids.ids)])
            )
            if for_client:
                self.env.cr.execute(SQL("SELECT DISTINCT partner_id FROM (%s) c", consents.select("partner_id")))
                parts.append([("id", "in", [row[0] for row in self.env.cr.fetchall() if row[0]])])
            else:
                parts.append([("id", "in", consents.subselect("partner_id"))])
        return expression.AND(parts)

    def _gdpr_due_model(self):
        return self.env[self.model_name].sudo().with_context(active_test=False)

    def _gdpr_due_count(self):
        self.ensure_one()
        return self._gdpr_due_model().search_count(self._gdpr_due_domain())

    def _compute_due_count(self):
        for policy in self:
            try:
                policy.due_count = policy._gdpr_due_count() if policy.model_name else 0
            except ValidationError:
                policy.due_count = 0

    def _compute_last_run_date(self):
        dates = dict(
            self.env["gdpr.retention.run"]
            .sudo()
            ._read_group([("policy_id", "in", self.ids)], ["policy_id"], ["create_date:max"])
        )
        for policy in self:
            policy.last_run_date = dates.get(policy, False)

    def _compute_run_count(self):
        counts = dict(
            self.env["gdpr.retention.run"]._read_group([("policy_id", "in", self.ids)], ["policy_id"], ["__count"])
        )
        for policy in self:
            policy.run_count = counts.get(policy, 0)

    # ------------------------------------------------------------------
    # Buttons
    # ------------------------------------------------------------------
    def action_preview(self):
        """Open the records the policy would process now, with their count."""
        self.ensure_one()
        count = self._gdpr_due_count()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("%(policy)s: %(count)s records past due", policy=self.name, count=count),
            "res_model": self.model_name,
            "view_mode": "list,form",
            "domain": self._gdpr_due_domain(for_client=True),
            "context": {"active_test": False, "create": False},
            "target": "current",
        }

    def action_run(self):
        """Apply the policy now (the DPO's confirmation in review mode). Up to
        ``MANUAL_MAX_BATCHES`` batches in this request; the daily job is
        triggered for what remains."""
        self._gdpr_check_dpo()
        runs = self.env["gdpr.retention.run"]
        remaining = 0
        for policy in self:
            run = policy._gdpr_run(trigger="manual", max_batches=MANUAL_MAX_BATCHES, commit=False)
            runs |= run
            remaining += run.remaining_count
        if remaining:
            self.env.ref("gdpr_crm.ir_cron_retention")._trigger()
        message = self.env._(
            "%(done)s records processed, %(skipped)s skipped (legal hold or restriction).",
            done=sum(runs.mapped("processed_count")),
            skipped=sum(runs.mapped("skipped_count")),
        )
        if remaining:
            message += " " + self.env._(
                "%(remaining)s records remain: the retention job processes them in the background.",
                remaining=remaining,
            )
        return {
            "type": "ir.actions.client",
            "tag": "display_notification",
            "params": {
                "title": self.env._("Retention policy applied"),
                "message": message,
                "type": "success",
                "next": {"type": "ir.actions.act_window_close"},
            },
        }

    def action_view_runs(self):
        self.ensure_one()
        action = self.env["ir.actions.act_window"]._for_xml_id("gdpr_crm.gdpr_retention_run_action")
        action["domain"] = [("policy_id", "=", self.id)]
        return action

    def _gdpr_check_dpo(self):
        if not self.env.su and not self.env.user.has_group("gdpr_crm.group_gdpr_dpo"):
            raise UserError(self.env._("Only the data protection officer can apply a retention policy."))

    # ------------------------------------------------------------------
    # The engine
    # ------------------------------------------------------------------
    def _gdpr_claim(self, model, domain, after_id, batch_size):
        """Lock and return up to ``batch_size`` ids past due after ``after_id``,
        skipping the rows another transaction holds."""
        query = model._search(expression.AND([domain, [("id", ">", after_id)]]), order="id", limit=batch_size)
        self.env.cr.execute(
            SQL(
                "%s FOR UPDATE OF %s SKIP LOCKED",
                query.select(SQL.identifier(model._table, "id")),
                SQL.identifier(model._table),
            )
        )
        return [row[0] for row in self.env.cr.fetchall()]

    def _gdpr_run(self, trigger="cron", batch_size=BATCH_SIZE, max_batches=None, commit=False):
        """Apply the policy to what is past due, batch by batch, and return the
        run summary (``gdpr.retention.run``).

        :param commit: commit after each batch (the cron); without it, the
            whole run is the caller's transaction
        :param max_batches: stop after this many batches (the rest is left
            for the next run, ``remaining_count`` says how much)
        """
        self.ensure_one()
        policy = self.sudo()
        Run = self.env["gdpr.retention.run"].sudo()
        model = policy._gdpr_due_model()
        domain = policy._gdpr_due_domain()
        started = time.monotonic()
        run = Run.create(
            {
                "policy_id": policy.id,
                "action": policy.action,
                "trigger": trigger,
                "user_id": self.env.user.id,
                "state": "running",
            }
        )
        if commit:
            self.env.cr.commit()
        after_id = 0
        batches = 0
        exhausted = False
        counts = {"processed": 0, "held": 0, "restricted": 0, "failed": 0}
        while max_batches is None or batches < max_batches:
            ids = policy._gdpr_claim_retrying(model, domain, after_id, batch_size, commit)
            if not ids:
                exhausted = True
                break
            after_id = ids[-1]
            batch_counts = policy._gdpr_process_batch(model.browse(ids))
            for key, value in batch_counts.items():
                counts[key] += value
            batches += 1
            run.write(
                {
                    "batch_count": batches,
                    "processed_count": counts["processed"],
                    "skipped_hold_count": counts["held"],
                    "skipped_restricted_count": counts["restricted"],
                    "failed_count": counts["failed"],
                    "duration": time.monotonic() - started,
                }
            )
            if commit:
                self.env.cr.commit()
        remaining = 0 if exhausted else model.search_count(expression.AND([domain, [("id", ">", after_id)]]))
        policy._gdpr_finish_run(run, remaining, time.monotonic() - started, counts["processed"], commit)
        return run

    def _gdpr_finish_run(self, run, remaining, duration, processed, commit):
        """Close the run: its state and the audit entry. Two runs ending
        together both extend the audit chain: with commits, a serialization
        failure is retried on a fresh snapshot."""
        for attempt in range(CLAIM_RETRIES):
            try:
                run.write(
                    {"state": "partial" if remaining else "done", "remaining_count": remaining, "duration": duration}
                )
                self.env["gdpr.audit.log"]._gdpr_log(
                    "retention", model=self.model_name, record_count=processed, description=run._gdpr_summary()
                )
                if commit:
                    self.env.cr.commit()
                return
            except psycopg2.errors.SerializationFailure:
                if not commit or attempt == CLAIM_RETRIES - 1:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()

    def _gdpr_claim_retrying(self, model, domain, after_id, batch_size, commit):
        for attempt in range(CLAIM_RETRIES):
            try:
                with self.env.cr.savepoint():
                    return self._gdpr_claim(model, domain, after_id, batch_size)
            except psycopg2.errors.SerializationFailure:
                # a row of the batch was changed by a transaction that committed
                # after ours began (REPEATABLE READ): start a new snapshot
                if not commit or attempt == CLAIM_RETRIES - 1:
                    raise
                self.env.cr.rollback()
                self.env.invalidate_all()
        return []

    def _gdpr_process_batch(self, records):
        """Apply the action to the claimed ``records`` but the held and
        restricted ones; return the counts."""
        counts = {"processed": 0, "held": 0, "restricted": 0, "failed": 0}
        if "gdpr_last_interaction_date" in records._fields:
            held = set(records._gdpr_legal_hold_reasons())
            restricted = set(records._gdpr_restricted_records().ids) - held
            counts["held"], counts["restricted"] = len(held), len(restricted)
            records = records.browse([rid for rid in records.ids if rid not in held and rid not in restricted])
        if not records:
            return counts
        action = self.action
        if action == "archive":
            # a contact of a user is archived with its user, not by retention
            archivable = self.env["gdpr.anonymizer"]._gdpr_anonymizable(records)
            counts["processed"] = self._gdpr_archive(archivable) if archivable else 0
            counts["failed"] = len(records) - len(archivable)
        elif action == "anonymize":
            done = self.env["gdpr.anonymizer"]._gdpr_anonymize(records)
            counts["processed"] = len(done)
            counts["failed"] = len(records) - len(done)
        elif action == "delete":
            counts["processed"], counts["failed"] = self._gdpr_delete(records)
        elif action == "withdraw":
            counts["processed"] = self._gdpr_withdraw(records)
        return counts

    def _gdpr_archive(self, records):
        """Archive ``records`` with one UPDATE (no per-record ORM write), then
        let the ORM recompute what depends on ``active``."""
        now = fields.Datetime.now()
        self.env.flush_all()
        table = SQL.identifier(records._table)
        if records._log_access:
            self.env.cr.execute(
                SQL(
                    "UPDATE %s SET active = FALSE, write_date = %s, write_uid = %s WHERE id = ANY(%s)",
                    table,
                    now,
                    self.env.uid,
                    records.ids,
                )
            )
        else:
            self.env.cr.execute(SQL("UPDATE %s SET active = FALSE WHERE id = ANY(%s)", table, records.ids))
        records.invalidate_recordset()
        records.modified(["active"])
        records.flush_recordset()
        self.env.flush_all()
        return len(records)

    def _gdpr_delete(self, records):
        """Delete ``records`` (through the ORM: cascades, chatter, files);
        the records a rule keeps (a contact with consents kept as proof...)
        are counted as failed, one by one, the rest of the batch is deleted."""
        try:
            with self.env.cr.savepoint():
                count = len(records)
                records.unlink()
                return count, 0
        except (UserError, ValidationError, psycopg2.IntegrityError):
            pass
        done = failed = 0
        for record in records:
            try:
                with self.env.cr.savepoint():
                    record.unlink()
                    done += 1
            except (UserError, ValidationError, psycopg2.IntegrityError):
                failed += 1
        return done, failed

    def _gdpr_withdraw(self, partners):
        consents = (
            self.env["gdpr.consent"]
            .sudo()
            .search(
                [
                    ("partner_id", "in", partners.ids),
                    ("state", "=", "given"),
                    ("purpose_id", "in", self.purpose_ids.ids),
                ]
            )
        )
        if consents:
            consents.action_withdraw(note=self.env._("Retention policy: %(policy)s", policy=self.name))
        return len(set(consents.partner_id.ids))

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_retention(self, batch_size=BATCH_SIZE, max_batches=CRON_MAX_BATCHES):
        """Daily: apply the automatic policies in committed batches, reporting
        progress; list what is due for the policies in review mode and
        notify their responsible. Re-triggers itself while work remains."""
        policies = self.search([])
        done = remaining = 0
        budget = max_batches
        for policy in policies.filtered(lambda p: p.mode == "automatic"):
            if budget <= 0:
                remaining += policy._gdpr_due_count()
                continue
            try:
                policy._gdpr_check()
            except ValidationError as error:
                _logger.info("Retention policy %s skipped: %s", policy.id, error)
                continue
            run = policy._gdpr_run(trigger="cron", batch_size=batch_size, max_batches=budget, commit=True)
            budget -= max(run.batch_count, 1)
            done += run.processed_count
            remaining += run.remaining_count
        for policy in policies.filtered(lambda p: p.mode == "review"):
            policy._gdpr_notify_review()
        self.env["ir.cron"]._notify_progress(done=done, remaining=remaining)
        if remaining:
            self.env.ref("gdpr_crm.ir_cron_retention")._trigger()

    def _gdpr_notify_review(self):
        """Review mode: one open to-do activity for the responsible with the
        number of records due (data_recycle's notification of records to review)."""
        self.ensure_one()
        count = self._gdpr_due_count()
        if not count or not self.responsible_id:
            return
        summary = self.env._("%(count)s records past due to review", count=count)
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        existing = self.activity_ids.filtered(lambda a: a.activity_type_id == activity_type)
        if existing:
            existing.summary = summary
            return
        self.activity_schedule(
            "mail.mail_activity_data_todo",
            summary=summary,
            note=self.env._(
                "Open the policy, check the records with 'Preview', then apply it with 'Run now' "
                "or switch it to automatic."
            ),
            user_id=self.responsible_id.id,
        )
