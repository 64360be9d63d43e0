# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging
import re
from datetime import timedelta

from lxml import etree
from markupsafe import Markup

from odoo import SUPERUSER_ID, api, fields, models
from odoo.exceptions import AccessDenied, UserError
from odoo.osv import expression
from odoo.tools import SQL, str2bool

from ..lib.validation import bounded_setting

_logger = logging.getLogger(__name__)


class ResUsers(models.Model):
    _inherit = "res.users"

    # ---- audit ----
    # the access review (every user's groups, admin rights, logins) is for the DPO only
    gdpr_last_login = fields.Datetime(
        string="Last Login", compute="_compute_gdpr_access_review", groups="gdpr_crm.group_gdpr_dpo"
    )
    gdpr_days_inactive = fields.Integer(
        string="Days Inactive",
        compute="_compute_gdpr_access_review",
        help="Days since the last login, or since the account was created when it never logged in.",
        groups="gdpr_crm.group_gdpr_dpo",
    )
    gdpr_never_logged_in = fields.Boolean(
        string="Never Logged In",
        compute="_compute_gdpr_access_review",
        search="_search_gdpr_never_logged_in",
        groups="gdpr_crm.group_gdpr_dpo",
    )
    gdpr_inactive = fields.Boolean(
        string="Inactive",
        compute="_compute_gdpr_access_review",
        search="_search_gdpr_inactive",
        help="No login for more than the number of days set in Settings → Privacy.",
        groups="gdpr_crm.group_gdpr_dpo",
    )
    gdpr_shared_login = fields.Boolean(
        string="Shared Login",
        compute="_compute_gdpr_access_review",
        search="_search_gdpr_shared_login",
        help="A generic login (admin, info@, contact@…) or an account used from several IP "
        "addresses in the last 30 days: probably used by several people.",
        groups="gdpr_crm.group_gdpr_dpo",
    )
    gdpr_is_admin = fields.Boolean(
        string="Admin Rights",
        compute="_compute_gdpr_access_review",
        search="_search_gdpr_is_admin",
        help="Settings or Access Rights administrator.",
        groups="gdpr_crm.group_gdpr_dpo",
    )
    gdpr_main_groups = fields.Char(
        string="Main Groups",
        compute="_compute_gdpr_access_review",
        help="The user's groups, without those implied by another one.",
        groups="gdpr_crm.group_gdpr_dpo",
    )
    gdpr_review_reasons = fields.Char(
        string="To Review",
        compute="_compute_gdpr_access_review",
        help="Why the account is listed: inactive, never logged in, shared login, admin rights.",
    )

    GDPR_GENERIC_LOGIN = re.compile(
        r"^(admin|administrat\w*|root|test\w*|demo|info|contact|sales?|vente\w*|commercial|"
        r"support|accueil|office|bureau|team|equipe|shared|generic|user\d*)(@|$)",
        re.IGNORECASE,
    )
    GDPR_SHARED_IP_THRESHOLD = 3
    GDPR_SHARED_IP_DAYS = 30

    # Authentication ------------------------------------------------------
    @api.model
    def _update_last_login(self):
        super()._update_last_login()
        AuditLog = self.env["gdpr.audit.log"]
        if AuditLog._gdpr_logging_enabled():
            AuditLog._gdpr_log(
                "login", model="res.users", res_id=self.env.uid, user=self.env.user, description="Login", code="login"
            )
        # ---- retention: a portal login is an interaction of the person ----
        user = self.env.user
        if user.share and user.partner_id:
            self.env["res.partner"].sudo()._gdpr_touch_interaction(user.partner_id.ids, "login")

    @classmethod
    def _login(cls, db, credential, user_agent_env):
        try:
            return super()._login(db, credential, user_agent_env)
        except AccessDenied:
            cls._gdpr_log_failed_login(credential)
            raise

    @classmethod
    def _gdpr_log_failed_login(cls, credential):
        """Log a failed login in its own transaction (the login's is rolled back).

        The entry names the account when the login exists, never the login
        typed (it may be a mistyped password).
        """
        try:
            with cls.pool.cursor() as cr:
                # an INSERT of its own: it takes no lock, and is sealed after its commit
                env = api.Environment(cr, SUPERUSER_ID, {})
                AuditLog = env["gdpr.audit.log"]
                if not AuditLog._gdpr_logging_enabled():
                    return
                login = (credential or {}).get("login")
                user = env["res.users"].browse()
                if login:
                    user = env["res.users"].with_context(active_test=False).search([("login", "=", login)], limit=1)
                AuditLog._gdpr_log(
                    "login_failed",
                    model="res.users",
                    res_id=user.id,
                    user=user,
                    description="Failed login" if user else "Failed login for an unknown login",
                    code="login_failed" if user else "login_failed_unknown",
                )
        except Exception:
            _logger.warning("gdpr_crm: could not log a failed login", exc_info=True)

    # Group and access changes -------------------------------------------
    @api.model
    def _gdpr_group_keys(self, vals):
        return [key for key in vals if key == "groups_id" or key.startswith(("in_group_", "sel_groups_"))]

    def _gdpr_groups_after(self, vals):
        """Return {user id: effective groups after ``vals``} (implied groups included)."""
        commands = self._remove_reified_groups(dict(vals)).get("groups_id") or []
        Groups = self.env["res.groups"].sudo()
        result = {}
        for user in self.sudo():
            ids = set(user.groups_id.ids)
            for command in commands:
                if isinstance(command, int):
                    ids.add(command)
                    continue
                code = command[0]
                if code in (2, 3):
                    ids.discard(command[1])
                elif code == 4:
                    ids.add(command[1])
                elif code == 5:
                    ids.clear()
                elif code == 6:
                    ids = set(command[2] or [])
            groups = Groups.browse(ids)
            result[user.id] = groups | groups.trans_implied_ids
        return result

    def _gdpr_check_access_change(self, vals):
        """Refuse, before writing, a self-granted DPO role and the loss of the last DPO."""
        dpo_group = self.env.ref("gdpr_crm.group_gdpr_dpo", raise_if_not_found=False)
        if not dpo_group:
            return
        group_keys = self._gdpr_group_keys(vals)
        groups_after = self._gdpr_groups_after(vals) if group_keys else {}
        if group_keys and not self.env.su and self.env.uid in self.ids:
            me = self.env.user.sudo()
            if not me.has_group("gdpr_crm.group_gdpr_dpo") and dpo_group in groups_after[me.id]:
                raise UserError(
                    self.env._(
                        "You cannot make yourself Data Protection Officer: "
                        "ask another administrator to grant you this role."
                    )
                )
        losing = self.browse()
        for user in self.sudo():
            if not (user.active and not user.share and dpo_group in user.groups_id):
                continue
            if ("active" in vals and not vals["active"]) or (group_keys and dpo_group not in groups_after[user.id]):
                losing |= user
        if losing:
            remaining = (
                self.sudo()
                .with_context(active_test=True)
                .search_count(
                    [
                        ("groups_id", "in", dpo_group.ids),
                        ("share", "=", False),
                        ("id", "not in", [*losing.ids, SUPERUSER_ID]),
                    ]
                )
            )
            if not remaining:
                raise UserError(
                    self.env._(
                        "%(users)s is the last active Data Protection Officer: "
                        "give the Data Protection Officer role to another user first.",
                        users=", ".join(losing.mapped("name")),
                    )
                )

    @api.model
    def _gdpr_group_label(self, groups):
        return ", ".join(sorted(groups.mapped("full_name"))) or "-"

    def write(self, vals):
        group_keys = self._gdpr_group_keys(vals)
        if not (group_keys or "active" in vals):
            return super().write(vals)
        self._gdpr_check_access_change(vals)
        before = {user.id: (user.groups_id, user.active) for user in self.sudo()}
        result = super().write(vals)
        AuditLog = self.env["gdpr.audit.log"]
        if AuditLog._gdpr_logging_enabled():
            for user in self.sudo():
                groups, active = before[user.id]
                added, removed = user.groups_id - groups, groups - user.groups_id
                changes = []
                if added:
                    changes.append("groups added: %s" % self._gdpr_group_label(added))
                if removed:
                    changes.append("groups removed: %s" % self._gdpr_group_label(removed))
                if active != user.active:
                    changes.append("reactivated" if user.active else "archived")
                if changes:
                    # written with the transaction's other entries in one statement
                    AuditLog._gdpr_log_deferred(
                        "access_change", records=user, description="User access: " + "; ".join(changes)
                    )
        return result

    @api.model_create_multi
    def create(self, vals_list):
        users = super().create(vals_list)
        AuditLog = self.env["gdpr.audit.log"]
        if AuditLog._gdpr_logging_enabled():
            for user in users.sudo():
                AuditLog._gdpr_log_deferred(
                    "access_change",
                    records=user,
                    description="User created with groups: %s" % self._gdpr_group_label(user.groups_id),
                )
        return users

    def unlink(self):
        self._gdpr_check_access_change({"active": False})
        ids = self.ids
        result = super().unlink()
        AuditLog = self.env["gdpr.audit.log"]
        if AuditLog._gdpr_logging_enabled():
            for user_id in ids:
                AuditLog._gdpr_log_deferred("access_change", records=self.browse(user_id), description="User deleted")
        return result

    # Access review --------------------------------------------------------
    @api.model
    def _gdpr_inactive_days(self):
        value = self.env["ir.config_parameter"].sudo().get_param("gdpr_crm.inactive_user_days", "90")
        return bounded_setting("gdpr_crm.inactive_user_days", value, 90)

    @api.model
    def _gdpr_last_logins(self, user_ids):
        if not user_ids:
            return {}
        self.env.cr.execute(
            "SELECT create_uid, max(create_date) FROM res_users_log WHERE create_uid IN %s GROUP BY create_uid",
            (tuple(user_ids),),
        )
        return dict(self.env.cr.fetchall())

    @api.model
    def _gdpr_multi_ip_login_query(self):
        """Subquery: the users who logged in from several IP addresses lately."""
        since = fields.Datetime.now() - timedelta(days=self.GDPR_SHARED_IP_DAYS)
        return SQL(
            """SELECT user_id FROM gdpr_audit_log
                WHERE event_type = 'login' AND create_date >= %s
                  AND ip_address IS NOT NULL AND user_id IS NOT NULL
                GROUP BY user_id HAVING count(DISTINCT ip_address) >= %s""",
            since,
            self.GDPR_SHARED_IP_THRESHOLD,
        )

    @api.model
    def _gdpr_shared_login_query(self):
        """Subquery: the users whose login looks shared (generic name, or many IPs)."""
        self.flush_model(["login", "share"])
        return SQL(
            "(%s UNION SELECT id FROM res_users WHERE share IS NOT TRUE AND login ~* %s)",
            self._gdpr_multi_ip_login_query(),
            self.GDPR_GENERIC_LOGIN.pattern,
        )

    def _gdpr_is_generic_login(self):
        self.ensure_one()
        return not self.share and bool(self.GDPR_GENERIC_LOGIN.match(self.login or ""))

    @api.depends("groups_id", "login")
    def _compute_gdpr_access_review(self):
        now = fields.Datetime.now()
        threshold = self._gdpr_inactive_days()
        ids = tuple(uid for uid in self.ids if isinstance(uid, int))
        last_logins = self._gdpr_last_logins(ids)
        shared = set()
        if ids:
            # only these users' logins (PostgreSQL pushes the filter below the GROUP BY)
            self.env.cr.execute(
                SQL("SELECT user_id FROM (%s) multi_ip WHERE user_id IN %s", self._gdpr_multi_ip_login_query(), ids)
            )
            shared = {row[0] for row in self.env.cr.fetchall()}
        admin_groups = self.env.ref("base.group_system") | self.env.ref("base.group_erp_manager")
        for user in self:
            last = last_logins.get(user.id)
            reference = last or user.create_date or now
            days = max((now - reference).days, 0)
            user.gdpr_last_login = last
            user.gdpr_days_inactive = days
            user.gdpr_never_logged_in = not last
            user.gdpr_inactive = days > threshold
            user.gdpr_shared_login = user.id in shared or user._gdpr_is_generic_login()
            user.gdpr_is_admin = bool(admin_groups & user.groups_id)
            groups = user.groups_id
            main = groups - groups.implied_ids
            user.gdpr_main_groups = ", ".join(sorted(main.mapped("full_name")))
            user.gdpr_review_reasons = ", ".join(
                label
                for flag, label in (
                    (user.gdpr_never_logged_in, self.env._("Never logged in")),
                    (user.gdpr_inactive and not user.gdpr_never_logged_in, self.env._("Inactive")),
                    (user.gdpr_shared_login, self.env._("Shared login")),
                    (user.gdpr_is_admin, self.env._("Admin rights")),
                )
                if flag
            )

    @api.model
    def _gdpr_bool_search(self, operator, value, ids):
        """Domain of a search on an access review flag; ``ids``: a list, or an SQL subquery."""
        # searching a flag tells as much as reading it: the DPO's only
        self.check_field_access_rights("read", ["gdpr_inactive"])
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on an access review flag."))
        positive = (operator == "=") == bool(value)
        return [("id", "in" if positive else "not in", ids if isinstance(ids, SQL) else list(ids))]

    # The flags below are searched through subqueries that PostgreSQL runs
    # inside the search itself: no list of ids goes through Python.
    def _search_gdpr_never_logged_in(self, operator, value):
        query = SQL(
            "(SELECT id FROM res_users u WHERE NOT EXISTS (SELECT 1 FROM res_users_log l WHERE l.create_uid = u.id))"
        )
        return self._gdpr_bool_search(operator, value, query)

    def _search_gdpr_inactive(self, operator, value):
        limit = fields.Datetime.now() - timedelta(days=self._gdpr_inactive_days() + 1)
        query = SQL(
            """(SELECT u.id FROM res_users u
                 LEFT JOIN (SELECT create_uid, max(create_date) AS last FROM res_users_log GROUP BY create_uid) l
                   ON l.create_uid = u.id
                WHERE COALESCE(l.last, u.create_date) < %s)""",
            limit,
        )
        return self._gdpr_bool_search(operator, value, query)

    def _search_gdpr_shared_login(self, operator, value):
        return self._gdpr_bool_search(operator, value, self._gdpr_shared_login_query())

    def _search_gdpr_is_admin(self, operator, value):
        self.check_field_access_rights("read", ["gdpr_is_admin"])
        admin_groups = self.env.ref("base.group_system") | self.env.ref("base.group_erp_manager")
        positive = (operator == "=") == bool(value)
        return [("groups_id", "in" if positive else "not in", admin_groups.ids)]

    @api.model
    def _gdpr_access_review_users(self):
        """Active internal users that the access review flags."""
        return self.sudo().search(
            [
                ("share", "=", False),
                "|",
                "|",
                ("gdpr_inactive", "=", True),
                ("gdpr_never_logged_in", "=", True),
                ("gdpr_shared_login", "=", True),
            ]
        )

    def action_gdpr_archive(self):
        """Open the wizard that archives these users with a reason."""
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Archive Users"),
            "res_model": "gdpr.user.archive",
            "view_mode": "form",
            "target": "new",
            "context": {"default_user_ids": [(6, 0, self.ids)]},
        }

    @api.model
    def _cron_access_review(self):
        """Weekly: send the DPOs the list of users the access review flags."""
        flagged = self._gdpr_access_review_users()
        dpo_group = self.env.ref("gdpr_crm.group_gdpr_dpo")
        dpos = dpo_group.users.filtered(lambda u: u.active and not u.share and u.email)
        if not flagged or not dpos:
            return False
        mails = self.env["mail.mail"].sudo()
        for lang in set(dpos.mapped("lang")):
            recipients = dpos.filtered(lambda u, lang=lang: u.lang == lang)
            mails |= mails.create(flagged.with_context(lang=lang)._gdpr_access_review_mail_values(recipients))
        return mails

    def _gdpr_access_review_mail_values(self, recipients):
        _ = self.env._
        threshold = self._gdpr_inactive_days()
        rows = Markup()
        for user in self:
            flags = []
            if user.gdpr_inactive:
                flags.append(_("inactive for %(days)s days", days=user.gdpr_days_inactive))
            if user.gdpr_never_logged_in:
                flags.append(_("never logged in"))
            if user.gdpr_shared_login:
                flags.append(_("shared login"))
            if user.gdpr_is_admin:
                flags.append(_("admin rights"))
            rows += Markup("<tr><td>%s</td><td>%s</td><td>%s</td></tr>") % (
                user.name,
                user.gdpr_main_groups or "",
                ", ".join(flags),
            )
        body = Markup(
            "<p>%s</p><table border='1' cellpadding='4' style='border-collapse:collapse'>"
            "<tr><th>%s</th><th>%s</th><th>%s</th></tr>%s</table><p>%s</p>"
        ) % (
            _(
                "%(count)s user account(s) need a review (inactive threshold: %(days)s days).",
                count=len(self),
                days=threshold,
            ),
            _("User"),
            _("Groups"),
            _("Flags"),
            rows,
            _("Archive the accounts no longer needed from Privacy → Audit → Access Review."),
        )
        return {
            "subject": _("Weekly access review: %(count)s user account(s) to check", count=len(self)),
            "body_html": body,
            "recipient_ids": [(6, 0, recipients.partner_id.ids)],
            "auto_delete": True,
        }

    # Perimeter of salespeople -------------------------------------------------
    @api.model
    def _gdpr_perimeter_applies(self):
        """Whether the current user is restricted to their perimeter.

        True when the Settings option is on and the user is a salesperson
        with "Own Documents Only" (neither "All Documents" nor DPO).
        """
        # no early return on env.su: record rules evaluate this domain in sudo mode
        params = self.env["ir.config_parameter"].sudo()
        if not str2bool(params.get_param("gdpr_crm.perimeter_enabled", "False")):
            return False
        user = self.env.user
        return (
            user.has_group("sales_team.group_sale_salesman")
            and not user.has_group("sales_team.group_sale_salesman_all_leads")
            and not user.has_group("gdpr_crm.group_gdpr_dpo")
        )

    @api.model
    def _gdpr_perimeter_team_ids(self):
        """The sales teams of the current user (member or leader), as a subquery.

        The perimeter domains embed it, so that the record rules cost no round
        trip of their own on every search: PostgreSQL reads the teams there.
        """
        return SQL(
            "(SELECT crm_team_id FROM crm_team_member WHERE user_id = %s AND active"
            " UNION SELECT id FROM crm_team WHERE user_id = %s)",
            self.env.uid,
            self.env.uid,
        )

    @api.model
    def _gdpr_lead_perimeter_domain(self):
        """Domain of the leads in the current user's perimeter, None when unrestricted."""
        if not self._gdpr_perimeter_applies():
            return None
        return ["|", ("user_id", "=", self.env.uid), ("team_id", "in", self._gdpr_perimeter_team_ids())]

    @api.model
    def _gdpr_partner_perimeter_domain(self):
        """Domain of the contacts in the current user's perimeter, None when unrestricted.

        What the user was given, never what they chose: the contacts assigned
        to the user or to a member of their teams (or whose company is), the
        contacts they created, the customers of the leads of their perimeter
        that someone else created, plus the companies' and internal users' own
        partners so that Odoo keeps working. What they link themselves (a
        lead's customer, a contact's parent company) must already be in their
        perimeter: see ``gdpr.audit.mixin._gdpr_check_perimeter_links``.
        """
        if not self._gdpr_perimeter_applies():
            return None
        uid = self.env.uid
        team_ids = self._gdpr_perimeter_team_ids()
        member_ids = SQL(
            "(SELECT %s UNION SELECT user_id FROM crm_team_member WHERE active AND crm_team_id IN %s)",
            uid,
            team_ids,
        )
        # the customers of the leads someone else gave them (created by another
        # user): a lead they create themselves admits no customer of its own
        lead_partners = SQL(
            "(SELECT partner_id FROM crm_lead WHERE partner_id IS NOT NULL AND create_uid IS DISTINCT FROM %s"
            " AND (user_id = %s OR team_id IN %s))",
            uid,
            uid,
            team_ids,
        )
        return [
            "|",
            "|",
            "|",
            "|",
            "|",
            ("partner_share", "=", False),
            ("id", "in", SQL("(SELECT partner_id FROM res_company)")),
            ("user_id", "in", member_ids),
            ("create_uid", "=", uid),
            ("commercial_partner_id.user_id", "in", member_ids),
            ("id", "in", lead_partners),
        ]

    @api.model
    def _gdpr_perimeter_search(self, domain, operator, value):
        """Translate a search on ``gdpr_in_perimeter`` given the perimeter ``domain``."""
        if operator not in ("=", "!="):
            raise UserError(self.env._("Unsupported search on the perimeter field."))
        positive = (operator == "=") == bool(value)
        if domain is None:
            return [] if positive else [("id", "=", 0)]
        return domain if positive else ["!", *expression.normalize_domain(domain)]

    # Sensitive free-text fields -------------------------------------------------
    @api.model
    def _gdpr_sensitive_group_ids(self):
        value = self.env["ir.config_parameter"].sudo().get_param("gdpr_crm.sensitive_field_group_ids", "")
        return [int(part) for part in value.split(",") if part.strip().isdigit()]

    @api.model
    def _gdpr_can_read_sensitive(self):
        """Whether the current user may read the sensitive free-text fields."""
        if self.env.su:
            return True
        group_ids = self._gdpr_sensitive_group_ids()
        if not group_ids:
            return True
        return bool(set(group_ids) & set(self.env.user._get_group_ids()))

    @api.model
    def _gdpr_hidden_fields(self, model):
        """The sensitive fields of ``model`` the current user may not see."""
        if self._gdpr_can_read_sensitive():
            return set()
        return set(model._gdpr_sensitive_fields())

    @api.model
    def _gdpr_strip_sensitive_fields(self, model, view):
        """Remove from a ``get_view`` result the sensitive fields the user may not see."""
        hidden = self._gdpr_hidden_fields(model)
        if not hidden:
            return view
        node = etree.fromstring(view["arch"])
        for name in hidden:
            for field_node in node.xpath(f"//field[@name='{name}']"):
                field_node.getparent().remove(field_node)
        view["arch"] = etree.tostring(node, encoding="unicode")
        return view

    # Password policy and two-factor authentication ------------------------
    @api.model
    def _gdpr_set_password_minlength(self, minlength=12):
        """On install: raise auth_password_policy's minimum length to ``minlength``."""
        params = self.env["ir.config_parameter"].sudo()
        try:
            current = int(params.get_param("auth_password_policy.minlength", 0) or 0)
        except ValueError:
            current = 0
        if current < minlength:
            params.set_param("auth_password_policy.minlength", minlength)

    @api.model
    def _gdpr_totp_share(self):
        """Share of active internal users with two-factor authentication.

        :return: dict ``available`` (auth_totp installed), ``users``,
            ``with_2fa`` and ``percent`` (0 when auth_totp is not installed).
        """
        self.env.flush_all()
        available = "totp_secret" in self._fields
        if available:
            self.env.cr.execute(
                "SELECT count(*), count(*) FILTER (WHERE totp_secret IS NOT NULL AND totp_secret != '') "
                "FROM res_users WHERE active AND share IS NOT TRUE AND id != %s",
                (SUPERUSER_ID,),
            )
        else:
            self.env.cr.execute(
                "SELECT count(*), 0 FROM res_users WHERE active AND share IS NOT TRUE AND id != %s", (SUPERUSER_ID,)
            )
        users, with_2fa = self.env.cr.fetchone()
        percent = round(100.0 * with_2fa / users, 1) if users and available else 0.0
        return {"available": available, "users": users, "with_2fa": with_2fa, "percent": percent}
