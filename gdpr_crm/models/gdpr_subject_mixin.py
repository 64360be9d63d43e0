# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, fields, models
from odoo.tools import SQL
from odoo.tools.sql import column_exists

# ---- retention: kinds of interaction coming from the person ----
INTERACTION_SOURCES = [
    ("creation", "Record created"),
    ("email", "Incoming email or reply"),
    ("message", "Message they wrote"),
    ("login", "Portal login"),
    ("web_form", "Web form or lead they submitted"),
    ("mailing_click", "Click in a mailing"),
    ("order", "Order or invoice"),
]
# kinds an administrator can switch off (creation always counts)
INTERACTION_KINDS = ("email", "message", "login", "web_form", "mailing_click", "order")
DEFAULT_INTERACTION_KINDS = INTERACTION_KINDS


class GdprSubjectMixin(models.AbstractModel):
    """What makes a record a data subject for gdpr_crm.

    Inherited by ``res.partner`` and ``crm.lead`` (and by any model a module
    wants treated the same way). It gathers what every data subject has:
    consents and their helpers, restriction (GDPR art. 18), legal hold, the
    last interaction coming from the person (retention) and the suppression
    check. Each feature fills the hooks below; their defaults describe a
    subject with no restriction, no hold and no suppression entry.

    Hooks (override, call ``super()``):

    - :meth:`_gdpr_subject_partner`: the contact the record is about;
    - :meth:`_gdpr_restricted_records`: the records whose processing is
      restricted (frozen: no marketing, no edits but the DPO's);
    - :meth:`_gdpr_legal_hold_reasons`: the records that must be kept, and why;
    - :meth:`_gdpr_suppressed_records`: the records whose identifiers are on
      the suppression list (an erased or objecting person coming back).
    """

    _name = "gdpr.subject.mixin"
    _description = "Data Subject Mixin"

    # ---- retention: the last interaction coming from the person ----
    gdpr_last_interaction_date = fields.Datetime(
        string="Last Interaction",
        index=True,
        default=fields.Datetime.now,
        copy=False,
        readonly=True,
        help="The last contact coming from the person (an incoming email or reply, a message they wrote, "
        "a portal login, a web form, a mailing click...). A salesperson's note or an outgoing email does "
        "not count. Retention policies count their delay from this date.",
    )
    gdpr_last_interaction_source = fields.Selection(
        INTERACTION_SOURCES,
        string="Last Interaction Source",
        default="creation",
        copy=False,
        readonly=True,
        help="What the last interaction was.",
    )
    gdpr_interaction_age = fields.Float(
        string="Years Since Last Interaction",
        compute="_compute_gdpr_interaction_age",
        digits=(16, 1),
    )
    gdpr_anonymized_date = fields.Datetime(
        string="Anonymized On",
        copy=False,
        readonly=True,
        help="Set when gdpr_crm anonymized the record: its personal data is gone.",
    )

    @api.depends("gdpr_last_interaction_date")
    def _compute_gdpr_interaction_age(self):
        now = fields.Datetime.now()
        for record in self:
            date = record.gdpr_last_interaction_date
            record.gdpr_interaction_age = round((now - date).days / 365.25, 1) if date else 0.0

    def _auto_init(self):
        """On install, give existing records a reference date for retention:
        the last message they sent (contacts) or received from outside
        (leads) when there is one, else their creation date. One statement
        per table; later changes are kept incrementally."""
        new_column = not column_exists(self.env.cr, self._table, "gdpr_last_interaction_date")
        result = super()._auto_init()
        if new_column and not self._abstract and self._auto:
            self._gdpr_backfill_interaction()
        return result

    def _gdpr_backfill_interaction(self):
        table = SQL.identifier(self._table)
        self.env.cr.execute(
            SQL(
                "UPDATE %(table)s SET gdpr_last_interaction_date = create_date, "
                "gdpr_last_interaction_source = 'creation' WHERE gdpr_last_interaction_date IS NULL",
                table=table,
            )
        )

    @api.model
    def _gdpr_interaction_kinds(self):
        """The kinds of interaction that count (setting ``gdpr_crm.interaction_kinds``,
        comma-separated; default: all)."""
        value = self.env["ir.config_parameter"].sudo().get_param("gdpr_crm.interaction_kinds")
        if value is None or value is False:
            return set(DEFAULT_INTERACTION_KINDS)
        return {kind.strip() for kind in value.split(",") if kind.strip()}

    @api.model
    def _gdpr_touch_interaction(self, ids, kind, date=None):
        """Record an interaction of kind ``kind`` coming from the records
        ``ids`` of this model at ``date`` (default: now). Set-based (one
        UPDATE), never moves the date backwards, ignores kinds switched off
        in the settings. Returns the ids updated."""
        ids = [record_id for record_id in set(ids or ()) if record_id]
        if not ids or kind not in self._gdpr_interaction_kinds():
            return []
        date = date or fields.Datetime.now()
        self.env.cr.execute(
            SQL(
                "UPDATE %(table)s SET gdpr_last_interaction_date = %(date)s, "
                "gdpr_last_interaction_source = %(kind)s "
                "WHERE id = ANY(%(ids)s) AND (gdpr_last_interaction_date IS NULL "
                "OR gdpr_last_interaction_date <= %(date)s) RETURNING id",
                table=SQL.identifier(self._table),
                date=date,
                kind=kind,
                ids=ids,
            )
        )
        updated = [row[0] for row in self.env.cr.fetchall()]
        if updated:
            self.browse(updated).invalidate_recordset(["gdpr_last_interaction_date", "gdpr_last_interaction_source"])
        return updated

    def _gdpr_subject_partner(self):
        """Return the ``res.partner`` recordset these records are about
        (the record itself for a contact, the customer for a lead)."""
        return self.env["res.partner"]

    def _gdpr_restricted_records(self):
        """Return the subset of ``self`` whose processing is restricted
        (GDPR art. 18). Default: none."""
        return self.browse()

    def _gdpr_legal_hold_reasons(self):
        """Return ``{record id: reason}`` for the records of ``self`` that a
        legal obligation keeps (they are restricted instead of erased, and
        skipped by retention). Default: none."""
        return {}

    def _gdpr_suppressed_records(self):
        """Return the subset of ``self`` whose email or phone is on the
        suppression list. Default: none."""
        return self.browse()
