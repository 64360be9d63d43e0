# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from datetime import timedelta

import psycopg2

from odoo import fields
from odoo.exceptions import AccessDenied, AccessError, UserError
from odoo.tests import tagged
from odoo.tools import mute_logger

from odoo.addons.mail.tests.common import mail_new_test_user

from ..lib import keys
from ..models.gdpr_audit_log import GENESIS_HASH, seal_message
from .common import GdprCase


@tagged("post_install", "-at_install", "gdpr_crm")
class TestAuditLog(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.AuditLog = cls.env["gdpr.audit.log"]
        cls.partner = cls.env["res.partner"].create({"name": "Jeanne Martin", "email": "jeanne@example.com"})

    def _entries(self, event_type, **filters):
        domain = [("event_type", "=", event_type)] + [(key, "=", value) for key, value in filters.items()]
        return self.AuditLog.search(domain)

    def _last_entry(self):
        return self.AuditLog.search([], order="id desc", limit=1)

    # Chain -------------------------------------------------------------------------
    def test_entries_are_chained(self):
        first = self.AuditLog._gdpr_log("request", model="res.partner", res_id=self.partner.id, description="one")
        second = self.AuditLog._gdpr_log(
            "consent", records=self.partner, description="deux — élève « ok »", code="login", params={"n": [1, 2]}
        )
        # written unsealed (no lock, no read of the chain), sealed in id order afterwards
        self.assertFalse(second.hash)
        self.assertTrue(self.AuditLog._gdpr_seal())
        self.assertEqual(second.previous_hash, first.hash)
        self.assertEqual(second.chain_seq, first.chain_seq + 1)
        self.assertEqual(len(second.hash), 64)
        self.env.cr.execute(
            "SELECT id, create_date, user_ref, event_type, model, res_id, record_count, description, "
            "ip_address, user_agent, company_id, code, params FROM gdpr_audit_log WHERE id = %s",
            (second.id,),
        )
        row = self.env.cr.dictfetchone()
        # keyed: the key derives from the configuration's secret, not from the database
        key = self.env["gdpr.keyring"]._gdpr_key("audit", second.key_id)
        self.assertEqual(keys.sign(key, seal_message(first.hash, row, second.chain_seq)), second.hash)
        self.assertEqual(second.res_id, self.partner.id)
        self.assertEqual(second.record_count, 1)
        self.assertIs(self.AuditLog.verify_chain(), False)
        oldest = self.AuditLog.search([], order="id asc", limit=1)
        self.assertEqual(oldest.previous_hash, GENESIS_HASH)

    def test_one_insert_per_entry(self):
        self.AuditLog._gdpr_log("request", description="warm-up")
        self.env.cr.execute("SELECT count(*) FROM gdpr_audit_log")
        before = self.env.cr.fetchone()[0]
        # one round trip: the INSERT (no lock, no read of the chain head)
        with self.assertQueryCount(1):
            self.AuditLog._gdpr_log("request", model="res.partner", res_id=self.partner.id, description="cheap")
        self.env.cr.execute("SELECT count(*) FROM gdpr_audit_log")
        self.assertEqual(self.env.cr.fetchone()[0], before + 1)

    def test_unknown_event_type_refused(self):
        with self.assertRaises(UserError):
            self.AuditLog._gdpr_log("coffee_break")

    # Append-only --------------------------------------------------------------------
    def test_orm_cannot_change_or_delete(self):
        entry = self.AuditLog._gdpr_log("request", description="keep me")
        admin = self.env.ref("base.user_admin")
        for env in (self.env, self.env(user=admin), self.env(user=self.user_dpo)):
            with self.assertRaisesRegex(Exception, "append-only|not allowed"):
                entry.with_env(env).write({"description": "changed"})
            with self.assertRaisesRegex(Exception, "append-only|not allowed"):
                entry.with_env(env).unlink()
        # creating entries by hand is for the application only
        with self.assertRaises(AccessError):
            self.AuditLog.with_user(self.user_dpo).create({"event_type": "request", "description": "forged"})
        entry.invalidate_recordset()
        self.assertEqual(entry.description, "keep me")

    @mute_logger("odoo.sql_db")
    def test_sql_cannot_change_or_delete(self):
        entry = self.AuditLog._gdpr_log("request", description="keep me")
        self.env.flush_all()
        with self.assertRaises(psycopg2.Error):
            self.env.cr.execute("UPDATE gdpr_audit_log SET description = 'changed' WHERE id = %s", (entry.id,))
        with self.assertRaises(psycopg2.Error):
            self.env.cr.execute("DELETE FROM gdpr_audit_log WHERE id = %s", (entry.id,))
        with self.assertRaises(psycopg2.Error):
            self.env.cr.execute("TRUNCATE gdpr_audit_log")
        # pretending to be the purge does not help for recent entries
        with self.assertRaises(psycopg2.Error):
            self.env.cr.execute(
                "SELECT set_config('gdpr_crm.audit_log_purge_before', '2999-01-01 00:00:00', true); "
                "DELETE FROM gdpr_audit_log WHERE id = %s",
                (entry.id,),
            )
        self.env.cr.execute("SELECT description FROM gdpr_audit_log WHERE id = %s", (entry.id,))
        self.assertEqual(self.env.cr.fetchone()[0], "keep me")

    def test_verify_chain_names_tampered_entry(self):
        self.AuditLog._gdpr_log("request", description="before")
        tampered = self.AuditLog._gdpr_log("export", model="res.partner", record_count=3, description="exported")
        self.AuditLog._gdpr_log("request", description="after")
        self.assertIs(self.AuditLog.verify_chain(), False)  # seals them
        self.env.flush_all()
        self.env.cr.execute("ALTER TABLE gdpr_audit_log DISABLE TRIGGER gdpr_audit_log_append_only")
        self.env.cr.execute("UPDATE gdpr_audit_log SET record_count = 1 WHERE id = %s", (tampered.id,))
        self.env.cr.execute("ALTER TABLE gdpr_audit_log ENABLE TRIGGER gdpr_audit_log_append_only")
        self.assertEqual(self.AuditLog.verify_chain(), tampered.id)
        action = self.AuditLog.action_verify_chain()
        self.assertEqual(action["params"]["type"], "danger")
        self.assertIn(str(tampered.id), action["params"]["message"])

    @mute_logger("odoo.sql_db")
    def test_deleted_user_keeps_the_chain_intact(self):
        """Deleting a user empties user_id (ON DELETE SET NULL); the hashed user_ref stays."""
        user = mail_new_test_user(self.env, login="gdpr_leaving_user", groups="base.group_user", name="Leo Leaving")
        entry = self.AuditLog._gdpr_log("login", user=user, description="Login")
        user.unlink()
        entry.invalidate_recordset()
        self.assertFalse(entry.user_id)
        self.assertEqual(entry.user_ref, user.id)
        self.assertIs(self.AuditLog.verify_chain(), False)
        # only that: changing the user of an entry in SQL is still refused
        other = self.AuditLog._gdpr_log("login", user=self.user_salesman, description="Login")
        self.env.flush_all()
        with self.assertRaises(psycopg2.Error):
            self.env.cr.execute("UPDATE gdpr_audit_log SET user_id = %s WHERE id = %s", (self.user_dpo.id, other.id))
        with self.assertRaises(psycopg2.Error):
            self.env.cr.execute(
                "UPDATE gdpr_audit_log SET user_id = NULL, description = 'x' WHERE id = %s", (other.id,)
            )

    def test_verify_chain_detects_deleted_entry(self):
        self.AuditLog._gdpr_log("request", description="one")
        removed = self.AuditLog._gdpr_log("request", description="two")
        following = self.AuditLog._gdpr_log("request", description="three")
        self.AuditLog._gdpr_seal()
        self.env.cr.execute("ALTER TABLE gdpr_audit_log DISABLE TRIGGER gdpr_audit_log_append_only")
        self.env.cr.execute("DELETE FROM gdpr_audit_log WHERE id = %s", (removed.id,))
        self.env.cr.execute("ALTER TABLE gdpr_audit_log ENABLE TRIGGER gdpr_audit_log_append_only")
        self.assertEqual(self.AuditLog.verify_chain(), following.id)

    def test_purge_removes_only_expired_entries_and_logs_itself(self):
        self.env["ir.config_parameter"].set_param("gdpr_crm.audit_log_retention_days", 180)
        old = self.AuditLog._gdpr_log("request", description="old")
        recent = self.AuditLog._gdpr_log("request", description="recent")
        self.env.flush_all()
        # age every entry up to `old` (the entries of the set-up included)
        self.env.cr.execute("ALTER TABLE gdpr_audit_log DISABLE TRIGGER gdpr_audit_log_append_only")
        self.env.cr.execute(
            "UPDATE gdpr_audit_log SET create_date = %s WHERE id <= %s",
            (fields.Datetime.now() - timedelta(days=400), old.id),
        )
        self.env.cr.execute("ALTER TABLE gdpr_audit_log ENABLE TRIGGER gdpr_audit_log_append_only")
        self.env.cr.execute("SELECT count(*) FROM gdpr_audit_log WHERE id <= %s", (old.id,))
        expired = self.env.cr.fetchone()[0]
        purged = self.AuditLog._gdpr_purge_expired()
        self.assertEqual(purged, expired)
        self.assertFalse(old.exists())
        self.assertTrue(recent.exists())
        purge_entry = self._last_entry()
        self.assertEqual(purge_entry.event_type, "retention")
        self.assertEqual(purge_entry.res_id, recent.id)
        self.assertEqual(purge_entry.record_count, expired)
        # the chain still verifies from its new start, and nothing else can go
        self.assertIs(self.AuditLog.verify_chain(), False)
        self.assertEqual(self.AuditLog._gdpr_purge_expired(), 0)

    def test_purge_disabled_when_kept_forever(self):
        self.env["ir.config_parameter"].set_param("gdpr_crm.audit_log_retention_days", 0)
        self.assertEqual(self.AuditLog._gdpr_purge_expired(), 0)

    # What is logged --------------------------------------------------------------------
    def _enter_test_mode(self):
        # authenticate() opens its own cursors: make them see this test's users
        self.registry.enter_test_mode(self.env.cr)
        self.addCleanup(self.registry.leave_test_mode)

    def _failed_login(self, login, password):
        # not assertRaises: it would roll the entry back with its savepoint
        try:
            with mute_logger("odoo.addons.base.models.res_users"):
                self.env["res.users"].authenticate(
                    self.env.cr.dbname,
                    {"type": "password", "login": login, "password": password},
                    {"interactive": True},
                )
        except AccessDenied:
            return True
        return False

    def test_failed_login_is_logged(self):
        self._enter_test_mode()
        self.assertTrue(self._failed_login("gdpr_salesman", "not-the-password"))
        entry = self._entries("login_failed")[:1]
        self.assertEqual(entry.event_type, "login_failed")
        self.assertEqual(entry.user_id, self.user_salesman)
        self.assertEqual(entry.res_id, self.user_salesman.id)
        self.assertNotIn("not-the-password", entry.description)

        self.assertTrue(self._failed_login("nobody-here", "whatever"))
        entry = self._entries("login_failed")[:1]
        self.assertEqual(entry.event_type, "login_failed")
        self.assertFalse(entry.user_id)
        self.assertNotIn("nobody-here", entry.description)

    def test_login_is_logged(self):
        self._enter_test_mode()
        auth_info = self.env["res.users"].authenticate(
            self.env.cr.dbname,
            {"type": "password", "login": "gdpr_salesman", "password": "gdpr_salesman"},
            {"interactive": True},
        )
        self.assertEqual(auth_info["uid"], self.user_salesman.id)
        entry = self._entries("login", user_id=self.user_salesman.id)
        self.assertEqual(len(entry), 1)
        self.assertEqual(entry.res_id, self.user_salesman.id)

    def test_export_is_logged_with_count_and_fields(self):
        self.user_salesman.write({"groups_id": [(4, self.env.ref("base.group_allow_export").id)]})
        partners = self.env["res.partner"].create(
            [{"name": f"Export {i}", "email": f"e{i}@example.com"} for i in range(3)]
        )
        result = partners.with_user(self.user_salesman).export_data(["name", "email", "country_id/name"])
        self.assertEqual(len(result["datas"]), 3)
        entry = self._last_entry()
        self.assertEqual(entry.event_type, "export")
        self.assertEqual(entry.user_id, self.user_salesman)
        self.assertEqual(entry.model, "res.partner")
        self.assertEqual(entry.record_count, 3)
        self.assertIn("email", entry.description)
        self.assertIn("country_id", entry.description)
        self.assertNotIn("e1@example.com", entry.description)

    def test_contact_smart_button_for_the_dpo(self):
        self.partner.write({"phone": "+33 1 23 45 67 89"})
        self.AuditLog._gdpr_log("consent", records=self.partner, description="consent given")
        partner = self.partner.with_user(self.user_dpo)
        self.assertEqual(partner.gdpr_audit_log_count, 3)  # created, changed, consent
        action = partner.action_gdpr_view_audit_log()
        entries = self.AuditLog.with_user(self.user_dpo).search(action["domain"])
        self.assertEqual(len(entries), 3)
        self.assertEqual(set(entries.mapped("res_id")), {self.partner.id})
        with self.assertRaises(AccessError):
            self.partner.with_user(self.user_salesman).read(["gdpr_audit_log_count"])

    def test_report_on_contacts_is_logged(self):
        view = self.env["ir.ui.view"].create(
            {
                "name": "gdpr_crm.test_partner_report",
                "type": "qweb",
                "key": "gdpr_crm.test_partner_report",
                "arch": '<t t-name="gdpr_crm.test_partner_report"><p t-foreach="docs" t-as="o" t-out="o.name"/></t>',
            }
        )
        report = self.env["ir.actions.report"].create(
            {
                "name": "Contact sheet",
                "model": "res.partner",
                "report_type": "qweb-html",
                "report_name": view.key,
            }
        )
        partners = self.partner | self.env["res.partner"].create({"name": "Marc Leroy"})
        html, _type = report._render(report.report_name, partners.ids)
        self.assertIn(b"Marc Leroy", html)
        entry = self._entries("export")[:1]
        self.assertEqual((entry.model, entry.record_count), ("res.partner", 2))
        self.assertIn(view.key, entry.description)

    def test_personal_data_change_is_logged_without_values(self):
        partner = self.partner.with_user(self.user_salesman)
        partner.write({"email": "jeanne.martin@example.org", "phone": "+33 6 12 34 56 78"})
        # written with the transaction's other entries when it commits (cr.flush)
        self.env.cr.flush()
        self.env.cr.execute(
            "SELECT count(*) FROM gdpr_audit_log WHERE event_type = 'personal_data_change' AND res_id = %s",
            (self.partner.id,),
        )
        self.assertEqual(self.env.cr.fetchone()[0], 2)  # the create of the set-up, this write
        entry = self._last_entry()
        self.assertEqual(entry.event_type, "personal_data_change")
        self.assertEqual(entry.user_id, self.user_salesman)
        self.assertEqual((entry.model, entry.res_id), ("res.partner", self.partner.id))
        self.assertIn("email", entry.description)
        self.assertIn("phone", entry.description)
        self.assertNotIn("jeanne.martin@example.org", entry.description)
        self.assertNotIn("12 34", entry.description)
        # a change of a non-personal field is not logged
        last_id = entry.id
        self.partner.write({"ref": "C-42"})
        self.assertEqual(self._last_entry().id, last_id)

    def test_lead_create_and_unlink_are_logged(self):
        lead = self.env["crm.lead"].create(
            {"name": "Deal", "contact_name": "Paul Durand", "email_from": "p@example.com"}
        )
        entry = self._last_entry()
        self.assertEqual((entry.event_type, entry.model, entry.res_id), ("personal_data_change", "crm.lead", lead.id))
        self.assertIn("email_from", entry.description)
        self.assertNotIn("Paul Durand", entry.description)
        lead_id = lead.id
        lead.unlink()
        entry = self._last_entry()
        self.assertEqual((entry.event_type, entry.res_id), ("personal_data_change", lead_id))
        self.assertTrue(entry.description.startswith("unlink crm.lead"))

    def test_group_change_is_logged(self):
        manager = self.env.ref("sales_team.group_sale_manager")
        self.user_salesman.write({"groups_id": [(4, manager.id)]})
        entry = self._last_entry()
        self.assertEqual(entry.event_type, "access_change")
        self.assertEqual(entry.res_id, self.user_salesman.id)
        self.assertIn(manager.full_name, entry.description)

    # Bad input ------------------------------------------------------------------------
    def test_user_cannot_grant_themselves_dpo(self):
        admin_rights = self.env.ref("base.group_erp_manager")
        self.user_employee.write({"groups_id": [(4, admin_rights.id)]})
        dpo = self.env.ref("gdpr_crm.group_gdpr_dpo")
        employee = self.user_employee.with_user(self.user_employee)
        with self.assertRaisesRegex(UserError, "cannot make yourself Data Protection Officer"):
            employee.write({"groups_id": [(4, dpo.id)]})
        with self.assertRaisesRegex(UserError, "cannot make yourself Data Protection Officer"):
            employee.write({"groups_id": [(4, self.env.ref("base.group_system").id)]})
        self.user_employee.invalidate_recordset()
        self.assertFalse(self.user_employee.has_group("gdpr_crm.group_gdpr_dpo"))
        # another administrator may grant it
        self.user_salesman.with_user(self.user_employee).write({"groups_id": [(4, dpo.id)]})
        self.assertTrue(self.user_salesman.has_group("gdpr_crm.group_gdpr_dpo"))

    def test_last_dpo_cannot_be_deactivated(self):
        dpo_group = self.env.ref("gdpr_crm.group_gdpr_dpo")
        others = dpo_group.users.filtered(lambda u: u.active and not u.share) - self.user_dpo
        # leave Dora as the only active DPO
        others.write({"active": False})
        with self.assertRaisesRegex(UserError, "last active Data Protection Officer"):
            self.user_dpo.write({"active": False})
        with self.assertRaisesRegex(UserError, "last active Data Protection Officer"):
            self.user_dpo.write({"groups_id": [(3, dpo_group.id)]})
        self.user_dpo.invalidate_recordset()
        self.assertTrue(self.user_dpo.active)
        self.assertTrue(self.user_dpo.has_group("gdpr_crm.group_gdpr_dpo"))
        # once another DPO exists, Dora can go
        self.user_employee.write({"groups_id": [(4, dpo_group.id)]})
        self.user_dpo.write({"active": False})
        self.assertFalse(self.user_dpo.active)

    def test_access_change_of_several_users_logs_one_entry_each(self):
        manager = self.env.ref("sales_team.group_sale_manager")
        users = self.user_salesman | self.user_employee
        users.write({"groups_id": [(4, manager.id)]})
        entries = self.AuditLog.search(
            [
                ("event_type", "=", "access_change"),
                ("res_id", "in", users.ids),
                ("description", "like", "User access: groups added"),
            ]
        )
        self.assertEqual(sorted(entries.mapped("res_id")), sorted(users.ids))
        for entry in entries:
            self.assertEqual(entry.model, "res.users")
            self.assertIn(manager.full_name, entry.description)
        self.assertIs(self.AuditLog.verify_chain(), False)

    @mute_logger("odoo.sql_db")
    def test_consent_history_is_append_only_too(self):
        """The consent history uses the same triggers (create_append_only_triggers)."""
        self.env.cr.execute(
            "SELECT tgname FROM pg_trigger WHERE tgrelid = 'gdpr_consent_event'::regclass AND NOT tgisinternal"
        )
        triggers = {row[0] for row in self.env.cr.fetchall()}
        self.assertEqual(triggers, {"gdpr_consent_event_append_only", "gdpr_consent_event_no_truncate"})
        with self.assertRaises(psycopg2.Error):
            self.env.cr.execute("TRUNCATE gdpr_consent_event")
