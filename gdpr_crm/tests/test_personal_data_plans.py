# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo.tests import tagged
from odoo.tools import SQL

from .common import GdprCase

ROWS = 60_000


@tagged("post_install", "-at_install", "gdpr_crm")
class TestLookupPlans(GdprCase):
    """The engine's lookups stay index lookups on tables of a realistic size,
    including the columns holding an address among other text (what
    mass_mailing adds: mail_mail.email_to, mailing_trace.email) and the free
    text searched for name mentions."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cr = cls.env.cr
        cls.engine = cls.env["gdpr.personal.data"]
        cls.engine._gdpr_ensure_indexes()
        message = cls.env["mail.message"].create({"body": "<p>Newsletter</p>", "message_type": "email"})
        cr.execute(
            """
            INSERT INTO mail_mail (mail_message_id, email_to, body_html, state, auto_delete)
            SELECT %s, '"Person ' || k || '" <person' || k || '@example' || (k %% 50) || '.com>, team@example.org',
                   '<p>Newsletter</p>', 'exception', false
              FROM generate_series(1, %s) AS k
            """,
            [message.id, ROWS],
        )
        cr.execute(
            """
            INSERT INTO mail_message (model, res_id, body, message_type, date, create_date, write_date)
            SELECT 'res.partner', %s, '<p>Follow-up #' || k || ': lunch with Person ' || k || ' next week.</p>',
                   'comment', now(), now(), now()
              FROM generate_series(1, %s) AS k
            """,
            [cls.env.user.partner_id.id, ROWS],
        )
        # what autovacuum does on a live database: move the rows just inserted
        # from the GIN indexes' pending lists into the indexes (a long pending
        # list makes the planner prefer a scan, whatever the index)
        cr.execute(
            """
            SELECT gin_clean_pending_list(i.indexrelid)
              FROM pg_index i
              JOIN pg_class c ON c.oid = i.indexrelid
              JOIN pg_am am ON am.oid = c.relam AND am.amname = 'gin'
             WHERE i.indrelid IN ('mail_mail'::regclass, 'mail_message'::regclass)
            """
        )
        cr.execute("ANALYZE mail_mail")
        cr.execute("ANALYZE mail_message")

    def _plan(self, queries):
        self.assertTrue(queries)
        query = SQL(" UNION ALL ").join(queries)
        self.env.cr.execute(SQL("EXPLAIN %s", query))
        return "\n".join(row[0] for row in self.env.cr.fetchall())

    def test_address_in_text_is_an_index_lookup(self):
        discovered = self.engine._gdpr_discover()
        self.assertIn("email_to", discovered["mail.mail"]["email"])
        queries = self.engine._gdpr_direct_queries(
            {"mail.mail": discovered["mail.mail"]}, [], ["person4242@example42.com"], []
        )
        plan = self._plan(queries)
        self.assertNotIn("Seq Scan on mail_mail", plan)
        self.assertIn("gdpr_mail_mail_email_to_emails", plan)
        rows = self.engine._gdpr_execute_union(queries)
        self.env.cr.execute("SELECT id FROM mail_mail WHERE email_to LIKE '%%<person4242@example42.com>%%'")
        self.assertEqual({row[1] for row in rows}, {row[0] for row in self.env.cr.fetchall()})
        self.assertEqual(len(rows), 1, "person42420@… is somebody else")

    def test_name_mentions_are_index_lookups(self):
        queries = self.engine._gdpr_name_queries(["Person 4242"])
        plan = self._plan(queries)
        self.assertNotIn("Seq Scan on mail_message", plan)
        self.assertIn("gdpr_mail_message_body_trgm", plan)
        found = {(model, res_id) for model, res_id, _field in self.engine._gdpr_execute_union(queries)}
        self.env.cr.execute("SELECT id FROM mail_message WHERE body LIKE '%%lunch with Person 4242 next%%'")
        self.assertEqual(found, {("mail.message", row[0]) for row in self.env.cr.fetchall()})

    def test_uninstall_drops_the_engine_indexes(self):
        dropped = self.engine._gdpr_drop_indexes()
        self.assertIn("gdpr_mail_mail_email_to_emails", dropped)
        self.assertIn("gdpr_res_partner_email_normalized_idx", dropped)
        self.env.cr.execute(
            "SELECT indexname FROM pg_indexes WHERE indexname LIKE 'gdpr\\_%%' AND tablename NOT LIKE 'gdpr\\_%%'"
        )
        self.assertEqual(self.env.cr.fetchall(), [])
        self.env.cr.execute("SELECT 1 FROM pg_indexes WHERE indexname = 'gdpr_mention_value_field_idx'")
        self.assertTrue(self.env.cr.fetchone(), "gdpr_crm's own tables keep theirs (dropped with them)")
        # installing again (or a module installed later) creates them again
        created = self.engine._gdpr_ensure_indexes()
        self.assertIn("mail_mail.email_to", created)
        self.assertIn("mail_message.body", created)
