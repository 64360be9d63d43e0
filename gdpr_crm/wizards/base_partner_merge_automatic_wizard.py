# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class MergePartnerAutomatic(models.TransientModel):
    _inherit = "base.partner.merge.automatic.wizard"

    def _update_foreign_keys(self, src_partners, dst_partner):
        # Move consents first, with their history, resolving duplicates per
        # purpose; the generic SQL rewrite would otherwise drop them.
        self._gdpr_merge_consents(src_partners, dst_partner)
        return super()._update_foreign_keys(src_partners, dst_partner)

    @api.model
    def _gdpr_merge_consents(self, src_partners, dst_partner):
        """Contact merge: move the consents of ``src_partners`` to ``dst_partner``.

        Called before the merge rewrites the foreign keys. When both contacts
        have a consent for one purpose, the most recent answer stays active
        and the other is archived on the destination contact, history kept.
        """
        Consent = self.env["gdpr.consent"].sudo()
        src_consents = Consent.search([("partner_id", "in", src_partners.ids)])
        if not src_consents:
            return Consent
        by_purpose = {(c.purpose_id, c.company_id): c for c in Consent.search([("partner_id", "=", dst_partner.id)])}
        archived = Consent.browse()
        for consent in src_consents.sorted(lambda c: c._gdpr_last_answer_date(), reverse=True):
            current = by_purpose.get((consent.purpose_id, consent.company_id))
            if current:
                newer = consent.state != "pending" and (
                    current.state == "pending" or consent._gdpr_last_answer_date() > current._gdpr_last_answer_date()
                )
                archived |= current if newer else consent
                if newer:
                    by_purpose[(consent.purpose_id, consent.company_id)] = consent
            else:
                by_purpose[(consent.purpose_id, consent.company_id)] = consent
        previous = {c.id: c.state for c in src_consents}
        (src_consents | archived)._gdpr_lock()
        # archive the superseded ones first: the unique index holds only
        # one active consent per (contact, purpose)
        archived._gdpr_write_internal({"active": False})
        archived.flush_recordset(["active"])
        src_consents._gdpr_write_internal({"partner_id": dst_partner.id})
        self.env["gdpr.consent.event"]._gdpr_append(
            [
                {
                    **consent._gdpr_event_subject(),
                    "action": "transfer",
                    "state": consent.state,
                    "previous_state": previous[consent.id],
                    "note": "Contact #%s merged into #%s%s"
                    % (
                        ", #".join(map(str, src_partners.ids)),
                        dst_partner.id,
                        " (superseded, archived)" if consent in archived else "",
                    ),
                }
                for consent in src_consents
            ]
        )
        self.env["gdpr.audit.log"]._gdpr_log(
            "consent",
            records=src_consents,
            description="Consent(s) moved by a contact merge into #%s: ids %s; archived: %s"
            % (dst_partner.id, ", ".join(map(str, src_consents.ids)), ", ".join(map(str, archived.ids)) or "-"),
            code="consent_merged",
            params={"partner": dst_partner.id, "ids": src_consents.ids[:50], "archived": archived.ids[:50]},
        )
        return src_consents
