# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import fields, models
from odoo.exceptions import UserError


class GdprUserArchive(models.TransientModel):
    """Archive user accounts found by the access review, with a logged reason."""

    _name = "gdpr.user.archive"
    _description = "Archive Users (Access Review)"

    user_ids = fields.Many2many("res.users", string="Users", required=True)
    reason = fields.Text(
        required=True,
        help="Why these accounts are archived (left the company, unused account, shared login...). "
        "Written to the audit log.",
    )

    def action_archive(self):
        self.ensure_one()
        if not self.env.user.has_group("gdpr_crm.group_gdpr_dpo"):
            raise UserError(self.env._("Only a Data Protection Officer can archive users from the access review."))
        reason = (self.reason or "").strip()
        if not reason:
            raise UserError(self.env._("Give the reason why these users are archived: it is kept in the audit log."))
        users = self.user_ids.filtered("active")
        if not users:
            raise UserError(self.env._("These users are already archived."))
        if self.env.user in users:
            raise UserError(self.env._("You cannot archive your own account."))
        if not self.env.user.has_group("base.group_system"):
            admins = users.filtered(lambda user: user.has_group("base.group_system"))
            if admins:
                raise UserError(
                    self.env._(
                        "Only a settings administrator can archive the administrators %(users)s.",
                        users=", ".join(admins.mapped("name")),
                    )
                )
        # the DPO may not hold the Access Rights group: the checks above and the
        # last-DPO check of res.users stand in for it
        users.sudo().with_context(gdpr_archive_reason=reason).write({"active": False})
        self.env["gdpr.audit.log"]._gdpr_log(
            "access_change",
            records=users,
            description="Access review: archived users [%s]. Reason: %s"
            % (", ".join(str(user_id) for user_id in users.ids), reason),
        )
        return {"type": "ir.actions.act_window_close"}
