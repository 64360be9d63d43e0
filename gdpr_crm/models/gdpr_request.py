# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

from dateutil.relativedelta import relativedelta
from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import UserError, ValidationError
from odoo.tools import email_normalize, mute_logger

from ..lib.validation import bounded_setting

REQUEST_TYPES = [
    ("access", "Access"),
    ("rectification", "Rectification"),
    ("erasure", "Erasure"),
    ("restriction", "Restriction"),
    ("portability", "Portability"),
    ("objection", "Objection"),
]

CHANNELS = [
    ("email", "Email"),
    ("web_form", "Web form"),
    ("portal", "Portal"),
    ("phone", "Phone"),
    ("post", "Post"),
    ("in_person", "In person"),
]

STATES = [
    ("new", "New"),
    ("verified", "Identity verified"),
    ("in_progress", "In progress"),
    ("done", "Done"),
    ("rejected", "Rejected"),
]

OPEN_STATES = ("new", "verified", "in_progress")
# Kanban columns shown folded (closed requests), after the open ones.
FOLDED_STATES = ("done", "rejected")
# Changed only by the workflow methods, never by a plain create or write.
WORKFLOW_FIELDS = {"state", "identity_verified", "date_executed", "is_extended"}
# Marks the writes of the workflow's own methods: a dict key no RPC client
# can send (not a string), unlike a context key.
_TRANSITION = object()

# GDPR art. 12(3): one month to answer, which may be extended by two months.
RESPONSE_MONTHS = 1
EXTENSION_MONTHS = 2
# The assignee is reminded this many days before the deadline.
REMINDER_DAYS = 7
DEFAULT_DOWNLOAD_VALIDITY_DAYS = 30
# The response template links to /gdpr/download/<marker>; the marker is
# swapped for a fresh token when the email leaves (mail.mail), so that the
# clear token is only ever in the email sent and the database holds its hash.
DOWNLOAD_TOKEN_MARKER = "__gdpr_download_token__"
MAX_REASON_LENGTH = 10_000


class GdprRequest(models.Model):
    """A data subject rights request (GDPR art. 12 to 22).

    The request is received, the requester's identity is verified, then it is
    processed and answered within one calendar month (extendable once by two
    months). Every transition is written to the privacy audit log.
    """

    _name = "gdpr.request"
    _description = "Data Subject Request"
    _inherit = ["mail.thread", "mail.activity.mixin", "gdpr.token.mixin"]
    _gdpr_token_slots = {"download": ("download_token_hash", "download_expiry")}
    _order = "date_received desc, id desc"
    _mail_post_access = "read"

    name = fields.Char(string="Reference", required=True, readonly=True, copy=False, default="/", index="trigram")
    request_type = fields.Selection(REQUEST_TYPES, string="Type", required=True, tracking=True, index=True)
    partner_id = fields.Many2one(
        "res.partner",
        string="Data Subject",
        index="btree_not_null",
        tracking=True,
        ondelete="set null",
        help="The contact the request is about, when known.",
    )
    lead_id = fields.Many2one(
        "crm.lead",
        string="Lead",
        index="btree_not_null",
        ondelete="set null",
        help="The lead the request was reported from, if any.",
    )
    requester_name = fields.Char(string="Requester Name", tracking=True)
    requester_email = fields.Char(
        string="Requester Email",
        tracking=True,
        help="The address the acknowledgement, the answer and the download link are sent to.",
    )
    lang = fields.Selection(
        selection="_lang_get",
        string="Language",
        help="The language of the emails and files sent to the requester. Left empty, the contact's language "
        "(else the language of whoever records the request).",
    )
    channel = fields.Selection(CHANNELS, required=True, default="email", tracking=True)
    description = fields.Text(string="Details", help="What the requester asks, in their words.")
    date_received = fields.Date(
        string="Received On", required=True, default=fields.Date.context_today, tracking=True, index=True
    )
    date_deadline = fields.Date(
        string="Deadline",
        compute="_compute_date_deadline",
        store=True,
        index=True,
        tracking=True,
        help="One calendar month after reception (GDPR art. 12(3)), two more months when extended.",
    )
    days_left = fields.Integer(compute="_compute_days_left", help="Days until the deadline; negative when overdue.")
    is_extended = fields.Boolean(string="Extended", readonly=True, copy=False)
    extension_reason = fields.Text(readonly=True, copy=False)
    identity_verified = fields.Boolean(readonly=True, copy=False, tracking=True)
    date_verified = fields.Datetime(string="Verified On", readonly=True, copy=False)
    state = fields.Selection(
        STATES,
        required=True,
        default="new",
        readonly=True,
        copy=False,
        tracking=True,
        index=True,
        group_expand=True,  # every column, in the order of the workflow
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assigned To",
        tracking=True,
        index="btree_not_null",
        domain=lambda self: [("groups_id", "in", self.env.ref("gdpr_crm.group_gdpr_dpo").id), ("share", "=", False)],
        help="The DPO in charge of this request.",
    )
    response = fields.Html(help="The answer sent to the requester.")
    rejection_reason = fields.Text(readonly=True, copy=False)
    attachment_ids = fields.Many2many(
        "ir.attachment",
        "gdpr_request_attachment_rel",
        "request_id",
        "attachment_id",
        string="Files Sent",
        copy=False,
        help="The files sent to the requester (exports, letters).",
    )
    date_executed = fields.Datetime(string="Executed On", readonly=True, copy=False)
    date_done = fields.Datetime(string="Closed On", readonly=True, copy=False)
    reminder_sent = fields.Boolean(readonly=True, copy=False)
    escalated = fields.Boolean(readonly=True, copy=False)
    download_token_hash = fields.Char(readonly=True, copy=False, index="btree_not_null", groups="base.group_system")
    download_expiry = fields.Datetime(string="Download Link Expires On", readonly=True, copy=False)
    requester_tz = fields.Char(
        string="Requester Time Zone",
        compute="_compute_requester_tz",
        help="Time zone of the dates shown to the requester (email and download page): the contact's, "
        "else the company's.",
    )
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)
    # ---- erasure, restriction, objection ----
    erasure_child_policy = fields.Selection(
        [("erase", "Erase them too"), ("detach", "Keep them, detached")],
        string="Other Contacts",
        help="What an erasure does with the other people filed under the contact (the employees of a company).",
    )
    erasure_scrub_name_mentions = fields.Boolean(
        string="Scrub Mentions by Name",
        help="Also replace the subject's full name in the notes, messages and descriptions that mention it "
        "(listed in the preview); otherwise only their email and phones are scrubbed there.",
    )
    erasure_deep_check = fields.Boolean(
        string="Deep Residue Check",
        help="After the erasure, also search every text column of the database for the subject (slower).",
    )
    erasure_proof = fields.Text(
        string="Proof of Erasure",
        readonly=True,
        copy=False,
        help="Anonymous proof: per model, what was deleted, anonymized, scrubbed or kept; keyed hashes of the "
        "identifiers; the residue check.",
    )
    erasure_residue_count = fields.Integer(string="Residues Found", readonly=True, copy=False)
    restriction_reason = fields.Text(
        string="Reason for the Restriction",
        help="Why the processing is restricted (GDPR art. 18(1)): accuracy contested, unlawful processing, "
        "data needed for a legal claim, objection pending.",
    )
    notification_log = fields.Text(
        string="Recipients Notified",
        readonly=True,
        copy=False,
        help="GDPR art. 19: the processors and recipients told of the erasure, rectification or restriction, "
        "and when (the emails themselves are not kept).",
    )
    rectification_log = fields.Text(
        string="Rectified Values",
        readonly=True,
        copy=False,
        groups="gdpr_crm.group_gdpr_dpo",
        help="The old and new values of a rectification (GDPR art. 16), kept on the request only.",
    )

    @api.model
    def _lang_get(self):
        return self.env["res.lang"].get_installed()

    # ------------------------------------------------------------------
    # Computes
    # ------------------------------------------------------------------
    @api.depends("date_received", "is_extended")
    def _compute_date_deadline(self):
        for request in self:
            if not request.date_received:
                request.date_deadline = False
                continue
            deadline = request.date_received + relativedelta(months=RESPONSE_MONTHS)
            if request.is_extended:
                deadline += relativedelta(months=EXTENSION_MONTHS)
            request.date_deadline = deadline

    @api.depends("date_deadline")
    @api.depends_context("tz")
    def _compute_days_left(self):
        today = fields.Date.context_today(self)
        for request in self:
            request.days_left = (request.date_deadline - today).days if request.date_deadline else 0

    # ------------------------------------------------------------------
    # Create / write: validate before anything is written
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_validate_vals(self, vals, current=None):
        """Raise a ValidationError saying what is wrong with ``vals``.

        ``current`` is the record being written, whose values complete ``vals``.
        """

        def value(name):
            if name in vals:
                return vals[name]
            return current[name] if current else False

        request_type = value("request_type")
        valid_types = dict(self._fields["request_type"]._description_selection(self.env))
        if not request_type:
            raise ValidationError(self.env._("Choose the type of the request (access, rectification, erasure, etc.)."))
        if request_type not in valid_types:
            raise ValidationError(
                self.env._(
                    "'%(type)s' is not a type of privacy request. Choose one of: %(types)s.",
                    type=request_type,
                    types=", ".join(valid_types.values()),
                )
            )
        channel = value("channel")
        valid_channels = dict(self._fields["channel"]._description_selection(self.env))
        if channel and channel not in valid_channels:
            raise ValidationError(
                self.env._(
                    "'%(channel)s' is not a channel. Choose one of: %(channels)s.",
                    channel=channel,
                    channels=", ".join(valid_channels.values()),
                )
            )
        date_received = value("date_received")
        if date_received and fields.Date.to_date(date_received) > fields.Date.context_today(self):
            raise ValidationError(
                self.env._(
                    "A request cannot be received in the future (%(date)s): enter the date it reached you.",
                    date=date_received,
                )
            )
        partner = value("partner_id")
        email = (value("requester_email") or "").strip()
        if not partner and not email:
            raise ValidationError(
                self.env._("A privacy request needs a data subject: choose a contact or enter the requester's email.")
            )
        if email and not email_normalize(email):
            raise ValidationError(
                self.env._(
                    "'%(email)s' is not a valid email address. Correct the requester's email.",
                    email=email,
                )
            )

    def _gdpr_check_workflow_fields(self, vals, transition=False):
        if WORKFLOW_FIELDS & set(vals) and not transition:
            raise UserError(
                self.env._(
                    "The status, identity verification, execution and extension of a privacy request change only "
                    "through its buttons (Identity verified, Start processing, Execute, Extend, Mark as done, "
                    "Reject), so that every step is checked and logged."
                )
            )

    def _gdpr_write_transition(self, vals):
        return self.write({**vals, _TRANSITION: True})

    @api.model_create_multi
    def create(self, vals_list):
        Partner = self.env["res.partner"]
        for vals in vals_list:
            self._gdpr_check_workflow_fields(vals)
            self._gdpr_validate_vals(vals)
            if vals.get("requester_email"):
                vals["requester_email"] = vals["requester_email"].strip()
            # The form sends every key, empty ones too: fill what was left empty.
            partner = Partner.browse(vals.get("partner_id"))
            if partner:
                if not vals.get("requester_name"):
                    vals["requester_name"] = partner.name
                if not vals.get("requester_email") and partner.email:
                    vals["requester_email"] = partner.email
            if not vals.get("lang"):
                vals["lang"] = partner.lang or self.env.lang or self.env.user.lang
            if not vals.get("name") or vals["name"] == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code("gdpr.request") or "/"
        requests = super().create(vals_list)
        for request in requests:
            request._gdpr_log_event(
                self.env._("Request %(name)s (%(type)s) received.", name=request.name, type=request._gdpr_type_label())
            )
        if not self.env.context.get("gdpr_request_no_acknowledgement"):
            requests.filtered("requester_email")._gdpr_send_template(
                "gdpr_crm.mail_template_gdpr_request_acknowledgement"
            )
        return requests

    @api.model
    def read_group(self, domain, fields, groupby, offset=0, limit=None, orderby=False, lazy=True):
        """Closed requests' columns come folded, after the open ones."""
        result = super().read_group(domain, fields, groupby, offset=offset, limit=limit, orderby=orderby, lazy=lazy)
        first = [groupby] if isinstance(groupby, str) else list(groupby or [])
        if first and first[0] == "state":
            for line in result:
                line["__fold"] = line.get("state") in FOLDED_STATES
        return result

    @api.onchange("partner_id")
    def _onchange_partner_id_requester(self):
        """Show in the form the requester's name, email and language the contact gives."""
        for request in self.filtered("partner_id"):
            partner = request.partner_id
            request.requester_name = request.requester_name or partner.name
            request.requester_email = request.requester_email or partner.email
            request.lang = request.lang or partner.lang

    def write(self, vals):
        vals = dict(vals)
        self._gdpr_check_workflow_fields(vals, transition=vals.pop(_TRANSITION, None) is True)
        if {"request_type", "partner_id", "requester_email", "channel", "date_received"} & set(vals):
            for request in self:
                self._gdpr_validate_vals(vals, current=request)
            if vals.get("requester_email"):
                vals["requester_email"] = vals["requester_email"].strip()
        return super().write(vals)

    @api.ondelete(at_uninstall=False)
    def _unlink_only_new(self):
        if any(request.state != "new" for request in self):
            raise UserError(
                self.env._(
                    "Only new requests can be deleted. A request that was verified or processed is kept as "
                    "evidence: reject it with a reason instead."
                )
            )

    # ------------------------------------------------------------------
    # Helpers
    # ------------------------------------------------------------------
    def _gdpr_type_label(self):
        """The type of this request in words, in the current language (never
        its code inside a sentence)."""
        self.ensure_one()
        return dict(self._fields["request_type"]._description_selection(self.env)).get(
            self.request_type, self.request_type or ""
        )

    def _gdpr_log_event(self, description, event_type="request"):
        """Log a step of this request. Deferred: the entries of a transaction
        (a cron escalating many requests, say) are written in one statement
        at commit, each still tied to its request and chained."""
        self.ensure_one()
        self.env["gdpr.audit.log"]._gdpr_log_deferred(event_type, records=self, description=description)

    def _gdpr_check_state(self, allowed, message):
        """Raise a UserError with ``message`` unless every request is in one of ``allowed`` states.

        ``message`` may use the placeholders ``%(name)s`` and ``%(state)s``.
        """
        labels = dict(self._fields["state"]._description_selection(self.env))
        for request in self:
            if request.state not in allowed:
                raise UserError(message % {"name": request.name, "state": labels[request.state]})

    @api.model
    def _gdpr_dpo_users(self, company=None, named_first=True):
        """The active internal users of the DPO group for ``company``, by id.

        With ``named_first``, when the company names a DPO contact who is one
        of them, only that user is returned, so that the named DPO is not
        drowned out by every settings administrator.
        """
        company = company or self.env.company
        users = (
            self.env.ref("gdpr_crm.group_gdpr_dpo")
            .sudo()
            .users.filtered(lambda u: u.active and not u.share and company in u.company_ids)
            .sorted("id")
        )
        if named_first:
            named = users.filtered(lambda u: u.partner_id == company.gdpr_dpo_partner_id)
            return named or users
        return users

    @api.model
    def _gdpr_count_about(self, records, groupby):
        """``{record id: number of requests}`` about each of ``records``, in one query.

        The stat button of contacts and leads: ``records`` (``res.partner``
        or ``crm.lead``) give the requests about them with
        ``_gdpr_request_domain()``; each group of requests (by ``groupby``)
        counts for the records whose ``_gdpr_request_about(*group)`` is true.
        Counted as superuser: the field itself is for the DPO group.
        """
        counts = dict.fromkeys(records.ids, 0)
        records = records.filtered("id")
        if records:
            for *group, count in self.sudo()._read_group(records._gdpr_request_domain(), groupby, ["__count"]):
                for record in records:
                    if record._gdpr_request_about(*group):
                        counts[record.id] += count
        return counts

    @api.model
    def _gdpr_action_about(self, records, context):
        """The list of the requests about ``records`` (their stat button)."""
        action = self.env["ir.actions.act_window"]._for_xml_id("gdpr_crm.gdpr_request_action")
        action["domain"] = records._gdpr_request_domain()
        action["context"] = context
        return action

    def _gdpr_send_template(self, template_xmlid):
        """Send the mail template to the requester of each request (queued)."""
        template = self.env.ref(template_xmlid, raise_if_not_found=False)
        if not template:
            return
        requests = self.filtered("requester_email")
        if requests:
            template.sudo().send_mail_batch(requests.ids, email_layout_xmlid="mail.mail_notification_light")

    # ------------------------------------------------------------------
    # State machine
    # ------------------------------------------------------------------
    def action_verify(self):
        """The requester's identity was checked: the request can be processed."""
        self._gdpr_check_state(
            ("new",),
            self.env._("Request %(name)s is '%(state)s': only a new request can have its identity verified."),
        )
        self._gdpr_write_transition(
            {"state": "verified", "identity_verified": True, "date_verified": fields.Datetime.now()}
        )
        for request in self:
            request._gdpr_log_event(self.env._("Identity of the requester of %(name)s verified.", name=request.name))
        return True

    def action_start(self):
        self._gdpr_check_state(
            ("verified",),
            self.env._(
                "Request %(name)s is '%(state)s': verify the requester's identity before starting to process it."
            ),
        )
        if self.env.user.has_group("gdpr_crm.group_gdpr_dpo"):
            self.filtered(lambda r: not r.user_id).user_id = self.env.user
        self._gdpr_write_transition({"state": "in_progress"})
        for request in self:
            request._gdpr_log_event(self.env._("Processing of %(name)s started.", name=request.name))
        return True

    def action_done(self):
        self._gdpr_check_state(
            ("in_progress",),
            self.env._("Request %(name)s is '%(state)s': only a request in progress can be marked as done."),
        )
        self._gdpr_write_transition({"state": "done", "date_done": fields.Datetime.now()})
        for request in self:
            request.activity_ids.action_feedback(feedback=self.env._("Request closed."))
            request._gdpr_log_event(self.env._("Request %(name)s closed as done.", name=request.name))
        return True

    def action_reject(self, reason=None):
        """Refuse the request for ``reason`` (art. 12(4)); the requester is told why."""
        reason = self._gdpr_text_arg(reason, self.env._("The reason"), MAX_REASON_LENGTH).strip()
        if not reason:
            raise UserError(
                self.env._("Give the reason for rejecting the request: the requester must be told why (art. 12(4)).")
            )
        self._gdpr_check_state(
            OPEN_STATES, self.env._("Request %(name)s is '%(state)s': a closed request cannot be rejected.")
        )
        self._gdpr_write_transition(
            {"state": "rejected", "rejection_reason": reason, "date_done": fields.Datetime.now()}
        )
        for request in self:
            request.message_post(
                body=self.env._("Request rejected. Reason: %(reason)s", reason=reason),
                subtype_xmlid="mail.mt_note",
            )
            request.activity_ids.action_feedback(feedback=self.env._("Request rejected."))
            request._gdpr_log_event(self.env._("Request %(name)s rejected.", name=request.name))
        self._gdpr_send_template("gdpr_crm.mail_template_gdpr_request_response")
        return True

    def action_extend(self, reason=None):
        """Extend the deadline by two months, once (art. 12(3)); the requester is told why."""
        reason = self._gdpr_text_arg(reason, self.env._("The reason"), MAX_REASON_LENGTH).strip()
        if not reason:
            raise UserError(
                self.env._(
                    "Give the reason for extending the deadline (complexity or number of requests): "
                    "the requester must be told why."
                )
            )
        self._gdpr_check_state(
            OPEN_STATES,
            self.env._("Request %(name)s is '%(state)s': the deadline of a closed request cannot be extended."),
        )
        for request in self:
            if request.is_extended:
                raise UserError(
                    self.env._(
                        "The deadline of request %(name)s was already extended: the GDPR allows one extension "
                        "of two months only.",
                        name=request.name,
                    )
                )
        # The reminder and the escalation are re-armed for the new deadline.
        self._gdpr_write_transition(
            {"is_extended": True, "extension_reason": reason, "reminder_sent": False, "escalated": False}
        )
        for request in self:
            request.message_post(
                body=self.env._(
                    "Deadline extended by two months, to %(date)s. Reason: %(reason)s",
                    date=fields.Date.to_string(request.date_deadline),
                    reason=reason,
                ),
                subtype_xmlid="mail.mt_note",
            )
            request._gdpr_log_event(self.env._("Deadline of %(name)s extended by two months.", name=request.name))
        self._gdpr_send_template("gdpr_crm.mail_template_gdpr_request_extension")
        return True

    @api.depends("partner_id.tz", "company_id.partner_id.tz")
    def _compute_requester_tz(self):
        for request in self:
            request.requester_tz = request.partner_id.tz or request.company_id.partner_id.tz or "UTC"

    # ------------------------------------------------------------------
    # Execution
    # ------------------------------------------------------------------
    def _gdpr_lock(self):
        """Lock the rows of these requests, or raise a clear UserError.

        Two DPOs executing the same request at once: the first one locks it,
        the second one is told to wait and reload instead of doing it twice.
        """
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                self.env.cr.execute("SELECT id FROM gdpr_request WHERE id IN %s FOR UPDATE NOWAIT", [tuple(self.ids)])
        except (pg_errors.LockNotAvailable, pg_errors.SerializationFailure) as error:
            raise UserError(
                self.env._(
                    "Request %(name)s is being processed by someone else right now. Wait a moment, reload it "
                    "and check whether it was executed.",
                    name=", ".join(self.mapped("name")),
                )
            ) from error
        # Read what the other transaction may have written before we got the lock.
        self.invalidate_recordset(["state", "date_executed", "identity_verified"])

    def action_execute(self):
        """Do the work the request asks for (export, etc.), without any UI.

        It runs once: a second call, or a concurrent one, gets a clear error.
        """
        if not self:
            return True
        for request in self:
            request._gdpr_check_executable()
        self._gdpr_lock()
        for request in self:
            request._gdpr_check_executable()
            method = getattr(request, f"_gdpr_execute_{request.request_type}", None)
            if method is None:
                raise UserError(
                    self.env._("Requests of type '%(type)s' cannot be executed.", type=request._gdpr_type_label())
                )
            method()
            vals = {"date_executed": fields.Datetime.now()}
            if request.state == "verified":
                vals["state"] = "in_progress"
            request._gdpr_write_transition(vals)
            request._gdpr_log_event(
                self.env._("Request %(name)s (%(type)s) executed.", name=request.name, type=request._gdpr_type_label())
            )
        return True

    def _gdpr_check_executable(self):
        self.ensure_one()
        if not self.identity_verified or self.state not in ("verified", "in_progress"):
            raise UserError(
                self.env._(
                    "Request %(name)s cannot be executed before the requester's identity is verified "
                    "(and not once it is closed). Verify the identity first.",
                    name=self.name,
                )
            )
        if self.date_executed:
            raise UserError(
                self.env._(
                    "Request %(name)s was already executed on %(date)s: it cannot be executed twice.",
                    name=self.name,
                    date=fields.Datetime.to_string(self.date_executed),
                )
            )

    def _gdpr_subject_criteria(self):
        """What identifies the subject for the personal-data engine: ``(partners, emails, phones)``.

        The subject's contact and the requester's address; the engine itself
        adds the child contacts (inactive ones too) with their emails and phones.
        """
        self.ensure_one()
        return self.partner_id, [self.requester_email] if self.requester_email else [], []

    def _gdpr_find_subject_data(self):
        """Everything the personal-data engine finds about the subject: {model: [ids]}."""
        self.ensure_one()
        partners, emails, phones = self._gdpr_subject_criteria()
        return self.env["gdpr.personal.data"]._gdpr_find(partners=partners, emails=emails, phones=phones)

    def _gdpr_subject_provenance(self):
        """The subject's data with where each record comes from (own, reference,
        mention): ``{model: {id: {"relation", "via"}}}``, for the export."""
        self.ensure_one()
        partners, emails, phones = self._gdpr_subject_criteria()
        return self.env["gdpr.personal.data"]._gdpr_find_provenance(partners=partners, emails=emails, phones=phones)

    def _gdpr_execute_access(self):
        """Right of access (art. 15): export the subject's data (and only theirs) and attach it."""
        self.ensure_one()
        found = self._gdpr_subject_provenance()
        partners, emails, phones = self._gdpr_subject_criteria()
        Engine = self.env["gdpr.personal.data"].with_context(lang=self.lang or self.env.lang, tz=self.requester_tz)
        subject = {
            "identifiers": Engine._gdpr_export_identifiers(partners=partners, emails=emails, phones=phones),
            "name": self.requester_name or self.partner_id.name or "",
            "tz": self.requester_tz,
            "company": self.company_id,
        }
        # The files are for the requester: labels, values and the PDF in their language and time zone.
        attachments = Engine._gdpr_export_attachments(
            found, name=self.name.replace("/", "-"), res_model=self._name, res_id=self.id, subject=subject
        )
        self.attachment_ids = [fields.Command.link(a.id) for a in attachments]
        self._gdpr_log_event(
            self.env._(
                "Export of request %(name)s: %(records)s records in %(models)s models, %(files)s files.",
                name=self.name,
                records=sum(len(ids) for ids in found.values()),
                models=len([m for m, ids in found.items() if ids]),
                files=len(attachments),
            ),
        )
        return attachments

    def _gdpr_execute_portability(self):
        """Right to data portability (art. 20): the same machine-readable export as access."""
        return self._gdpr_execute_access()

    def _gdpr_execute_by_hand(self):
        labels = dict(self._fields["request_type"]._description_selection(self.env))
        raise UserError(
            self.env._(
                "Requests of type '%(type)s' cannot be executed automatically yet: process request %(name)s "
                "by hand, then mark it as done.",
                type=labels[self.request_type],
                name=self.name,
            )
        )

    def _gdpr_execute_rectification(self):
        """Rectification (art. 16) is done in its wizard, which records the
        old and new values on the request; executing marks it processed."""
        self.ensure_one()
        if not self.rectification_log:
            raise UserError(
                self.env._(
                    "Request %(name)s: record the corrected values with the Rectify button first.", name=self.name
                )
            )
        self._gdpr_notify_recipients()

    def _gdpr_subject_or_error(self):
        self.ensure_one()
        if not self.partner_id:
            raise UserError(
                self.env._("Request %(name)s names no contact: choose the data subject first.", name=self.name)
            )
        return self.partner_id

    def _gdpr_execute_erasure(self):
        """Right to erasure (art. 17): see ``gdpr.erasure``. Rolled back as a
        whole when anything fails or a residue remains."""
        self.ensure_one()
        proof = self.env["gdpr.erasure"]._gdpr_erase(self)
        self.sudo().write(
            {
                "erasure_proof": self.env["gdpr.erasure"]._gdpr_proof_json(proof),
                "erasure_residue_count": proof["residue_check"]["residues"],
            }
        )
        self._gdpr_notify_recipients()
        return proof

    def _gdpr_execute_restriction(self):
        """Restriction (art. 18): the contact, its child contacts and their
        leads are frozen (only the DPO may edit them) and left out of
        mailings and retention."""
        partner = self._gdpr_subject_or_error()
        partners = partner.sudo().with_context(active_test=False).search([("id", "child_of", partner.id)])
        reason = self.restriction_reason or self.env._("Restriction requested (%(name)s).", name=self.name)
        vals = {
            "gdpr_restricted": True,
            "gdpr_restriction_reason": reason,
            "gdpr_restriction_date": fields.Datetime.now(),
        }
        partners.filtered(lambda p: not p.gdpr_restricted).write(vals)
        leads = self.env["crm.lead"].sudo().with_context(active_test=False).search([("partner_id", "in", partners.ids)])
        leads.filtered(lambda lead: not lead.gdpr_restricted).write(vals)
        self._gdpr_notify_recipients()
        return partners, leads

    def _gdpr_execute_objection(self):
        """Objection (art. 21): blacklist the email and phones, withdraw every
        consent-based purpose (with its event), refuse prospecting on
        legitimate interest, put the identifiers on the suppression list."""
        partner = self._gdpr_subject_or_error()
        partners = partner.sudo().with_context(active_test=False).search([("id", "child_of", partner.id)])
        emails = {p.email_normalized for p in partners if p.email_normalized}
        if self.requester_email and email_normalize(self.requester_email):
            emails.add(email_normalize(self.requester_email))
        phones = {n for p in partners for n in (p.phone, p.mobile) if n}
        note = self.env._("Objection (request %(name)s)", name=self.name)
        for email in sorted(emails):
            self.env["mail.blacklist"].sudo()._add(email, message=note)
        for phone in sorted(phones):
            number = partner._phone_format(number=phone) or phone
            self.env["phone.blacklist"].sudo()._add([number], message=note)
        Consent = self.env["gdpr.consent"].sudo()
        consents = Consent.search(
            [
                "|",
                ("partner_id", "in", partners.ids),
                ("email", "in", sorted(emails) or [False]),
                ("state", "in", ("given", "pending")),
                ("purpose_id.legal_basis", "=", "consent"),
            ]
        )
        consents = consents.filtered(lambda c: c.state in ("given", "pending"))
        given = consents.filtered(lambda c: c.state == "given")
        if given:
            given.action_withdraw(source="other", note=note)
        if consents - given:
            (consents - given).action_refuse(source="other", note=note)
        now = fields.Datetime.now()
        partners.write({"gdpr_objected": True, "gdpr_objection_date": now})
        leads = self.env["crm.lead"].sudo().with_context(active_test=False).search([("partner_id", "in", partners.ids)])
        leads.write({"gdpr_objected": True, "gdpr_objection_date": now})
        self.env["gdpr.suppression"]._add(emails=emails, phones=phones, reason="objection", request=self)
        self._gdpr_log_event(
            self.env._(
                "Objection of request %(name)s: %(emails)s emails and %(phones)s phones blacklisted, "
                "%(consents)s consents withdrawn, prospecting refused.",
                name=self.name,
                emails=len(emails),
                phones=len(phones),
                consents=len(consents),
            ),
            event_type="consent",
        )
        return consents

    # ------------------------------------------------------------------
    # Art. 19 notifications
    # ------------------------------------------------------------------
    def _gdpr_recipients_to_notify(self):
        """The processors and joint controllers of the company's processing
        activities (those the data was disclosed to): ``{email: name}``."""
        self.ensure_one()
        activities = self.env["gdpr.processing.activity"].sudo().search([("company_id", "=", self.company_id.id)])
        partners = activities.processor_ids.partner_id | activities.joint_controller_ids
        recipients = {}
        for partner in partners:
            email = email_normalize(partner.email or "")
            if email:
                recipients.setdefault(email, partner.name)
        return recipients

    def _gdpr_notify_recipients(self):
        """GDPR art. 19: email the processors and recipients what to do. The
        emails are deleted once sent; the request records to whom and when."""
        self.ensure_one()
        recipients = self._gdpr_recipients_to_notify()
        if not recipients:
            return {}
        labels = dict(self._fields["request_type"]._description_selection(self.env))
        subject = self.env._(
            "Privacy request %(name)s: %(type)s to apply", name=self.name, type=labels[self.request_type]
        )
        body = self.env._(
            "<p>Under article 19 of the GDPR, we inform you that a data subject's request (%(type)s, reference "
            "%(name)s) was executed on our side. Apply it to the personal data we shared with you: erase, "
            "correct or restrict it accordingly, and confirm to our data protection officer.</p>",
            type=labels[self.request_type],
            name=self.name,
        )
        mails = (
            self.env["mail.mail"]
            .sudo()
            .create(
                [
                    {
                        "subject": subject,
                        "body_html": body,
                        "email_to": email,
                        "email_from": self.company_id.email_formatted or self.env.user.email_formatted,
                        "auto_delete": True,
                        "is_notification": True,
                    }
                    for email in sorted(recipients)
                ]
            )
        )
        mails.send()
        when = fields.Datetime.to_string(fields.Datetime.now())
        lines = [f"{when}: {name} <{email}>" for email, name in sorted(recipients.items())]
        self.sudo().notification_log = "\n".join(filter(None, [self.notification_log, *lines]))
        return recipients

    # ------------------------------------------------------------------
    # Answer and download link
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_download_validity_days(self):
        value = (
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("gdpr_crm.download_link_validity_days", DEFAULT_DOWNLOAD_VALIDITY_DAYS)
        )
        return bounded_setting("gdpr_crm.download_link_validity_days", value, DEFAULT_DOWNLOAD_VALIDITY_DAYS)

    def _gdpr_download_url(self):
        """The download link written in the response template.

        It holds a marker, not a token: ``mail.mail`` swaps in a fresh token
        (see ``_gdpr_new_download_token``) when the email is sent.
        """
        self.ensure_one()
        return f"{self.get_base_url()}/gdpr/download/{DOWNLOAD_TOKEN_MARKER}"

    def _gdpr_new_download_token(self):
        """Issue a new download token and return it in clear.

        Only its SHA-256 is stored and any previous link stops working. The
        expiry announced in the email (set when the answer was sent) is kept;
        without one, the link works for the configured number of days.
        """
        self.ensure_one()
        now = fields.Datetime.now()
        expiry = self.download_expiry
        if not expiry or expiry <= now:
            expiry = now + timedelta(days=self._gdpr_download_validity_days())
        return self._gdpr_token_issue("download", expiry=expiry)

    @api.model
    def _gdpr_get_by_download_token(self, token):
        """The request whose download link ``token`` is valid now, or an empty recordset."""
        return self._gdpr_token_find("download", token)

    def action_send_response(self):
        """Email the answer to the requester; with files, a download link rather than the files."""
        self._gdpr_check_state(
            ("in_progress", "done"),
            self.env._("Request %(name)s is '%(state)s': process it before sending the answer."),
        )
        for request in self:
            if not request.requester_email:
                raise UserError(
                    self.env._(
                        "Request %(name)s has no requester email: send the answer by another channel.",
                        name=request.name,
                    )
                )
            if request.attachment_ids:
                # the token itself is issued when the email leaves (mail.mail)
                request.sudo().write(
                    {
                        "download_token_hash": False,
                        "download_expiry": fields.Datetime.now() + timedelta(days=self._gdpr_download_validity_days()),
                    }
                )
        self._gdpr_send_template("gdpr_crm.mail_template_gdpr_request_response")
        for request in self:
            request._gdpr_log_event(
                self.env._(
                    "Answer to request %(name)s sent to the requester (%(files)s files by download link).",
                    name=request.name,
                    files=len(request.attachment_ids),
                )
            )
        return True

    def action_send_acknowledgement(self):
        self._gdpr_check_state(
            OPEN_STATES,
            self.env._("Request %(name)s is '%(state)s': a closed request is not acknowledged again."),
        )
        self._gdpr_send_template("gdpr_crm.mail_template_gdpr_request_acknowledgement")
        return True

    # ------------------------------------------------------------------
    # Buttons opening wizards
    # ------------------------------------------------------------------
    def _gdpr_wizard_action(self, model, name):
        self.ensure_one()
        return {
            "type": "ir.actions.act_window",
            "name": name,
            "res_model": model,
            "view_mode": "form",
            "target": "new",
            "context": {"default_request_id": self.id},
        }

    def action_open_execute_wizard(self):
        return self._gdpr_wizard_action("gdpr.request.execute", self.env._("Execute the request"))

    def action_open_rectify_wizard(self):
        return self._gdpr_wizard_action("gdpr.request.rectify", self.env._("Rectify the data"))

    def action_open_reject_wizard(self):
        return self._gdpr_wizard_action("gdpr.request.reject", self.env._("Reject the request"))

    def action_open_extend_wizard(self):
        return self._gdpr_wizard_action("gdpr.request.extend", self.env._("Extend the deadline"))

    # ------------------------------------------------------------------
    # Cron
    # ------------------------------------------------------------------
    @api.model
    def _cron_request_deadlines(self):
        """Remind the assignee a week before the deadline, escalate overdue requests.

        Each request is reminded once and escalated once per deadline (an
        extension re-arms both), so running the job again adds nothing.
        """
        today = fields.Date.context_today(self)
        todo = self.env.ref("mail.mail_activity_data_todo")
        model_id = self.env["ir.model"]._get_id(self._name)
        Activity = self.env["mail.activity"].sudo()
        base = [("state", "in", OPEN_STATES)]

        to_remind = self.sudo().search(
            [
                *base,
                ("reminder_sent", "=", False),
                ("date_deadline", ">=", today),
                ("date_deadline", "<=", today + timedelta(days=REMINDER_DAYS)),
            ]
        )
        dpo_users = {}  # company -> its DPO users, looked up once per company

        def dpo_of(company, named_first=True):
            if (company, named_first) not in dpo_users:
                dpo_users[company, named_first] = self._gdpr_dpo_users(company, named_first=named_first)
            return dpo_users[company, named_first]

        vals_list = []
        for request in to_remind:
            user = request.user_id or dpo_of(request.company_id)[:1]
            if not user:
                continue
            vals_list.append(
                {
                    "res_model_id": model_id,
                    "res_id": request.id,
                    "activity_type_id": todo.id,
                    "user_id": user.id,
                    "date_deadline": request.date_deadline,
                    "summary": self.env._("Privacy request due on %(date)s", date=request.date_deadline),
                    "note": self.env._(
                        "Request %(name)s must be answered by %(date)s (GDPR art. 12(3)).",
                        name=request.name,
                        date=request.date_deadline,
                    ),
                }
            )
        Activity.create(vals_list)
        to_remind.write({"reminder_sent": True})

        overdue = self.sudo().search([*base, ("escalated", "=", False), ("date_deadline", "<", today)])
        vals_list = []
        for request in overdue:
            for user in dpo_of(request.company_id, named_first=False):
                vals_list.append(
                    {
                        "res_model_id": model_id,
                        "res_id": request.id,
                        "activity_type_id": todo.id,
                        "user_id": user.id,
                        "date_deadline": today,
                        "summary": self.env._("Overdue privacy request"),
                        "note": self.env._(
                            "Request %(name)s was due on %(date)s and is not answered yet.",
                            name=request.name,
                            date=request.date_deadline,
                        ),
                    }
                )
        Activity.create(vals_list)
        # one note per request, logged in a batch (a note notifies no one)
        overdue._message_log_batch(
            {
                request.id: self.env._(
                    "This request is overdue: it was due on %(date)s. The DPO group was notified.",
                    date=request.date_deadline,
                )
                for request in overdue
            }
        )
        overdue.write({"escalated": True})
        for request in overdue:
            request._gdpr_log_event(self.env._("Request %(name)s is overdue: escalated.", name=request.name))
        return True
