# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models

from .gdpr_retention_policy import ACTIONS


class GdprRetentionRun(models.Model):
    """The summary of one run of a retention policy (counts, no personal
    data), written batch by batch with the batch it counts, so that a run
    killed midway still says what it committed."""

    _name = "gdpr.retention.run"
    _description = "Retention Run"
    _order = "id desc"
    _rec_name = "policy_id"

    policy_id = fields.Many2one("gdpr.retention.policy", string="Policy", required=True, ondelete="cascade", index=True)
    model_name = fields.Char(related="policy_id.model_name", string="Model")
    action = fields.Selection(ACTIONS, required=True, readonly=True)
    trigger = fields.Selection([("cron", "Scheduled"), ("manual", "Run now")], required=True, readonly=True)
    user_id = fields.Many2one("res.users", string="Run By", readonly=True)
    state = fields.Selection(
        [("running", "Running or interrupted"), ("partial", "Partly done"), ("done", "Done")],
        required=True,
        default="running",
        readonly=True,
        help="Partly done: the run stopped after its share of batches, the next run continues. "
        "A run still 'running' long after it started was interrupted; what it counted was applied.",
    )
    batch_count = fields.Integer(string="Batches", readonly=True)
    processed_count = fields.Integer(string="Processed", readonly=True)
    skipped_hold_count = fields.Integer(string="Skipped (Legal Hold)", readonly=True)
    skipped_restricted_count = fields.Integer(string="Skipped (Restricted)", readonly=True)
    skipped_count = fields.Integer(string="Skipped", compute="_compute_skipped_count", store=True)
    failed_count = fields.Integer(
        string="Not Processed",
        readonly=True,
        help="Records the action could not apply to (a contact with a user account cannot be "
        "anonymized, a contact with consents kept as proof cannot be deleted).",
    )
    remaining_count = fields.Integer(string="Remaining", readonly=True)
    duration = fields.Float(string="Duration (s)", readonly=True, digits=(16, 2))

    @api.depends("skipped_hold_count", "skipped_restricted_count")
    def _compute_skipped_count(self):
        for run in self:
            run.skipped_count = run.skipped_hold_count + run.skipped_restricted_count

    def _gdpr_summary(self):
        """One line for the audit log: policy, action and counts (no personal data)."""
        self.ensure_one()
        return (
            "Retention policy %(policy)s (id %(id)s), %(action)s, %(trigger)s: %(processed)s processed, "
            "%(held)s skipped for a legal hold, %(restricted)s skipped as restricted, %(failed)s not "
            "processed, %(remaining)s remaining, %(duration).1f s"
        ) % {
            "policy": self.policy_id.with_context(lang="en_US").name,
            "id": self.policy_id.id,
            "action": self.action,
            "trigger": self.trigger,
            "processed": self.processed_count,
            "held": self.skipped_hold_count,
            "restricted": self.skipped_restricted_count,
            "failed": self.failed_count,
            "remaining": self.remaining_count,
            "duration": self.duration,
        }
