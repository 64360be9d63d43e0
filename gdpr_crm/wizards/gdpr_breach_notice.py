# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from collections import Counter

from lxml import html

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import format_date

# The sections of the notice, in the order of the email: (wizard field, field
# of the breach where the notice sent is kept).
NOTICE_FIELDS = [
    ("nature", "notice_nature"),
    ("data", "notice_data"),
    ("consequences", "notice_consequences"),
    ("measures", "notice_measures"),
    ("advice", "notice_advice"),
    ("contact", "notice_contact"),
]
# GDPR art. 34(2): the nature of the breach, the contact point, the likely
# consequences and the measures taken or proposed.
MANDATORY_SECTIONS = ("nature", "contact", "consequences", "measures")


class GdprBreachNotice(models.TransientModel):
    """The notice of a breach to the data subjects (GDPR art. 34), written,
    previewed and sent by the DPO. Nothing of the breach's internal
    description goes into it unless the DPO writes it there."""

    _name = "gdpr.breach.notice"
    _description = "Breach Notice to the Data Subjects"

    breach_id = fields.Many2one("gdpr.breach", string="Breach", required=True, readonly=True, ondelete="cascade")
    partner_ids = fields.Many2many(
        "res.partner",
        "gdpr_breach_notice_partner_rel",
        "notice_id",
        "partner_id",
        string="Recipients",
        help="The affected contacts with an email address; each receives their own email.",
    )
    affected_partner_ids = fields.Many2many(related="breach_id.partner_ids", string="Affected Contacts")
    lang = fields.Selection(
        "_lang_get",
        string="Language",
        required=True,
        help="The language of the email. Changing it drafts the generated sections again in that language.",
    )
    nature = fields.Text(
        string="What Happened",
        help="The nature of the breach, in clear and plain language (GDPR art. 34(2)). Required.",
    )
    data = fields.Text(string="Data Concerned")
    consequences = fields.Text(
        string="Likely Consequences",
        help="The likely consequences of the breach for the people concerned (art. 33(3)(c)). Required.",
    )
    measures = fields.Text(
        string="Measures Taken",
        help="The measures taken or proposed to address the breach and mitigate its effects (art. 33(3)(d)). Required.",
    )
    advice = fields.Text(string="What They Can Do")
    contact = fields.Text(
        string="Contact Point",
        help="The name and contact details of the data protection officer or another contact point "
        "(art. 33(3)(b)). Required.",
    )
    subject_preview = fields.Char(string="Subject", compute="_compute_preview")
    body_preview = fields.Html(string="Preview", compute="_compute_preview", sanitize=False)

    @api.model
    def _lang_get(self):
        return self.env["res.lang"].get_installed()

    # ------------------------------------------------------------------
    # Drafting
    # ------------------------------------------------------------------
    @api.model
    def default_get(self, fields_list):
        values = super().default_get(fields_list)
        breach = self.env["gdpr.breach"].browse(values.get("breach_id") or self.env.context.get("default_breach_id"))
        if not breach:
            return values
        breach.check_access("write")
        partners = breach.partner_ids.filtered("email")
        langs = Counter(p.lang for p in partners if p.lang)
        lang = (
            (langs.most_common(1)[0][0] if langs else False)
            or breach.notice_lang
            or breach.company_id.partner_id.lang
            or self.env.lang
            or "en_US"
        )
        if lang not in dict(self._lang_get()):
            lang = self.env.lang or "en_US"
        values.setdefault("partner_ids", [(6, 0, partners.ids)])
        values.setdefault("lang", lang)
        drafts = self._gdpr_draft(breach, lang)
        for fname, breach_fname in NOTICE_FIELDS:
            # the notice last sent, else a draft from the breach's assessment
            values.setdefault(fname, breach[breach_fname] or drafts.get(fname, False))
        return values

    @api.model
    def _gdpr_draft(self, breach, lang):
        """A first draft of the notice, in ``lang``: the nature in plain
        words, the data categories, the consequences and measures of the
        assessment, advice, and the DPO's contact. Never the description."""
        env = self.with_context(lang=lang).env
        natures = {
            "confidentiality": env._(
                "Personal data that we hold about you may have been disclosed to, or accessed by, people who "
                "were not authorised to see it."
            ),
            "integrity": env._("Personal data that we hold about you was altered without authorisation."),
            "availability": env._("Personal data that we hold about you was lost or made unavailable."),
        }
        nature = natures.get(breach.nature, "")
        if breach.date_detected:
            detected = fields.Datetime.context_timestamp(
                breach.with_context(tz=breach.user_id.tz), breach.date_detected
            )
            nature += " " + env._(
                "We became aware of it on %(date)s.", date=format_date(env, detected.date(), lang_code=lang)
            )
        dpo = breach.company_id.gdpr_dpo_partner_id
        contact_partner = dpo or breach.company_id.partner_id
        contact = ", ".join(
            part for part in (contact_partner.name, contact_partner.email, contact_partner.phone) if part
        )
        if dpo:
            contact = env._("Our data protection officer: %(contact)s", contact=contact)
        return {
            "nature": nature.strip(),
            "data": ", ".join(breach.with_env(env).data_category_ids.mapped("name")),
            "consequences": breach.consequences or "",
            "measures": breach.measures or "",
            "advice": env._(
                "Stay alert to unexpected messages asking for your personal or banking details, and change "
                "your password if you used the same one elsewhere."
            ),
            "contact": contact,
        }

    @api.onchange("lang")
    def _onchange_lang(self):
        for wizard in self:
            breach = wizard.breach_id._origin
            if not (breach and wizard.lang):
                continue
            drafts = self._gdpr_draft(breach, wizard.lang)
            for fname in ("nature", "data", "advice", "contact"):
                wizard[fname] = drafts[fname]

    # ------------------------------------------------------------------
    # Preview and sending
    # ------------------------------------------------------------------
    def _gdpr_notice_vals(self):
        self.ensure_one()
        vals = {breach_fname: (self[fname] or "").strip() or False for fname, breach_fname in NOTICE_FIELDS}
        vals["notice_lang"] = self.lang
        return vals

    @api.depends("breach_id", "lang", *(fname for fname, _breach_fname in NOTICE_FIELDS))
    def _compute_preview(self):
        template = self.env.ref("gdpr_crm.mail_template_gdpr_breach_subjects")
        for wizard in self:
            breach = wizard.breach_id._origin
            if not breach:
                wizard.subject_preview = wizard.body_preview = False
                continue
            lang = wizard.lang or self.env.lang
            localized = template.with_context(lang=lang)
            # the breach as it will be when the email is rendered: the
            # notice's sections in memory, the rest read from the breach
            record = breach.with_context(lang=lang).new(wizard._gdpr_notice_vals(), origin=breach)
            variables = localized._render_eval_context()
            variables["object"] = record
            body = (
                self.env["ir.qweb"]
                .with_context(lang=lang)
                ._render(html.fragment_fromstring(localized.body_html or "", create_parent="div"), variables)
            )
            wizard.body_preview = body
            wizard.subject_preview = localized._render_field("subject", breach.ids)[breach.id]

    def _gdpr_check_notice(self):
        """Refuse a notice with an empty mandatory section or no recipient."""
        self.ensure_one()
        missing = [
            self._fields[fname]._description_string(self.env)
            for fname in MANDATORY_SECTIONS
            if not (self[fname] or "").strip()
        ]
        if missing:
            raise UserError(
                self.env._(
                    "The notice cannot be sent with an empty section: %(sections)s. GDPR art. 34(2) requires "
                    "it to describe the nature of the breach, the likely consequences, the measures taken or "
                    "proposed, and a contact point.",
                    sections=", ".join(missing),
                )
            )
        if not self.partner_ids.filtered("email"):
            raise UserError(self.env._("Choose at least one recipient with an email address."))
        stray = self.partner_ids - self.breach_id.partner_ids
        if stray:
            raise UserError(
                self.env._(
                    "%(names)s are not affected contacts of the breach: add them to the breach first.",
                    names=", ".join(stray.mapped("display_name")),
                )
            )

    def action_send(self):
        self.ensure_one()
        self._gdpr_check_notice()
        breach = self.breach_id
        breach.write(self._gdpr_notice_vals())
        breach._gdpr_send_notice(self.partner_ids)
        return {"type": "ir.actions.act_window_close"}
