# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import logging

from odoo import http
from odoo.exceptions import UserError, ValidationError
from odoo.http import request

from .common import gdpr_public_page

_logger = logging.getLogger(__name__)


class GdprConsentController(http.Controller):
    """Public pages of the data subject: double opt-in and preference centre.

    A GET only ever shows a page (mail scanners follow links); answers are
    given by a CSRF-protected POST. Unknown, used or expired links get the
    same polite page and change nothing.
    """

    def _gdpr_client_info(self):
        httprequest = request.httprequest
        return {
            "ip_address": httprequest.remote_addr or False,
            "user_agent": (httprequest.user_agent.string or "")[:512] or False,
        }

    def _gdpr_invalid_link(self):
        return request.render("gdpr_crm.gdpr_link_invalid_page", {}, status=404)

    def _gdpr_page_lang(self, partner):
        """Show the page in the data subject's language when it is installed."""
        lang = partner.lang if partner else None
        if lang and lang != request.env.lang and lang in dict(request.env["res.lang"].get_installed()):
            request.update_context(lang=lang)
        return request.env.lang

    # ------------------------------------------------------------------
    # Double opt-in
    # ------------------------------------------------------------------
    @http.route(
        "/gdpr/consent/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        sitemap=False,
    )
    @gdpr_public_page
    def gdpr_consent(self, token, **post):
        Consent = request.env["gdpr.consent"].sudo()
        consent = Consent._gdpr_find_by_opt_in_token(token)
        if not consent:
            return self._gdpr_invalid_link()
        consent = consent.with_context(lang=self._gdpr_page_lang(consent.partner_id))
        wording = consent._gdpr_opt_in_wording()
        values = {"consent": consent, "purpose": consent.purpose_id, "wording": wording, "token": token}
        if request.httprequest.method != "POST":
            return request.render("gdpr_crm.gdpr_consent_confirm_page", values)
        try:
            with request.env.cr.savepoint():
                # Only the one request that consumes the token gives consent.
                if not consent._gdpr_consume_opt_in_token(token):
                    return self._gdpr_invalid_link()
                consent.action_give(
                    source="double_opt_in",
                    proof=wording,
                    proof_version=consent._gdpr_opt_in_version(wording),
                    collected_by=request.env["res.users"],
                    **self._gdpr_client_info(),
                )
        except (UserError, ValidationError) as error:
            # e.g. the purpose no longer rests on consent: nothing is written
            _logger.info("Double opt-in of consent %s refused: %s", consent.id, error)
            return self._gdpr_invalid_link()
        return request.render("gdpr_crm.gdpr_consent_done_page", values)

    # ------------------------------------------------------------------
    # Preference centre
    # ------------------------------------------------------------------
    @http.route(
        "/gdpr/preferences/<string:token>",
        type="http",
        auth="public",
        methods=["GET", "POST"],
        sitemap=False,
    )
    @gdpr_public_page
    def gdpr_preferences(self, token, purpose_id=None, answer=None, choice=None, **post):
        partner = request.env["res.partner"].sudo()._gdpr_from_preferences_token(token)
        if not partner:
            return self._gdpr_invalid_link()
        if isinstance(choice, str) and ":" in choice:
            # one form for the whole page: each button says "<purpose id>:<answer>"
            purpose_id, _sep, answer = choice.partition(":")
        env_lang = {"lang": self._gdpr_page_lang(partner)}
        Consent = request.env["gdpr.consent"].sudo().with_context(**env_lang)
        purposes = partner.with_context(**env_lang)._gdpr_preference_purposes()
        message = False
        if request.httprequest.method == "POST":
            purpose = purposes.filtered(lambda p: str(p.id) == (purpose_id or ""))
            if not purpose or answer not in ("give", "withdraw"):
                return self._gdpr_invalid_link()
            try:
                with request.env.cr.savepoint():
                    partner.with_context(**env_lang)._gdpr_preference_answer(
                        purpose, answer, **self._gdpr_client_info()
                    )
            except (UserError, ValidationError) as error:
                _logger.info("Preference of contact %s refused: %s", partner.id, error)
                return self._gdpr_invalid_link()
            return request.redirect("/gdpr/preferences/%s?updated=%s" % (token, answer), local=True)
        if request.params.get("updated") in ("give", "withdraw"):
            message = request.params["updated"]
        consents = Consent.search([("partner_id", "=", partner.id), ("purpose_id", "in", purposes.ids)])
        values = {
            "partner": partner,
            "token": token,
            "rows": [
                {
                    "purpose": purpose,
                    "consent": consents.filtered(lambda c, p=purpose: c.purpose_id == p)[:1],
                    "wording": partner.with_context(**env_lang)._gdpr_preference_wording(purpose),
                }
                for purpose in purposes.with_context(**env_lang)
            ],
            "message": message,
        }
        return request.render("gdpr_crm.gdpr_preferences_page", values)
