# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Fuzz tests: bad input anywhere gets a clear error and changes nothing.

- Every public method that gdpr_crm defines on its ``gdpr.*`` models (found
  by introspecting the registry), and their ``create``/``write``, called as
  administrator, DPO, salesperson and portal user with missing, wrong-typed,
  huge, negative, far-past and far-future values: each call succeeds or
  raises ``UserError``/``ValidationError``/``AccessError`` (``MissingError``
  for a deleted record), and a refused call leaves the database as it was.
- Every public route of the addon, with forged, truncated, 100 kB, Unicode
  and percent-encoded tokens, by GET and POST: never an HTTP 500.

The values are sampled (seeded), not crossed with each other, so that the
suite stays well under two minutes.
"""

import inspect
import random
import re
from urllib.parse import quote

from odoo.exceptions import AccessError, MissingError, UserError, ValidationError
from odoo.tests import HttpCase, tagged
from odoo.tools import mute_logger

from .common import GdprCase

REFUSED = (UserError, ValidationError, AccessError, MissingError)
JUNK = [
    None,
    False,
    True,
    0,
    -1,
    -(2**63),
    2**63,
    200_000,
    1.5,
    float("inf"),
    "",
    "   ",
    "garbage",
    "²",
    "x" * 1_000_000,
    "ünïcødé ☃ \x00",
    "1900-01-01",
    "0001-01-01 00:00:00",
    "9999-12-31",
    "3000-01-01 12:00:00",
    [],
    ["x"],
    [(9, 0, 0)],
    {},
    {"a": 1},
    b"\xff\xfe",
]
# The ORM's own entry points, fuzzed through create/write values instead;
# ``init`` is the database set-up of a model, not a user action.
SKIPPED_METHODS = {
    "create",
    "write",
    "read_group",
    "default_get",
    "fields_get",
    "get_view",
    "check_field_access_rights",
    "init",
}
# Tables whose content a refused call must leave unchanged.
WATCHED_TABLES = ("res_partner", "crm_lead", "gdpr_consent_event", "res_users", "mail_mail")
# written by the application only, never by a user's create or write
INTERNAL_MODELS = {
    "gdpr.audit.log",
    "gdpr.audit.checkpoint",
    "gdpr.consent.event",
    "gdpr.mention",
    "gdpr.keyring",
    "gdpr.retention.run",
    "gdpr.sensitive.queue",
    "gdpr.suppression",
}
# the DPO edits them, but they come from the addon's data or its own computation
SHIPPED_SAMPLES = {"gdpr.personal.field", "gdpr.retention.policy", "gdpr.field.inventory"}
PER_PARAMETER = 5  # junk values tried per parameter of a method
PER_FIELD = 3  # junk values tried per field: one in create, the others in write


@tagged("post_install", "-at_install", "gdpr_crm", "gdpr_fuzz")
class TestFuzzModels(GdprCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.users = [cls.env.ref("base.user_admin"), cls.user_dpo, cls.user_salesman, cls.user_portal]
        cls.partner = cls.env["res.partner"].create({"name": "Fuzz Subject", "email": "fuzz.subject@example.com"})
        newsletter = cls.env.ref("gdpr_crm.purpose_newsletter")
        request = cls.env["gdpr.request"].create({"request_type": "erasure", "partner_id": cls.partner.id})
        execute = cls.env["gdpr.request.execute"].create({"request_id": request.id})
        cls.samples_vals = {
            "gdpr.purpose": {"name": "Fuzz", "code": "fuzz_purpose"},
            "gdpr.processing.activity": {"name": "Fuzz activity"},
            "gdpr.request": {"request_type": "erasure", "requester_email": "fuzz.requester@example.com"},
            "gdpr.consent": {"partner_id": cls.partner.id, "purpose_id": newsletter.id},
            "gdpr.processor": {"partner_id": cls.partner.id},
            "gdpr.breach": {"description": "Fuzz"},
            "gdpr.consent.record": {"partner_id": cls.partner.id, "purpose_id": newsletter.id},
            "gdpr.request.report": {"partner_id": cls.partner.id},
            "gdpr.request.execute": {"request_id": request.id},
            "gdpr.request.execute.line": {"wizard_id": execute.id},
            "gdpr.request.reject": {"request_id": request.id, "reason": "Fuzz"},
            "gdpr.request.extend": {"request_id": request.id, "reason": "Fuzz"},
            "gdpr.user.archive": {"user_ids": [(6, 0, cls.user_employee.ids)], "reason": "Fuzz"},
            "gdpr.legal.hold": {"name": "Fuzz", "model_id": cls.env["ir.model"]._get_id("crm.lead")},
            "gdpr.breach.notice": {
                "breach_id": cls.env["gdpr.breach"].create({"description": "Fuzz"}).id,
                "lang": "en_US",
            },
            "gdpr.request.rectify": {"request_id": request.id},
            "gdpr.sensitive.finding": {
                "res_model": "res.partner",
                "res_id": cls.partner.id,
                "field_name": "comment",
                "category": "health",
            },
        }
        cls.models = sorted(
            name
            for name, model in cls.env.registry.items()
            if name.startswith("gdpr.") and not model._abstract and name in cls.env
        )
        cls.samples = {}
        for name in cls.models:
            Model = cls.env[name].sudo()
            if name in INTERNAL_MODELS:  # written by the application only: take one of its records
                cls.samples[name] = Model.search([], limit=1).sudo(False)
                continue
            if name in SHIPPED_SAMPLES:  # made by the application or its data: take one of its records
                cls.samples[name] = Model.search([], limit=1).sudo(False)
                continue
            vals = cls.samples_vals.get(name, {"name": "Fuzz"} if "name" in Model._fields else {})
            cls.samples[name] = Model.create(vals).sudo(False)
        cls.env.flush_all()

    # ------------------------------------------------------------------
    def _fingerprint(self):
        tables = [self.env[name]._table for name in self.models if not self.env[name]._transient]
        # the log may record a refused attempt
        tables = [table for table in (*WATCHED_TABLES, *tables) if table != "gdpr_audit_log"]
        query = " UNION ALL ".join(
            f"(SELECT '{table}', count(*), md5(string_agg(t::text, ',' ORDER BY t.id)) FROM \"{table}\" t)"
            for table in tables
        )
        self.env.cr.execute(query)
        return self.env.cr.fetchall()

    def setUp(self):
        super().setUp()
        self.problems = []
        self.env.flush_all()
        # every call is rolled back: the database is this before each call
        self.before = self._fingerprint()

    @mute_logger("odoo.sql_db")  # the queries the fuzz breaks are reported below
    def _call(self, label, function):
        """Call ``function`` in a savepoint always rolled back; record what went wrong."""
        savepoint = self.env.cr.savepoint(flush=False)
        try:
            function()
            self.env.flush_all()
        except REFUSED:
            try:
                self.env.flush_all()
                if self._fingerprint() != self.before:
                    self.problems.append(f"{label}: refused, but the database changed")
            except Exception as error:
                self.problems.append(f"{label}: refused, then {type(error).__name__} at flush: {error}"[:300])
        except Exception as error:  # what the fuzz looks for
            self.problems.append(f"{label}: {type(error).__name__}: {error}"[:300])
        finally:
            savepoint.close(rollback=True)
            self.env.cr.clear()

    def _public_methods(self, model):
        """The public methods gdpr_crm defines (or overrides) on ``model``."""
        names = set()
        for cls in type(model).__mro__:
            # the addon's classes of gdpr.* models (not its extensions of every model)
            if not cls.__module__.startswith("odoo.addons.gdpr_crm") or not str(getattr(cls, "_name", "")).startswith(
                "gdpr."
            ):
                continue
            for name, member in vars(cls).items():
                if name.startswith("_") or name in SKIPPED_METHODS or not inspect.isfunction(member):
                    continue
                if getattr(member, "_api_private", False):
                    continue
                names.add(name)
        return sorted(names)

    def _recordsets(self, model_name, user):
        Model = self.env[model_name].with_user(user)
        return {
            "empty": Model.browse(),
            "sample": self.samples[model_name].with_user(user),
            "missing": Model.browse(2_000_000_000),
        }

    def test_public_methods_with_junk_arguments(self):
        rng = random.Random(11)
        calls = 0
        for model_name in self.models:
            model = self.env[model_name]
            for method_name in self._public_methods(model):
                params = [
                    p
                    for p in inspect.signature(getattr(type(model), method_name)).parameters.values()
                    if p.name != "self" and p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)
                ]
                for index, user in enumerate(self.users):
                    for kind, records in self._recordsets(model_name, user).items():
                        if kind != "sample" and index % 2:
                            continue  # no record: the administrator and the salesperson suffice
                        # missing values: no argument at all
                        label = f"{model_name}.{method_name}() as {user.login} on {kind}"
                        self._call(label, lambda r=records, m=method_name: getattr(r, m)())
                        calls += 1
                        if kind != "sample" or not params:
                            continue
                        for param in params:
                            for value in rng.sample(JUNK, PER_PARAMETER // 2 + index % 2):
                                label = f"{model_name}.{method_name}({param.name}={value!r:.40}) as {user.login}"
                                self._call(
                                    label,
                                    lambda r=records, m=method_name, k=param.name, v=value: getattr(r, m)(**{k: v}),
                                )
                                calls += 1
        self.assertGreater(calls, 200)
        self.assertFalse(self.problems, "\n".join(self.problems[:40]))

    def test_create_and_write_with_junk_values(self):
        rng = random.Random(42)
        calls = 0
        for model_name in self.models:
            Model = self.env[model_name]
            base_vals = self.samples_vals.get(model_name, {"name": "Fuzz"} if "name" in Model._fields else {})
            names = [
                name
                for name, field in Model._fields.items()
                if field.store and not field.compute and name not in ("id", "create_uid", "write_uid")
            ]
            for index, name in enumerate(sorted(names)):
                user = self.users[index % len(self.users)]
                sample = self.samples[model_name]
                for number, value in enumerate(rng.sample(JUNK, PER_FIELD)):
                    if not number or not sample:
                        label = f"{model_name}.create({name}={value!r:.40}) as {user.login}"
                        self._call(
                            label,
                            lambda M=Model, b=base_vals, u=user, n=name, v=value: M.with_user(u).create({**b, n: v}),
                        )
                        calls += 1
                    else:
                        label = f"{model_name}.write({name}={value!r:.40}) as {user.login}"
                        self._call(label, lambda s=sample, u=user, n=name, v=value: s.with_user(u).write({n: v}))
                        calls += 1
            # junk instead of the values themselves
            for junk in (None, [], "x", [1, 2], [{"name": 1}]):
                label = f"{model_name}.create({junk!r})"
                self._call(label, lambda M=Model, j=junk: M.with_user(self.users[0]).create(j))
        self.assertGreater(calls, 200)
        self.assertFalse(self.problems, "\n".join(self.problems[:40]))

    def test_every_model_is_behind_the_validation_layer(self):
        for name in self.models:
            if name in INTERNAL_MODELS:
                continue
            with self.subTest(model=name):
                mro = type(self.env[name]).__mro__
                self.assertTrue(any(getattr(cls, "_name", None) == "gdpr.validation.mixin" for cls in mro))


@tagged("post_install", "-at_install", "gdpr_crm", "gdpr_fuzz")
class TestFuzzPublicRoutes(HttpCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        partner = cls.env["res.partner"].create({"name": "Fuzz Visitor", "email": "fuzz.visitor@example.com"})
        cls.preferences_token = partner._gdpr_preferences_token()

    def _routes(self):
        """The public routes of the addon (auth public or none), from Odoo's routing map."""
        routes = []
        for rule in self.env["ir.http"].routing_map().iter_rules():
            endpoint = rule.endpoint
            module = getattr(endpoint, "__module__", "") or ""
            if module.startswith("odoo.addons.gdpr_crm") and endpoint.routing.get("auth") in ("public", "none"):
                routes.append(rule.rule)
        return sorted(set(routes))

    def _tokens(self):
        valid = self.preferences_token
        partner_id, signature = valid.split("-", 1)
        return [
            valid,
            valid[:-1],  # truncated
            "%s-%s" % (int(partner_id) + 1, signature),  # forged
            "0" + valid,  # leading zero
            "²-abc",
            "¹²³-" + signature,
            "9" * 40 + "-" + signature,
            "a" * 8_000,  # longer addresses get "414 URI too long" from any web server
            "ünïcødé-☃",
            "-",
            "%00",
            "../../etc/passwd",
            "1' OR '1'='1",
            "%C2%B2-abc",
        ]

    def _url(self, route, token):
        def fill(match):
            converter = match.group(1) or "string"
            return "99999999999999999999" if converter == "int" else quote(token, safe="")

        return re.sub(r"<(?:(\w+):)?\w+>", fill, route)

    @mute_logger("odoo.http")  # "No CSRF validation token provided"
    def test_no_error_500_on_any_public_route(self):
        self.authenticate(None, None)
        routes = self._routes()
        self.assertIn("/gdpr/preferences/<string:token>", routes)
        self.assertIn("/gdpr/consent/<string:token>", routes)
        problems = []
        for route in routes:
            for token in self._tokens():
                url = self._url(route, token)
                responses = [
                    ("GET", self.url_open(url, allow_redirects=False, timeout=30)),
                    (
                        "POST",  # 100 kB in the body
                        self.url_open(
                            url,
                            data={"answer": "give", "choice": token, "purpose_id": "1" * 100_000},
                            allow_redirects=False,
                            timeout=30,
                        ),
                    ),
                ]
                for method, response in responses:
                    if response.status_code >= 500:
                        problems.append(f"{method} {url[:80]}: HTTP {response.status_code}")
        # and with a valid CSRF token, junk answers to a real page
        path = "/gdpr/preferences/%s" % self.preferences_token
        page = self.url_open(path)
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
        for data in (
            {"choice": "²:give"},
            {"choice": "9" * 40 + ":give"},
            {"choice": ":"},
            {"purpose_id": "1" * 100_000, "answer": "give"},
            {"purpose_id": "-1", "answer": "☃"},
        ):
            response = self.url_open(path, data={"csrf_token": csrf, **data}, allow_redirects=False)
            if response.status_code >= 500:
                problems.append(f"POST {data!r:.60}: HTTP {response.status_code}")
        self.assertFalse(problems, "\n".join(problems))
