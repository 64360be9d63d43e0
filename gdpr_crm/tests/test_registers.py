# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import csv
import io
from datetime import timedelta

import openpyxl

from odoo import fields
from odoo.exceptions import AccessError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import format_date, mute_logger

from ..models.res_country import EEA_COUNTRY_CODES
from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestRegisters(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.Activity = cls.env["gdpr.processing.activity"]
        cls.Processor = cls.env["gdpr.processor"]
        cls.country_fr = cls.env.ref("base.fr")
        cls.country_de = cls.env.ref("base.de")
        cls.country_us = cls.env.ref("base.us")
        cls.country_ch = cls.env.ref("base.ch")
        cls.vendor = cls.env["res.partner"].create({"name": "Cloudy Hosting Inc.", "is_company": True})
        cls.vendor_eu = cls.env["res.partner"].create({"name": "Nuage SAS", "is_company": True})
        cls.dpo_partner = cls.env["res.partner"].create({"name": "Delphine Protection", "email": "dpo@example.com"})
        cls.company.gdpr_dpo_partner_id = cls.dpo_partner

    # ------------------------------------------------------------------
    # Shipped data
    # ------------------------------------------------------------------
    def test_shipped_activities_linked_to_purposes(self):
        customers = self.env.ref("gdpr_crm.processing_activity_customer_management")
        prospecting = self.env.ref("gdpr_crm.processing_activity_prospecting")
        newsletter = self.env.ref("gdpr_crm.processing_activity_newsletter")
        self.assertEqual(customers.purpose_ids, self.env.ref("gdpr_crm.purpose_customer_relationship"))
        self.assertEqual(newsletter.purpose_ids, self.env.ref("gdpr_crm.purpose_newsletter"))
        self.assertIn(self.env.ref("gdpr_crm.purpose_prospecting_b2b"), prospecting.purpose_ids)
        # an entry resting on legitimate interest lists no purpose based on consent
        self.assertEqual(prospecting.legal_basis, "legitimate_interest")
        self.assertEqual(set(prospecting.purpose_ids.mapped("legal_basis")), {"legitimate_interest"})
        marketing = self.env.ref("gdpr_crm.processing_activity_consent_marketing")
        self.assertEqual(
            marketing.purpose_ids,
            self.env.ref("gdpr_crm.purpose_marketing_email")
            | self.env.ref("gdpr_crm.purpose_marketing_phone")
            | self.env.ref("gdpr_crm.purpose_profiling"),
        )
        self.assertEqual(marketing.legal_basis, "consent")
        # one DPIA criterion met: no DPIA is required, and none is "to do"
        for activity in (customers, prospecting, newsletter, marketing):
            self.assertFalse(activity.dpia_required)
            self.assertEqual(activity.dpia_state, "not_required", activity.name)
        # both ways: the purpose points at its activity
        self.assertEqual(self.env.ref("gdpr_crm.purpose_newsletter").processing_activity_id, newsletter)
        self.assertEqual(customers.legal_basis, "contract")
        self.assertEqual(newsletter.legal_basis, "consent")
        self.assertEqual(customers.company_role, "controller")
        self.assertTrue(newsletter.data_category_ids and newsletter.subject_category_ids)
        self.assertFalse(newsletter.special_category)

    def test_shipped_categories(self):
        self.assertTrue(self.env.ref("gdpr_crm.data_category_health").special_category)
        self.assertTrue(self.env.ref("gdpr_crm.data_category_criminal").special_category)
        self.assertFalse(self.env.ref("gdpr_crm.data_category_contact").special_category)
        self.assertTrue(self.env.ref("gdpr_crm.subject_category_minors").vulnerable)
        self.assertTrue(self.env.ref("gdpr_crm.security_measure_encryption"))

    def test_eea_countries(self):
        eea = self.env["res.country"].search([("gdpr_eea", "=", True)])
        self.assertEqual(set(eea.mapped("code")), set(EEA_COUNTRY_CODES))
        self.assertEqual(len(EEA_COUNTRY_CODES), 27 + 3 + 7)
        for xmlid in ("base.fr", "base.de", "base.ie", "base.no", "base.is", "base.li", "base.re"):
            self.assertTrue(self.env.ref(xmlid).gdpr_eea, xmlid)
        for xmlid in ("base.us", "base.ch", "base.uk", "base.in"):
            self.assertFalse(self.env.ref(xmlid).gdpr_eea, xmlid)

    # ------------------------------------------------------------------
    # Processing activities
    # ------------------------------------------------------------------
    def test_special_category_and_dpia_criteria(self):
        activity = self.Activity.create({"name": "Health survey"})
        self.assertFalse(activity.dpia_required)
        self.assertEqual(activity.dpia_state, "not_required")
        activity.dpia_large_scale = True
        self.assertEqual(activity.dpia_criteria_count, 1)
        self.assertFalse(activity.dpia_required, "one criterion is not enough")
        activity.write({"data_category_ids": [(4, self.env.ref("gdpr_crm.data_category_health").id)]})
        self.assertTrue(activity.special_category)
        activity.dpia_sensitive_data = True
        self.assertEqual(activity.dpia_criteria_count, 2)
        self.assertTrue(activity.dpia_required, "two criteria require a DPIA")
        self.assertEqual(activity.dpia_state, "todo")
        activity.dpia_state = "in_progress"
        activity.dpia_large_scale = False
        self.assertEqual(activity.dpia_state, "in_progress", "a DPIA under way keeps its status")
        activity.dpia_state = "todo"
        activity.dpia_large_scale = True
        activity.dpia_sensitive_data = False
        self.assertEqual(activity.dpia_state, "not_required")
        activity.dpia_sensitive_data = True
        self.assertEqual(self.Activity.search([("dpia_required", "=", True), ("id", "=", activity.id)]), activity)

    def test_legal_basis_from_purposes(self):
        purpose = self.env["gdpr.purpose"].create(
            {"name": "Events", "code": "events", "legal_basis": "legitimate_interest"}
        )
        activity = self.Activity.create({"name": "Events", "purpose_ids": [(4, purpose.id)]})
        self.assertEqual(activity.legal_basis, "legitimate_interest")
        self.assertEqual(purpose.processing_activity_id, activity)

    def test_activity_transfer_outside_eea_needs_safeguard(self):
        count = self.Activity.search_count([])
        with self.assertRefused(ValidationError, r"outside the EEA \(United States\).*safeguard"):
            self.Activity.create({"name": "US analytics", "transfer_country_ids": [(4, self.country_us.id)]})
        self.assertEqual(self.Activity.search_count([]), count, "nothing was written")
        activity = self.Activity.create(
            {"name": "US analytics", "transfer_country_ids": [(4, self.country_us.id)], "transfer_safeguard": "scc"}
        )
        self.assertTrue(activity.transfer_outside_eea)
        self.assertEqual(activity.outside_eea_country_ids, self.country_us)
        with self.assertRefused(ValidationError, "safeguard"):
            activity.transfer_safeguard = False
        self.assertEqual(activity.transfer_safeguard, "scc")
        # within the EEA, no safeguard is needed
        eu = self.Activity.create({"name": "EU only", "transfer_country_ids": [(4, self.country_de.id)]})
        self.assertFalse(eu.transfer_outside_eea)

    def test_activity_sees_transfers_through_its_processors(self):
        processor = self.Processor.create(
            {
                "partner_id": self.vendor.id,
                "location_country_ids": [(4, self.country_us.id)],
                "transfer_safeguard": "scc",
            }
        )
        activity = self.Activity.create({"name": "CRM", "processor_ids": [(4, processor.id)]})
        self.assertTrue(activity.transfer_outside_eea)
        self.assertEqual(activity.outside_eea_country_ids, self.country_us)
        self.assertEqual(processor.processing_activity_ids, activity)

    # ------------------------------------------------------------------
    # Processors
    # ------------------------------------------------------------------
    def test_processor_eea_computation(self):
        processor = self.Processor.create(
            {"partner_id": self.vendor_eu.id, "location_country_ids": [(6, 0, (self.country_fr | self.country_de).ids)]}
        )
        self.assertFalse(processor.outside_eea)
        self.assertFalse(processor.outside_eea_country_ids)
        self.assertEqual(processor.name, "Nuage SAS")
        processor.write({"location_country_ids": [(4, self.country_ch.id)], "transfer_safeguard": "adequacy"})
        self.assertTrue(processor.outside_eea)
        self.assertEqual(processor.outside_eea_country_ids, self.country_ch)
        self.assertEqual(self.Processor.search([("outside_eea", "=", True), ("id", "=", processor.id)]), processor)

    def test_processor_outside_eea_without_safeguard_refused(self):
        count = self.Processor.search_count([])
        with self.assertRefused(ValidationError, r"Cloudy Hosting Inc\..*outside the EEA \(United States\)"):
            self.Processor.create({"partner_id": self.vendor.id, "location_country_ids": [(4, self.country_us.id)]})
        self.assertEqual(self.Processor.search_count([]), count, "nothing was written")
        processor = self.Processor.create(
            {"partner_id": self.vendor.id, "location_country_ids": [(4, self.country_fr.id)]}
        )
        with self.assertRefused(ValidationError, "transfer safeguard"):
            processor.write({"location_country_ids": [(4, self.country_us.id)]})
        self.assertEqual(processor.location_country_ids, self.country_fr)

    def test_processor_dpa_date_in_future_refused(self):
        tomorrow = fields.Date.today() + timedelta(days=1)
        with self.assertRefused(ValidationError, "cannot be signed in the future"):
            self.Processor.create({"partner_id": self.vendor.id, "dpa_signed": True, "dpa_date": tomorrow})

    def test_processor_listed_once_per_company(self):
        self.Processor.create({"partner_id": self.vendor.id})
        with self.assertRefused(ValidationError, "already in the register of processors"):
            self.Processor.create({"partner_id": self.vendor.id})
        self.assertEqual(self.Processor.search_count([("partner_id", "=", self.vendor.id)]), 1)
        company_2 = self.env["res.company"].create({"name": "GDPR Company 2"})
        self.Processor.create({"partner_id": self.vendor.id, "company_id": company_2.id})

    def test_processor_cannot_be_its_own_subprocessor(self):
        processor = self.Processor.create({"partner_id": self.vendor.id})
        with self.assertRefused(ValidationError, "its own sub-processor"):
            processor.subprocessor_ids = processor

    def test_processor_review_activity(self):
        review = fields.Date.today() + timedelta(days=90)
        processor = self.Processor.with_user(self.user_dpo).create(
            {"partner_id": self.vendor_eu.id, "next_review_date": review}
        )
        review_type = self.env.ref("gdpr_crm.mail_activity_type_processor_review")
        activity = processor.activity_ids
        self.assertEqual(len(activity), 1)
        self.assertEqual(activity.activity_type_id, review_type)
        self.assertEqual(activity.date_deadline, review - timedelta(days=30))
        self.assertLess(activity.date_deadline, review, "the reminder falls before the review")
        self.assertEqual(activity.user_id, self.user_dpo)
        # moving the review moves the same reminder, and its summary says the new date
        later = review + timedelta(days=10)
        processor.next_review_date = later
        self.assertEqual(processor.activity_ids, activity)
        self.assertEqual(activity.date_deadline, review - timedelta(days=20))
        self.assertIn(format_date(self.env, later), activity.summary)
        # a review due soon: the reminder is due today, never in the past
        processor.next_review_date = fields.Date.today() + timedelta(days=3)
        self.assertEqual(activity.date_deadline, fields.Date.today())
        # another to-do on the processor is left alone
        other = processor.activity_schedule("mail.mail_activity_data_todo", summary="Call the vendor")
        processor.next_review_date = False
        self.assertEqual(processor.activity_ids, other)
        # once a review is done, the next review date schedules a new reminder
        processor.next_review_date = review
        processor.activity_ids.filtered(lambda a: a.activity_type_id == review_type).action_feedback("Reviewed")
        processor.next_review_date = later
        new = processor.activity_ids - other
        self.assertEqual((new.activity_type_id, new.date_deadline), (review_type, review - timedelta(days=20)))
        # several processors at once: one reminder each
        processors = processor | self.Processor.create({"partner_id": self.vendor.id})
        processors.write({"next_review_date": review})
        self.assertEqual(
            sorted(processors.activity_ids.filtered(lambda a: a.activity_type_id == review_type).mapped("res_id")),
            sorted(processors.ids),
        )

    # ------------------------------------------------------------------
    # Report and export
    # ------------------------------------------------------------------
    def _register(self):
        processor = self.Processor.create(
            {
                "partner_id": self.vendor.id,
                "services": "Hosting",
                "dpa_signed": True,
                "location_country_ids": [(4, self.country_us.id)],
                "transfer_safeguard": "scc",
            }
        )
        self.Activity.create(
            {
                "name": "Event invitations",
                "reference": "REG-9",
                "processor_ids": [(4, processor.id)],
                "data_category_ids": [(4, self.env.ref("gdpr_crm.data_category_health").id)],
                "dpia_large_scale": True,
                "dpia_sensitive_data": True,
            }
        )
        return self.Activity.search([("company_id", "=", self.company.id)])

    def test_register_html_report(self):
        activities = self._register()
        self.assertGreaterEqual(len(activities), 4)
        html = self.env["ir.actions.report"]._render_qweb_html("gdpr_crm.action_report_gdpr_register", activities.ids)[
            0
        ]
        html = html.decode()
        for activity in activities:
            self.assertIn(activity.name, html)
        self.assertIn("Register of processing activities", html)
        self.assertIn("Delphine Protection", html, "the cover names the DPO")
        self.assertIn(self.company.name, html, "the cover names the controller")
        self.assertIn("Cloudy Hosting Inc.", html)
        self.assertIn("Standard contractual clauses", html)
        self.assertRegex(html, r"Required \(criteria met: <span>2</span>\)")
        self.assertEqual(html.count("page-break-before: always"), len(activities), "one page per activity")

    def test_print_register_prints_everything(self):
        activities = self._register()
        action = self.Activity.with_context(discard_logo_check=True).action_print_register()
        self.assertEqual(action["report_name"], "gdpr_crm.report_gdpr_register")
        self.assertEqual(set(action["context"]["active_ids"]), set(activities.ids))

    def _download(self, action):
        attachment_id = int(action["url"].split("/")[3].split("?")[0])
        return self.env["ir.attachment"].browse(attachment_id)

    def test_export_register_csv(self):
        activities = self._register()
        action = self.Activity.with_user(self.user_dpo).action_export_register_csv()
        attachment = self._download(action)
        self.assertTrue(attachment.name.endswith(".csv"))
        rows = list(csv.reader(io.StringIO(attachment.raw.decode("utf-8-sig"))))
        header = rows[0]
        self.assertIn("Processing activity", header)
        self.assertIn("Transfer safeguard", header)
        self.assertEqual(len(rows), len(activities) + 1)
        by_name = {row[header.index("Processing activity")]: row for row in rows[1:]}
        self.assertEqual(set(by_name), set(activities.mapped("name")))
        event = by_name["Event invitations"]
        self.assertEqual(event[header.index("Reference")], "REG-9")
        self.assertEqual(event[header.index("Countries outside the EEA")], "United States")
        self.assertEqual(event[header.index("DPIA required")], "Yes")
        self.assertEqual(event[header.index("Special categories")], "Yes")
        newsletter = by_name["Newsletter"]
        self.assertIn("Newsletter (Consent)", newsletter[header.index("Purposes")])
        log = self.env["gdpr.audit.log"].search(
            [("event_type", "=", "export"), ("model", "=", "gdpr.processing.activity")], limit=1
        )
        self.assertEqual(log.record_count, len(activities))
        self.assertEqual(log.user_id, self.user_dpo)

    def test_export_register_csv_cells_are_not_formulas(self):
        activity = self.Activity.create({"name": "Events", "recipients": "=1+1", "data_sources": "@SUM(A1)"})
        action = activity.with_user(self.user_dpo).action_export_register_csv()
        rows = list(csv.reader(io.StringIO(self._download(action).raw.decode("utf-8-sig"))))
        header = rows[0]
        self.assertEqual(rows[1][header.index("Recipients")], "'=1+1")
        self.assertEqual(rows[1][header.index("Data sources")], "'@SUM(A1)")
        self.assertEqual(rows[1][header.index("Processing activity")], "Events")

    def test_export_register_xlsx_selected(self):
        activities = self._register()
        selected = activities.filtered(lambda a: a.name in ("Newsletter", "Event invitations"))
        attachment = self._download(selected.action_export_register())
        self.assertTrue(attachment.name.endswith(".xlsx"))
        sheet = openpyxl.load_workbook(io.BytesIO(attachment.raw)).active
        rows = [[cell.value for cell in row] for row in sheet.iter_rows()]
        self.assertEqual(rows[0][1], "Processing activity")
        self.assertEqual(sorted(row[1] for row in rows[1:]), ["Event invitations", "Newsletter"])

    def test_export_bad_format_refused(self):
        with self.assertRefused(ValidationError, "XLSX or CSV"):
            self.Activity.action_export_register("pdf")

    def test_french_translation(self):
        self.env["res.lang"]._activate_lang("fr_FR")
        self.env["ir.module.module"]._load_module_terms(["gdpr_crm"], ["fr_FR"], overwrite=True)
        fr = self.env(context=dict(self.env.context, lang="fr_FR"))
        self.assertEqual(fr.ref("gdpr_crm.data_category_health").name, "Données de santé")
        self.assertEqual(fr.ref("gdpr_crm.processing_activity_prospecting").name, "Prospection")
        self.assertEqual(fr.ref("gdpr_crm.menu_gdpr_breach").name, "Violations de données")
        safeguards = dict(fr["gdpr.processor"].fields_get(["transfer_safeguard"])["transfer_safeguard"]["selection"])
        self.assertEqual(safeguards["scc"], "Clauses contractuelles types (art. 46)")
        html = (
            fr["ir.actions.report"]
            ._render_qweb_html("gdpr_crm.action_report_gdpr_register", self._register().ids)[0]
            .decode()
        )
        self.assertIn("Registre des activités de traitement", html)
        self.assertIn("Délégué à la protection des données", html)

    # ------------------------------------------------------------------
    # Access
    # ------------------------------------------------------------------
    def test_salesperson_has_no_access(self):
        activity = self.env.ref("gdpr_crm.processing_activity_newsletter")
        processor = self.Processor.create({"partner_id": self.vendor_eu.id})
        records = [
            activity,
            processor,
            self.env.ref("gdpr_crm.data_category_health"),
            self.env.ref("gdpr_crm.subject_category_customers"),
            self.env.ref("gdpr_crm.security_measure_backup"),
        ]
        for user in (self.user_salesman, self.user_portal, self.user_employee):
            for record in records:
                with self.subTest(user=user.login, model=record._name), self.assertRaises(AccessError):
                    record.with_user(user).read(["name"])
            with self.assertRaises(AccessError):
                self.Activity.with_user(user).create({"name": "Mine"})
            with self.assertRaises(AccessError):
                self.Processor.with_user(user).create({"partner_id": self.vendor.id})

    def test_dpo_manages_registers(self):
        activity = self.Activity.with_user(self.user_dpo).create({"name": "Recruitment"})
        activity.write({"company_role": "processor", "client_controller_ids": [(4, self.vendor.id)]})
        self.assertEqual(activity.dpo_partner_id, self.dpo_partner)
        processor = self.Processor.with_user(self.user_dpo).create({"partner_id": self.vendor_eu.id})
        processor.unlink()
        self.assertFalse(processor.exists())

    def test_multi_company(self):
        company_2 = self.env["res.company"].create({"name": "GDPR Company 2"})
        processor_2 = self.Processor.create({"partner_id": self.vendor.id, "company_id": company_2.id})
        activity_2 = self.Activity.create({"name": "Company 2 activity", "company_id": company_2.id})
        self.assertFalse(self.Processor.with_user(self.user_dpo).search([("id", "=", processor_2.id)]))
        self.assertFalse(self.Activity.with_user(self.user_dpo).search([("id", "=", activity_2.id)]))
        # the export of the whole register stays within the allowed companies
        attachment = self._download(self.Activity.with_user(self.user_dpo).action_export_register_csv())
        self.assertNotIn("Company 2 activity", attachment.raw.decode("utf-8-sig"))


@tagged("post_install", "-at_install", "gdpr_crm")
class TestRegisterPdf(HttpCase):
    """The PDF goes through wkhtmltopdf, which fetches the report's assets from
    the test server: an HttpCase, so that its requests share the test cursor."""

    def test_register_pdf_report(self):
        activities = self.env["gdpr.processing.activity"].search([])
        self.assertGreaterEqual(len(activities), 3)
        report = self.env["ir.actions.report"].with_context(force_report_rendering=True)
        # Debian's wkhtmltopdf (unpatched Qt) warns that it ignores the header
        # and footer switches: a fact of the machine, not of the report.
        with mute_logger("odoo.addons.base.models.ir_actions_report"):
            pdf, report_type = report._render_qweb_pdf("gdpr_crm.action_report_gdpr_register", activities.ids)
        self.assertEqual(report_type, "pdf")
        self.assertTrue(pdf.startswith(b"%PDF"))
        self.assertGreater(len(pdf), 5000)
