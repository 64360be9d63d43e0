# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import models


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
