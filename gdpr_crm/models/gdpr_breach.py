# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.osv import expression
from odoo.tools import format_datetime

BREACH_NATURES = [
    ("confidentiality", "Confidentiality (unauthorised disclosure or access)"),
    ("integrity", "Integrity (unauthorised alteration)"),
    ("availability", "Availability (loss or destruction)"),
]

RISK_LEVELS = [
    ("none", "Unlikely to result in a risk"),
    ("risk", "Risk"),
    ("high", "High risk"),
]

BREACH_STATES = [
    ("draft", "Detected"),
    ("assessed", "Assessed"),
    ("notified", "Notified"),
    ("closed", "Closed"),
]

DEADLINE_STATUSES = [
    ("running", "Running"),
    ("soon", "Less than 24 hours left"),
    ("late", "Deadline passed"),
    ("notified", "Notified on time"),
    ("notified_late", "Notified late"),
    ("not_required", "No notification required"),
]

# GDPR art. 33(1): notify the supervisory authority "not later than 72 hours
# after having become aware of it".
NOTIFICATION_DELAY = timedelta(hours=72)
# Alerts sent to the DPO group before the deadline: (time left, flag field).
DEADLINE_ALERTS = [
    (timedelta(hours=24), "alert_24h_sent"),
    (timedelta(hours=6), "alert_6h_sent"),
    (timedelta(0), "alert_deadline_sent"),
]
# Clocks drift: a detection date a few minutes ahead of the server is fine.
CLOCK_TOLERANCE = timedelta(minutes=5)

CHECKLIST = [
    "gdpr_crm.mail_activity_type_breach_contain",
    "gdpr_crm.mail_activity_type_breach_assess",
    "gdpr_crm.mail_activity_type_breach_notify",
    "gdpr_crm.mail_activity_type_breach_document",
]


class GdprBreach(models.Model):
    """A personal data breach (GDPR art. 33, 34) and the 72-hour clock to
    notify it to the supervisory authority (the CNIL in France).

    Every breach stays documented, even one that needs no notification
    (art. 33(5)): breaches cannot be deleted.
    """

    _name = "gdpr.breach"
    _description = "Personal Data Breach"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_detected desc, id desc"

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default=lambda self: self.env._("New")
    )
    date_detected = fields.Datetime(
        string="Detected On",
        required=True,
        index=True,
        tracking=True,
        default=fields.Datetime.now,
        help="When the company became aware of the breach: the 72-hour clock starts then.",
    )
    date_occurred = fields.Datetime(string="Occurred On", tracking=True, help="When the breach started, if known.")
    date_ended = fields.Datetime(
        string="Ended On", tracking=True, help="When the breach stopped; empty while it goes on."
    )
    nature = fields.Selection(BREACH_NATURES, required=True, default="confidentiality", tracking=True)
    description = fields.Text(help="What happened, how it was discovered, the systems concerned.")
    data_category_ids = fields.Many2many(
        "gdpr.data.category",
        "gdpr_breach_data_category_rel",
        "breach_id",
        "category_id",
        string="Personal Data Concerned",
    )
    special_category = fields.Boolean(string="Special Categories", compute="_compute_special_category", store=True)
    subject_category_ids = fields.Many2many(
        "gdpr.subject.category",
        "gdpr_breach_subject_category_rel",
        "breach_id",
        "category_id",
        string="Data Subjects Concerned",
    )
    subject_count = fields.Integer(
        string="Data Subjects (approx.)",
        tracking=True,
        help="At least the number of affected contacts attached (it follows them); enter a larger estimate "
        "when more people are concerned.",
    )
    record_count = fields.Integer(string="Records (approx.)", tracking=True)
    consequences = fields.Text(string="Likely Consequences")
    measures = fields.Text(
        string="Measures Taken", help="Measures taken or proposed to address the breach and mitigate its effects."
    )
    risk_level = fields.Selection(
        RISK_LEVELS,
        tracking=True,
        help="Unlikely to result in a risk: documented only. Risk: notify the authority within 72 hours. "
        "High risk: notify the authority and inform the data subjects without undue delay.",
    )
    risk_assessment = fields.Text(help="Why this risk level: likelihood and severity for the people concerned.")
    authority_deadline = fields.Datetime(
        string="Authority Deadline",
        compute="_compute_authority_deadline",
        store=True,
        index=True,
        help="72 hours after the detection (GDPR art. 33(1)).",
    )
    authority_notified_at = fields.Datetime(string="Authority Notified On", tracking=True, copy=False)
    authority_reference = fields.Char(
        string="Notification Number", tracking=True, copy=False, help="The number the authority gave the notification."
    )
    late_reason = fields.Text(
        string="Reason for the Delay",
        help="Required when the authority is notified more than 72 hours after the detection (art. 33(1)).",
    )
    notification_required = fields.Boolean(compute="_compute_notification_required")
    subjects_notification_required = fields.Boolean(compute="_compute_notification_required")
    subjects_notified_at = fields.Datetime(string="Data Subjects Informed On", tracking=True, copy=False)
    partner_ids = fields.Many2many(
        "res.partner",
        "gdpr_breach_partner_rel",
        "breach_id",
        "partner_id",
        string="Affected Contacts",
    )
    partner_count = fields.Integer(compute="_compute_partner_count")
    # The notice sent to the data subjects (art. 34(2)), as last sent: written
    # by the DPO in the notice wizard, never copied from the internal facts.
    notice_nature = fields.Text(string="Notice: What Happened", copy=False)
    notice_data = fields.Text(string="Notice: Data Concerned", copy=False)
    notice_consequences = fields.Text(string="Notice: Likely Consequences", copy=False)
    notice_measures = fields.Text(string="Notice: Measures Taken", copy=False)
    notice_advice = fields.Text(string="Notice: What You Can Do", copy=False)
    notice_contact = fields.Text(string="Notice: Contact Point", copy=False)
    notice_lang = fields.Char(string="Notice Language", copy=False)
    deadline_status = fields.Selection(DEADLINE_STATUSES, compute="_compute_deadline_countdown")
    deadline_countdown = fields.Char(string="Time Left", compute="_compute_deadline_countdown")
    user_id = fields.Many2one(
        "res.users", string="Responsible", default=lambda self: self.env.user, tracking=True, index=True
    )
    state = fields.Selection(
        BREACH_STATES, required=True, default="draft", tracking=True, index=True, copy=False, group_expand=True
    )
    alert_24h_sent = fields.Boolean(string="24-Hour Alert Sent", readonly=True, copy=False)
    alert_6h_sent = fields.Boolean(string="6-Hour Alert Sent", readonly=True, copy=False)
    alert_deadline_sent = fields.Boolean(string="Deadline Alert Sent", readonly=True, copy=False)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("date_detected")
    def _compute_authority_deadline(self):
        for breach in self:
            # Datetimes are stored in UTC: 72 hours are 72 real hours, even
            # across a daylight saving time change.
            breach.authority_deadline = breach.date_detected and breach.date_detected + NOTIFICATION_DELAY

    @api.depends("data_category_ids.special_category")
    def _compute_special_category(self):
        for breach in self:
            breach.special_category = any(breach.data_category_ids.mapped("special_category"))

    @api.depends("risk_level")
    def _compute_notification_required(self):
        for breach in self:
            breach.notification_required = breach.risk_level != "none"
            breach.subjects_notification_required = breach.risk_level == "high"

    @api.depends("partner_ids")
    def _compute_partner_count(self):
        for breach in self:
            breach.partner_count = len(breach.partner_ids)

    @api.depends("authority_deadline", "authority_notified_at", "risk_level", "state")
    def _compute_deadline_countdown(self):
        now = fields.Datetime.now()
        for breach in self:
            status, text = breach._gdpr_deadline_status(now)
            breach.deadline_status = status
            breach.deadline_countdown = text

    def _gdpr_deadline_status(self, now):
        """(status, human text) of the 72-hour clock at ``now`` (UTC)."""
        self.ensure_one()
        if self.authority_notified_at:
            if self.authority_deadline and self.authority_notified_at > self.authority_deadline:
                return "notified_late", self.env._("Notified late")
            return "notified", self.env._("Notified on time")
        if self.risk_level == "none":
            return "not_required", self.env._("No notification required")
        if not self.authority_deadline:
            return False, ""
        left = self.authority_deadline - now
        if left > timedelta(0):
            hours, minutes = divmod(int(left.total_seconds()) // 60, 60)
            return (
                "soon" if left <= timedelta(hours=24) else "running",
                self.env._("%(hours)s h %(minutes)02d min left", hours=hours, minutes=minutes),
            )
        hours, minutes = divmod(int(-left.total_seconds()) // 60, 60)
        return "late", self.env._("Late by %(hours)s h %(minutes)02d min", hours=hours, minutes=minutes)

    def _gdpr_label(self, field_name):
        """The label of a selection field's value, in the current language
        (for the mail templates)."""
        self.ensure_one()
        return dict(self._fields[field_name]._description_selection(self.env)).get(self[field_name], "")

    def _gdpr_format_datetime(self, value):
        """A datetime in the responsible's time zone, with the zone's name
        (for the mail templates and messages)."""
        self.ensure_one()
        if not value:
            return ""
        tz = self.user_id.tz or self.env.user.tz or "UTC"
        return "%s (%s)" % (format_datetime(self.env, value, tz=tz, dt_format="medium"), tz)

    # ------------------------------------------------------------------
    # Validation
    # ------------------------------------------------------------------
    @api.constrains(
        "date_detected",
        "date_occurred",
        "date_ended",
        "subject_count",
        "record_count",
        "authority_notified_at",
        "late_reason",
        "subjects_notified_at",
        "risk_level",
        "state",
    )
    def _check_breach(self):
        for breach in self:
            breach._gdpr_check_breach()

    def _gdpr_check_breach(self):
        """Raise a ValidationError saying what is wrong with this breach."""
        self.ensure_one()
        env = self.env
        name = self.name if self.name and self.name != env._("New") else env._("being recorded")
        latest = fields.Datetime.now() + CLOCK_TOLERANCE
        if self.date_detected and self.date_detected > latest:
            raise ValidationError(
                env._(
                    "The breach %(name)s cannot be detected in the future: enter when you became aware of it.",
                    name=name,
                )
            )
        if self.date_occurred and self.date_detected and self.date_occurred > self.date_detected:
            raise ValidationError(
                env._(
                    "The breach %(name)s cannot have occurred after it was detected: check both dates "
                    "(leave the occurrence date empty if it is unknown).",
                    name=name,
                )
            )
        if self.date_ended and self.date_occurred and self.date_ended < self.date_occurred:
            raise ValidationError(env._("The breach %(name)s cannot end before it started.", name=name))
        if self.subject_count < 0 or self.record_count < 0:
            raise ValidationError(
                env._(
                    "The numbers of data subjects and records of the breach %(name)s cannot be negative: "
                    "enter an estimate, or 0 if unknown.",
                    name=name,
                )
            )
        for field_name in ("authority_notified_at", "subjects_notified_at"):
            value = self[field_name]
            if not value:
                continue
            label = self._fields[field_name]._description_string(env)
            if value > latest:
                raise ValidationError(
                    env._("%(field)s of the breach %(name)s cannot be in the future.", field=label, name=name)
                )
            if self.date_detected and value < self.date_detected:
                raise ValidationError(
                    env._("%(field)s of the breach %(name)s cannot be before its detection.", field=label, name=name)
                )
        if (
            self.authority_notified_at
            and self.authority_deadline
            and self.authority_notified_at > self.authority_deadline
            and not (self.late_reason or "").strip()
        ):
            raise ValidationError(
                env._(
                    "The authority was notified of the breach %(name)s more than 72 hours after its detection: "
                    "explain the reasons for the delay in 'Reason for the Delay' (GDPR art. 33(1)).",
                    name=name,
                )
            )
        if self.state != "draft" and not self.risk_level:
            raise ValidationError(
                env._("Assess the risk of the breach %(name)s (its risk level) before going further.", name=name)
            )
        if self.state == "notified" and not self.authority_notified_at:
            raise ValidationError(env._("Enter when the authority was notified of the breach %(name)s.", name=name))
        if self.state == "closed" and self.risk_level in ("risk", "high") and not self.authority_notified_at:
            raise ValidationError(
                env._(
                    "The breach %(name)s is likely to result in a risk: notify the authority before closing it "
                    "(GDPR art. 33).",
                    name=name,
                )
            )
        # Articles 33 and 34 are independent: the authority is notified within
        # 72 hours whether or not the people concerned were informed yet; only
        # closing a high-risk breach waits for them.
        if self.state == "closed" and self.risk_level == "high" and not self.subjects_notified_at:
            raise ValidationError(
                env._(
                    "The breach %(name)s is likely to result in a high risk: inform the data subjects and enter "
                    "when you did (GDPR art. 34) before closing it.",
                    name=name,
                )
            )

    # ------------------------------------------------------------------
    # CRUD
    # ------------------------------------------------------------------
    @api.model_create_multi
    def create(self, vals_list):
        for vals in vals_list:
            # Check before the INSERT, for a clear message and nothing written.
            self.new(vals)._gdpr_check_breach()
        for vals in vals_list:
            if not vals.get("name") or vals["name"] == self.env._("New"):
                company = self.env["res.company"].browse(vals.get("company_id")) or self.env.company
                vals["name"] = self.env["ir.sequence"].with_company(company).next_by_code("gdpr.breach")
        breaches = super().create(vals_list)
        breaches._gdpr_sync_subject_count()
        breaches._gdpr_schedule_checklist()
        for breach in breaches:
            self.env["gdpr.audit.log"]._gdpr_log(
                "breach", records=breach, description="Breach %s recorded" % breach.name
            )
        return breaches

    def write(self, vals):
        old_states = {breach.id: breach.state for breach in self} if "state" in vals else {}
        result = super().write(vals)
        if "partner_ids" in vals or "subject_count" in vals:
            self._gdpr_sync_subject_count()
        for breach in self:
            if old_states and old_states[breach.id] != breach.state:
                self.env["gdpr.audit.log"]._gdpr_log(
                    "breach",
                    records=breach,
                    description="Breach %s: state changed from %s to %s"
                    % (breach.name, old_states[breach.id], breach.state),
                )
                breach._gdpr_close_checklist()
        return result

    def _gdpr_sync_subject_count(self):
        """The number of data subjects is at least the affected contacts attached."""
        for breach in self:
            if breach.subject_count < len(breach.partner_ids):
                super(GdprBreach, breach).write({"subject_count": len(breach.partner_ids)})

    @api.onchange("partner_ids")
    def _onchange_partner_ids(self):
        for breach in self:
            breach.subject_count = max(breach.subject_count, len(breach.partner_ids))

    def unlink(self):  # pylint: disable=method-required-super
        raise UserError(
            self.env._(
                "A personal data breach cannot be deleted: every breach must stay documented, even one that "
                "needs no notification (GDPR art. 33(5)). Close it instead, with the reason in its assessment."
            )
        )

    # ------------------------------------------------------------------
    # Checklist and alerts
    # ------------------------------------------------------------------
    def _gdpr_schedule_checklist(self):
        """The incident checklist (contain, assess, notify, document), as activities."""
        for breach in self:
            detected = fields.Datetime.context_timestamp(breach, breach.date_detected).date()
            deadline = fields.Datetime.context_timestamp(breach, breach.authority_deadline).date()
            user = breach.user_id if breach.user_id.active and not breach.user_id.share else self.env.user
            for xmlid in CHECKLIST:
                activity_type = self.env.ref(xmlid)
                due = deadline if xmlid.endswith(("_notify", "_document")) else detected
                breach.activity_schedule(xmlid, date_deadline=due, user_id=user.id, summary=activity_type.summary)

    def _gdpr_close_checklist(self):
        """Mark done the steps of the checklist that the state reached settles:
        assessing once assessed, notifying once the authority is notified (or
        no notification is required), everything once closed."""
        self.ensure_one()
        env = self.env
        steps = []
        if self.state in ("assessed", "notified", "closed"):
            steps.append(("gdpr_crm.mail_activity_type_breach_assess", env._("Risk assessed.")))
        if self.state == "notified" or (self.state == "closed" and self.authority_notified_at):
            steps.append(("gdpr_crm.mail_activity_type_breach_notify", env._("Authority notified.")))
        elif self.state == "closed":
            steps.append(("gdpr_crm.mail_activity_type_breach_notify", env._("No notification required.")))
        if self.state == "closed":
            steps += [
                ("gdpr_crm.mail_activity_type_breach_contain", env._("Breach closed.")),
                ("gdpr_crm.mail_activity_type_breach_document", env._("Breach closed.")),
            ]
        for xmlid, feedback in steps:
            self.activity_feedback([xmlid], feedback=feedback)

    @api.model
    def _gdpr_domain_awaiting_notification(self):
        """Breaches whose 72-hour clock runs: the authority is still to be
        notified (for the dashboard and the self-audit of other features)."""
        return [
            ("state", "in", ("draft", "assessed")),
            ("authority_notified_at", "=", False),
            "|",
            ("risk_level", "=", False),
            ("risk_level", "!=", "none"),
        ]

    @api.model
    def _gdpr_domain_late(self):
        """Breaches awaiting notification whose deadline has passed."""
        return [*self._gdpr_domain_awaiting_notification(), ("authority_deadline", "<", fields.Datetime.now())]

    def _gdpr_dpo_users(self):
        """The internal users of the DPO group who work in the breach's company."""
        self.ensure_one()
        users = self.env.ref("gdpr_crm.group_gdpr_dpo").sudo().users
        return users.filtered(lambda u: u.active and not u.share and self.company_id in u.company_ids)

    @api.model
    def _cron_breach_deadlines(self):
        """Alert the DPO group 24 h and 6 h before the deadline to notify the
        authority, and when it passes; each alert once."""
        now = fields.Datetime.now()
        # One query for the breaches with an alert due and not sent yet.
        due_domain = expression.OR(
            [[("authority_deadline", "<=", now + delay), (flag, "=", False)] for delay, flag in DEADLINE_ALERTS]
        )
        breaches = self.search(expression.AND([self._gdpr_domain_awaiting_notification(), due_domain]))
        for breach in breaches:
            left = breach.authority_deadline - now
            # The most urgent alert due; the earlier ones are not sent any more.
            due = [flag for delay, flag in DEADLINE_ALERTS if left <= delay]
            breach._gdpr_alert_deadline(due[-1], left)
            breach.write(dict.fromkeys(due, True))

    def _gdpr_alert_deadline(self, flag, left):
        """Tell the DPO group that the deadline of this breach is near or past."""
        self.ensure_one()
        dpo_users = self._gdpr_dpo_users()
        responsible = self.user_id if self.user_id in dpo_users else dpo_users[:1]
        lang = responsible.lang or self.company_id.partner_id.lang or self.env.lang
        breach = self.with_context(lang=lang)
        env = breach.env
        deadline = breach._gdpr_format_datetime(self.authority_deadline)
        if flag == "alert_deadline_sent":
            summary = env._("Breach %(name)s: the 72-hour deadline has passed", name=self.name)
            body = env._(
                "The 72-hour deadline to notify the authority of the breach %(name)s passed on %(deadline)s. "
                "Notify it now and explain the reasons for the delay.",
                name=self.name,
                deadline=deadline,
            )
        else:
            hours = max(int(left.total_seconds() // 3600), 0)
            summary = env._(
                "Breach %(name)s: %(hours)s hours left to notify the authority", name=self.name, hours=hours
            )
            body = env._(
                "The authority must be notified of the breach %(name)s by %(deadline)s (%(hours)s hours left), "
                "unless it is unlikely to result in a risk: assess it and notify it, or record that no "
                "notification is required.",
                name=self.name,
                deadline=deadline,
                hours=hours,
            )
        breach.message_post(
            body=body,
            subject=summary,
            partner_ids=dpo_users.partner_id.ids,
            message_type="notification",
            subtype_xmlid="mail.mt_note",
        )
        if responsible:
            breach.activity_schedule(
                "mail.mail_activity_data_todo",
                date_deadline=fields.Date.context_today(breach.with_user(responsible)),
                summary=summary,
                user_id=responsible.id,
            )

    # ------------------------------------------------------------------
    # Actions
    # ------------------------------------------------------------------
    def action_assess(self):
        for breach in self:
            if breach.state != "draft":
                raise UserError(self.env._("Only a breach just detected can be assessed."))
            if not breach.risk_level:
                raise UserError(
                    self.env._(
                        "Set the risk level of the breach %(name)s first: unlikely to result in a risk, risk or "
                        "high risk.",
                        name=breach.name,
                    )
                )
        self.write({"state": "assessed"})
        return True

    def action_notify_authority(self):
        """Record that the authority was notified (now, unless a date is set)."""
        for breach in self:
            if breach.state not in ("draft", "assessed"):
                raise UserError(self.env._("The breach %(name)s is already notified or closed.", name=breach.name))
            if not breach.risk_level:
                # checked before writing anything
                raise UserError(
                    self.env._(
                        "Assess the risk of the breach %(name)s (its risk level) before going further.",
                        name=breach.name,
                    )
                )
            if breach.risk_level == "none":
                raise UserError(
                    self.env._(
                        "The breach %(name)s is unlikely to result in a risk: it needs no notification. "
                        "Close it, or change its risk level.",
                        name=breach.name,
                    )
                )
            breach.write(
                {
                    "authority_notified_at": breach.authority_notified_at or fields.Datetime.now(),
                    "state": "notified",
                }
            )
        return True

    def action_close(self):
        for breach in self:
            if breach.state == "draft":
                raise UserError(self.env._("Assess the breach %(name)s before closing it.", name=breach.name))
        self.write({"state": "closed"})
        return True

    def action_reopen(self):
        for breach in self.filtered(lambda b: b.state == "closed"):
            breach.state = "notified" if breach.authority_notified_at else "assessed"
        return True

    def action_prepare_authority_notification(self):
        """Open the composer with the notification to the authority (the
        CNIL's fields), to send it or copy it into the authority's form."""
        self.ensure_one()
        template = self.env.ref("gdpr_crm.mail_template_gdpr_breach_authority")
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Notify the Authority"),
            "res_model": "mail.compose.message",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {
                "default_model": self._name,
                "default_res_ids": self.ids,
                "default_template_id": template.id,
                "default_composition_mode": "comment",
                "default_email_layout_xmlid": "mail.mail_notification_light",
                "force_email": True,
            },
        }

    def action_notify_subjects(self):
        """Open the notice to the data subjects (art. 34), to edit and preview
        before it is emailed to the affected contacts."""
        self.ensure_one()
        if not self.partner_ids.filtered("email"):
            raise UserError(
                self.env._(
                    "None of the affected contacts of the breach %(name)s has an email address: add them under "
                    "Affected Contacts, or inform them another way and enter the date in 'Data Subjects "
                    "Informed On'.",
                    name=self.name,
                )
            )
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Notice to the Data Subjects"),
            "res_model": "gdpr.breach.notice",
            "view_mode": "form",
            "views": [(False, "form")],
            "target": "new",
            "context": {"default_breach_id": self.id},
        }

    def _gdpr_send_notice(self, partners):
        """Email the stored notice (``notice_*`` fields) to ``partners``, one
        email each, and record when the data subjects were informed."""
        self.ensure_one()
        template = self.env.ref("gdpr_crm.mail_template_gdpr_breach_subjects")
        partners = partners.filtered("email")
        for partner in partners:
            template.send_mail(self.id, email_values={"recipient_ids": [(6, 0, partner.ids)]})
        without_email = len(self.partner_ids - partners)
        body = self.env._("Breach notice emailed to %(count)s affected contacts.", count=len(partners))
        if without_email:
            body += " " + self.env._(
                "%(count)s contacts were not emailed (no email address, or left out): inform them another way.",
                count=without_email,
            )
        self.message_post(body=body, subtype_xmlid="mail.mt_note")
        if not self.subjects_notified_at:
            self.subjects_notified_at = fields.Datetime.now()
        self.env["gdpr.audit.log"]._gdpr_log(
            "breach",
            records=self,
            record_count=len(partners),
            description="Breach %s: notice emailed to %d affected contacts" % (self.name, len(partners)),
        )
        return True

    def action_view_partners(self):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": self.env._("Affected Contacts"),
            "res_model": "res.partner",
            "view_mode": "list,form",
            "domain": [("id", "in", self.partner_ids.ids)],
        }
