# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""What the first users tripped on in the screens: kanban columns, access
review, audit pivot, consent buttons, words rather than codes."""

import re

from lxml import etree

from odoo.tests import HttpCase, tagged

from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestScreens(GdprCase):
    def _arch(self, model, view_type, user=None, view_xmlid=None):
        Model = self.env[model].with_user(user or self.user_dpo)
        view_id = self.env.ref(view_xmlid).id if view_xmlid else False
        views = Model.get_views([(view_id, view_type)])
        return etree.fromstring(views["views"][view_type]["arch"])

    def test_request_kanban_columns_in_workflow_order_folded_last(self):
        partner = self.env["res.partner"].create({"name": "Jeanne", "email": "jeanne@example.com"})
        Request = self.env["gdpr.request"].with_user(self.user_dpo)
        requests = Request.create([{"request_type": "access", "partner_id": partner.id} for _i in range(3)])
        requests[1].action_verify()
        requests[2].action_verify()
        requests[2].action_start()
        groups = Request.web_read_group([("id", "in", requests.ids)], ["state"], ["state"])["groups"]
        self.assertEqual(
            [(group["state"], group["state_count"], group["__fold"]) for group in groups],
            [
                ("new", 1, False),
                ("verified", 1, False),
                ("in_progress", 1, False),
                ("done", 0, True),
                ("rejected", 0, True),
            ],
        )

    def test_audit_pivot_counts_entries(self):
        pivot = self._arch("gdpr.audit.log", "pivot")
        self.assertFalse(pivot.xpath("//field[@type='measure']"), "the default measure is the count of entries")

    def test_access_review_never_logged_in(self):
        newcomer = self.env["res.users"].create({"name": "Nina Newcomer", "login": "gdpr_newcomer"})
        self.assertTrue(newcomer.gdpr_never_logged_in)
        self.assertEqual(newcomer.gdpr_review_reasons, "Never logged in")
        self.assertEqual(self.env.ref("base.user_admin").gdpr_review_reasons.count("Admin rights"), 1)
        arch = self._arch("res.users", "list", view_xmlid="gdpr_crm.res_users_view_list_gdpr_access_review")
        days = arch.xpath("//field[@name='gdpr_days_inactive']")[0]
        self.assertEqual(days.get("invisible"), "gdpr_never_logged_in", "no '0 days inactive' for who never came")
        shown = [f.get("name") for f in arch.xpath("//field") if f.get("column_invisible") not in ("True", "1")]
        self.assertIn("gdpr_review_reasons", shown)
        for flag in ("gdpr_is_admin", "gdpr_inactive", "gdpr_never_logged_in", "gdpr_shared_login"):
            self.assertNotIn(flag, shown, "one readable column instead of four cut headers")

    def test_report_button_on_contacts_for_salespeople(self):
        arch = self._arch("res.partner", "form", user=self.user_salesman)
        action = self.env.ref("gdpr_crm.gdpr_request_report_action_partner")
        buttons = arch.xpath("//header/button[@name='%s']" % action.id)
        self.assertEqual(len(buttons), 1, "a visible button, as on leads")
        self.assertFalse(self._arch("res.partner", "form", user=self.user_employee).xpath("//header/button"))

    def test_consent_buttons(self):
        partner = self.env["res.partner"].create({"name": "Jeanne", "email": "jeanne@example.com"})
        for arch in (
            self._arch("gdpr.consent", "form", user=self.user_salesman),
            self._arch("res.partner", "form", user=self.user_salesman).xpath("//field[@name='gdpr_consent_ids']")[0],
        ):
            ask = arch.xpath(".//button[@name='action_send_double_opt_in']")
            self.assertEqual(len(ask), 2)
            after_no = [b for b in ask if "refused" in b.get("invisible")]
            self.assertEqual(len(after_no), 1)
            self.assertTrue(after_no[0].get("confirm"), "asking again after a no needs a confirmation")
            self.assertFalse(arch.xpath(".//button[@name='action_withdraw']"), "withdrawing goes through the wizard")
            expiry = arch.xpath(".//field[@name='expiry_date']")[0]
            self.assertIn("state != 'given'", expiry.get("invisible"))
        self.assertTrue(partner)

    def test_consent_history_entry_named_in_words(self):
        partner = self.env["res.partner"].create({"name": "Jeanne", "email": "jeanne@example.com"})
        newsletter = self.env.ref("gdpr_crm.purpose_newsletter")
        consent = self.env["gdpr.consent"].create({"partner_id": partner.id, "purpose_id": newsletter.id})
        created = consent.event_ids.filtered(lambda e: e.action == "create")
        self.assertEqual(created.display_name, "Created - %s" % newsletter.name)

    def test_no_code_in_french_sentences_nor_pdf(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["gdpr_crm"], ["fr_FR"], overwrite=True)
        partner = self.env["res.partner"].create({"name": "Jeanne", "email": "jeanne@example.com"})
        request = (
            self.env["gdpr.request"]
            .with_user(self.user_dpo)
            .with_context(lang="fr_FR")
            .create({"request_type": "access", "partner_id": partner.id})
        )
        entry = self.env["gdpr.audit.log"].search(
            [("model", "=", "gdpr.request"), ("res_id", "=", request.id)], order="id desc", limit=1
        )
        self.assertIn("(Accès)", entry.description)
        self.assertNotIn("(access)", entry.description)
        # the Personal Data Report shows the labels of selection values
        newsletter = self.env.ref("gdpr_crm.purpose_newsletter")
        consent = self.env["gdpr.consent"].create({"partner_id": partner.id, "purpose_id": newsletter.id})
        consent.action_give(source="web_form", proof="I agree.", proof_version="v1")
        PersonalData = self.env["gdpr.personal.data"].with_user(self.user_dpo)
        found = PersonalData._gdpr_find(partners=partner)
        html = PersonalData._gdpr_export_pdf(PersonalData._gdpr_export_data(found), "test").decode()
        self.assertRegex(html, r">\s*Given\s*<")
        self.assertRegex(html, r">\s*Web form\s*<")
        for code in ("given", "web_form"):
            self.assertIsNone(re.search(r">\s*%s\s*<" % code, html), code)


@tagged("post_install", "-at_install", "gdpr_crm")
class TestScreensInBrowser(HttpCase):
    """What only the browser shows: colours of the consent graph, a page
    title not squeezed by its buttons."""

    def _check(self, url, condition):
        code = """
            const check = () => {
                let ok = false;
                try { ok = (%s); } catch (e) { ok = false; }
                if (ok) { console.log("test successful"); } else { setTimeout(check, 200); }
            };
            check();
        """ % condition
        self.browser_js(url, code, login="admin", timeout=90)

    def test_consent_graph_colours_follow_the_state(self):
        purposes = self.env["gdpr.purpose"].search([("legal_basis", "=", "consent")], limit=2)
        partner = self.env["res.partner"].create({"name": "Jeanne", "email": "jeanne@example.com"})
        given, refused = self.env["gdpr.consent"].create(
            [{"partner_id": partner.id, "purpose_id": purpose.id} for purpose in purposes]
        )
        given.action_give(source="paper", proof="I agree.", proof_version="v1")
        refused.action_refuse(source="phone")
        # the refused purpose first, so that Odoo's palette would paint it blue
        self._check(
            "/odoo/action-gdpr_crm.gdpr_consent_action_analysis?view_type=graph",
            """(() => {
                const canvas = document.querySelector('.o_graph_canvas_container canvas');
                const chart = canvas && Chart.getChart(canvas);
                if (!chart) { return false; }
                const color = (state) => chart.data.datasets.find(
                    (d) => [...(d.identifiers || [])].some((i) => i.includes('"state":"' + state + '"'))
                )?.backgroundColor;
                return color('given') === '#3FAE6A' && color('refused') === '#EA6175';
            })()""",
        )

    def test_processing_activities_title_not_squeezed(self):
        self._check(
            "/odoo/action-gdpr_crm.gdpr_processing_activity_action",
            """(() => {
                const title = document.querySelector('.o_last_breadcrumb_item span');
                return !!document.querySelector('.o_list_view button[name=action_print_register]')
                    && title && title.textContent.includes('Processing Activities')
                    && title.scrollWidth <= title.clientWidth + 1;
            })()""",
        )
