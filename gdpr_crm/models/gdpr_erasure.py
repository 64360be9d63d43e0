# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""Erasure of a data subject (GDPR art. 17): plan, execute, prove.

``gdpr.erasure`` is the service behind ``gdpr.request.action_execute()`` for
erasure requests. It works from what the personal-data engine finds about the
subject and classifies every record:

- ``delete``: belongs to the subject and nothing depends on it (their leads,
  the messages they wrote or that sit on their records, activities,
  attachments and their files, mails, notifications, followers, consents);
- ``anonymize``: belongs to the subject but is kept (their contact and child
  contacts become "Erased contact", a portal user is archived with a
  scrubbed login, the requests keep an anonymous proof);
- ``scrub``: only mentions the subject (a colleague's note quoting their
  email): the email, phone (and, if the DPO says so, name) spans are
  replaced and the record kept;
- ``keep``: under a legal hold (the record's own hold, or a
  ``gdpr.legal.hold`` rule): kept and restricted.

Everything happens in the caller's transaction: a residue check searches the
subject's identifiers in every column the engine knows, and raises (rolling
everything back) when one remains outside a legal hold. Files are removed from
the filestore only after the commit.
"""

import json
import logging
import os
import time
from collections import defaultdict

from psycopg2 import errors as pg_errors

from odoo import api, fields, models
from odoo.exceptions import UserError
from odoo.tools import SQL, create_index, mute_logger

from ..lib import erasure as patterns_lib
from ..lib.personal_data import normalize_email, phone_key

_logger = logging.getLogger(__name__)

REPLACEMENT = patterns_lib.REPLACEMENT
ACTIONS = [("delete", "Delete"), ("anonymize", "Anonymize"), ("scrub", "Scrub mentions"), ("keep", "Keep (legal hold)")]
# Models deleted when they belong to the subject (through the ORM, so that
# what hangs off them goes too).
DELETE_MODELS = (
    "crm.lead",
    "mail.activity",
    "mail.mail",
    "mail.followers",
    "mail.notification",
    "ir.attachment",
    "calendar.attendee",
    "mailing.contact",
    "mailing.trace",
)
# Models kept and anonymized when they belong to the subject.
ANONYMIZE_MODELS = ("res.partner", "res.users", "gdpr.request")
# Never touched by the generic scrub (their rows are handled explicitly, or
# they hold no personal value).
SKIPPED_MODELS = frozenset({"gdpr.audit.log", "gdpr.mention", "gdpr.suppression", "gdpr.consent", "gdpr.consent.event"})
PARTNER_ERASED_VALUES = {
    "email": False,
    "phone": False,
    "mobile": False,
    "street": False,
    "street2": False,
    "zip": False,
    "city": False,
    "state_id": False,
    "website": False,
    "comment": False,
    "function": False,
    "title": False,
    "vat": False,
    "ref": False,
    "image_1920": False,
    "company_name": False,
    "active": False,
}


class GdprErasure(models.AbstractModel):
    _name = "gdpr.erasure"
    _description = "Erasure Service"

    def init(self):
        # tracking values naming a contact (a lead's customer changed) are
        # found by the contact's id: index lookups, not a scan
        for column in ("old_value_integer", "new_value_integer"):
            create_index(
                self.env.cr,
                f"gdpr_mail_tracking_value_{column}_idx",
                "mail_tracking_value",
                [column],
                where=f"{column} IS NOT NULL",
            )

    # ------------------------------------------------------------------
    # Subject and checks
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_check_subject(self, request):
        """Raise a clear UserError when the subject of ``request`` may not be erased."""
        partner = request.partner_id
        if not partner and not request.requester_email:
            raise UserError(
                self.env._(
                    "Request %(name)s names no contact and no email: choose the data subject before erasing.",
                    name=request.name,
                )
            )
        if not partner:
            return
        env = self.env
        companies = env["res.company"].sudo().search([])
        if partner in companies.partner_id or partner.commercial_partner_id in companies.partner_id:
            raise UserError(env._("%(name)s is your company's own contact: it cannot be erased.", name=partner.name))
        if partner == env.user.partner_id:
            raise UserError(env._("You cannot erase yourself through a privacy request."))
        internal = partner.with_context(active_test=False).user_ids.filtered(lambda u: not u.share)
        if internal:
            raise UserError(
                env._(
                    "%(name)s is the contact of the internal user %(user)s: archive the user first "
                    "(Settings > Users), then erase the contact.",
                    name=partner.name,
                    user=internal[0].login,
                )
            )
        others = self._gdpr_other_contacts(partner)
        if others and not request.erasure_child_policy:
            raise UserError(
                env._(
                    "%(name)s has %(count)s other contacts (%(names)s): say on the request whether they are erased "
                    "too or kept and detached, then execute again.",
                    name=partner.name,
                    count=len(others),
                    names=", ".join(others[:5].mapped("name")),
                )
            )

    @api.model
    def _gdpr_other_contacts(self, partner):
        """The child contacts of ``partner`` that are other people (not its addresses)."""
        children = (
            self.env["res.partner"]
            .sudo()
            .with_context(active_test=False)
            .search([("id", "child_of", partner.id), ("id", "!=", partner.id)])
        )
        return children.filtered(lambda child: child.type == "contact" and child.name)

    @api.model
    def _gdpr_subject(self, request):
        """What identifies the subject: partner ids, emails, phones, names, streets."""
        cr = self.env.cr
        Engine = self.env["gdpr.personal.data"]
        self.env.flush_all()
        partner = request.partner_id
        detached = self.env["res.partner"]
        if partner and request.erasure_child_policy == "detach":
            detached = self._gdpr_other_contacts(partner)
        partner_ids = Engine._gdpr_partner_closure(set(partner.ids)) - set(detached.ids)
        emails = {normalize_email(request.requester_email)} - {""}
        names = {request.requester_name} - {False, None, ""}
        phones, streets = set(), set()
        if partner_ids:
            cr.execute(
                "SELECT name, email, phone, mobile, street FROM res_partner WHERE id = ANY(%s)", [list(partner_ids)]
            )
            for name, email, phone, mobile, street in cr.fetchall():
                names.add(name)
                emails.add(normalize_email(email))
                phones |= {phone, mobile}
                streets.add(street)
        if emails - {""}:
            # contacts with the same address are the same person
            cr.execute(
                "SELECT id FROM res_partner WHERE email_normalized = ANY(%s::varchar[]) AND id != ALL(%s)",
                [sorted(emails - {""}), list(detached.ids) or [0]],
            )
            more = {row[0] for row in cr.fetchall()} - partner_ids
            if more:
                partner_ids |= Engine._gdpr_partner_closure(more) - set(detached.ids)
                cr.execute(
                    "SELECT name, email, phone, mobile, street FROM res_partner WHERE id = ANY(%s)", [list(more)]
                )
                for name, email, phone, mobile, street in cr.fetchall():
                    names.add(name)
                    emails.add(normalize_email(email))
                    phones |= {phone, mobile}
                    streets.add(street)
        if partner_ids:
            cr.execute("SELECT login FROM res_users WHERE partner_id = ANY(%s)", [list(partner_ids)])
            emails |= {normalize_email(login) for (login,) in cr.fetchall()}
        emails.discard("")
        # the leads of the subject carry their own copies
        lead_domain = []
        if partner_ids:
            lead_domain.append(SQL("partner_id = ANY(%s)", list(partner_ids)))
        if emails:
            lead_domain.append(SQL("email_normalized = ANY(%s::varchar[])", sorted(emails)))
        if lead_domain:
            cr.execute(
                SQL(
                    "SELECT contact_name, email_from, phone, mobile, street FROM crm_lead WHERE %s",
                    SQL(" OR ").join(lead_domain),
                )
            )
            for name, email, phone, mobile, street in cr.fetchall():
                names.add(name)
                emails.add(normalize_email(email))
                phones |= {phone, mobile}
                streets.add(street)
        emails.discard("")
        return {
            "partner_ids": partner_ids,
            "detached": detached,
            "emails": {e for e in emails if e},
            "phones": {p for p in phones if p and phone_key(p)},
            "names": {" ".join(n.split()) for n in names if n and n.strip()},
            "streets": {s for s in streets if s and s.strip()},
        }

    # ------------------------------------------------------------------
    # Plan
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_text_fields(self, model):
        """Stored, untranslated char/text/html fields of ``model`` with a column."""
        return [
            fname
            for fname, field in model._fields.items()
            if field.store
            and field.column_type
            and field.column_type[0] in ("varchar", "text")
            and field.type in ("char", "text", "html")
            and not getattr(field, "translate", False)
            and fname not in ("store_fname", "checksum", "mimetype", "res_model", "model")
        ]

    @api.model
    def _gdpr_plan(self, request, with_name_mentions=True):
        """Classify every record found about the subject.

        :return: ``(subject, plan)``; ``plan`` is ``{model: {action: {id: reason}}}``
        """
        subject = self._gdpr_subject(request)
        Engine = self.env["gdpr.personal.data"]
        partners = self.env["res.partner"].browse(sorted(subject["partner_ids"]))
        found = Engine._gdpr_find(partners=partners, emails=subject["emails"], phones=subject["phones"])
        # what points at the subject (not only mentions them)
        discovered = Engine._gdpr_discover()
        owned = defaultdict(set)
        owned["res.partner"] |= subject["partner_ids"]
        phone_keys = sorted({phone_key(p) for p in subject["phones"]} - {""})
        for model_name, res_id, *_via in Engine._gdpr_execute_union(
            Engine._gdpr_direct_queries(
                discovered, sorted(subject["partner_ids"]), sorted(subject["emails"]), phone_keys
            )
        ):
            owned[model_name].add(res_id)
        # legal holds first: what sits on a held record is kept with it
        held_by_model = {}
        for model_name, ids in found.items():
            if model_name in SKIPPED_MODELS or model_name not in self.env:
                continue
            model = self.env[model_name].sudo().with_context(active_test=False)
            if hasattr(type(model), "_gdpr_legal_hold_reasons"):
                held_by_model[model_name] = model.browse(ids)._gdpr_legal_hold_reasons()
            else:
                held_by_model[model_name] = self.env["gdpr.legal.hold"]._gdpr_held(model_name, ids)
        # what sits on the subject's own records (messages, activities, attachments)
        documents = {
            model_name: [i for i in ids if i not in held_by_model.get(model_name, {})]
            for model_name, ids in owned.items()
            if ids and not discovered.get(model_name, {}).get("reference")
        }
        documents = {m: ids for m, ids in documents.items() if ids}
        for model_name, res_id, *_via in Engine._gdpr_execute_union(
            Engine._gdpr_reference_queries(discovered, {"own": documents})
        ):
            owned[model_name].add(res_id)
        plan = defaultdict(lambda: defaultdict(dict))
        partner_ids = subject["partner_ids"]
        # documents of the subject: what sits on them is theirs
        own_docs = {(m, i) for m in ("res.partner", "crm.lead") for i in documents.get(m, ())}
        held_docs = {(m, i) for m, reasons in held_by_model.items() for i in reasons}
        request_docs = {("gdpr.request", i) for i in found.get("gdpr.request", ())}
        messages = self.env["mail.message"].sudo().browse(found.get("mail.message", []))
        self.env.cr.execute("SELECT id, model, res_id, author_id FROM mail_message WHERE id = ANY(%s)", [messages.ids])
        message_rows = self.env.cr.fetchall()
        for model_name, ids in found.items():
            if model_name in SKIPPED_MODELS or model_name not in self.env:
                continue
            held = held_by_model.get(model_name, {})
            for record_id in ids:
                if record_id in held:
                    plan[model_name]["keep"][record_id] = held[record_id]
            ids = [i for i in ids if i not in held]
            own = owned.get(model_name, set())
            if model_name == "mail.message":
                for message_id, res_model, res_id, author_id in message_rows:
                    if message_id in held:
                        continue
                    if (res_model, res_id) in held_docs:
                        plan[model_name]["keep"][message_id] = self.env._("On a record under a legal hold")
                        continue
                    if author_id in partner_ids or (res_model, res_id) in own_docs:
                        plan[model_name]["delete"][message_id] = ""
                    elif (res_model, res_id) in request_docs:
                        # the chatter of the requests is kept, scrubbed of every identifier
                        plan[model_name]["anonymize"][message_id] = ""
                    else:
                        plan[model_name]["scrub"][message_id] = ""
            elif model_name in ANONYMIZE_MODELS:
                for record_id in ids:
                    action = "anonymize" if (record_id in own or model_name != "res.partner") else "scrub"
                    plan[model_name][action][record_id] = ""
            elif model_name == "ir.attachment":
                continue  # once the messages are classified, below
            elif model_name in DELETE_MODELS:
                for record_id in ids:
                    plan[model_name]["delete" if record_id in own else "scrub"][record_id] = ""
            else:
                for record_id in ids:
                    plan[model_name]["scrub"][record_id] = ""
        for consent_model in ("gdpr.consent",):
            ids = found.get(consent_model)
            if ids:
                plan[consent_model]["delete"].update(dict.fromkeys(ids, ""))
        attachment_ids = [i for i in found.get("ir.attachment", []) if i not in plan["ir.attachment"].get("keep", {})]
        if attachment_ids:
            # the files of the subject's records and of the messages deleted go;
            # a file attached to a colleague's message quoting them stays (its
            # name and indexed text are scrubbed)
            deleted_messages = sorted(plan.get("mail.message", {}).get("delete", {}))
            self.env.cr.execute(
                "SELECT DISTINCT attachment_id FROM message_attachment_rel WHERE attachment_id = ANY(%s) "
                "AND message_id = ANY(%s)",
                [attachment_ids, deleted_messages or [0]],
            )
            with_deleted = {row[0] for row in self.env.cr.fetchall()}
            own = owned.get("ir.attachment", set())
            for attachment_id in attachment_ids:
                action = "delete" if attachment_id in own or attachment_id in with_deleted else "scrub"
                plan["ir.attachment"][action][attachment_id] = ""
        if partner_ids:
            # tracking values naming the subject's contact on other records
            # (a lead whose customer was changed): old and new values scrubbed
            self.env.cr.execute(
                """
                SELECT t.id FROM mail_tracking_value t
                  JOIN ir_model_fields f ON f.id = t.field_id AND f.relation = 'res.partner'
                 WHERE t.old_value_integer = ANY(%(p)s) OR t.new_value_integer = ANY(%(p)s)
                """,
                {"p": sorted(partner_ids)},
            )
            deleted = set(plan.get("mail.message", {}).get("delete", {}))
            tracking = [row[0] for row in self.env.cr.fetchall()]
            if tracking:
                # with the other values tracked in the same change (contact
                # name, email and phone copied from the contact)
                self.env.cr.execute(
                    "SELECT id FROM mail_tracking_value WHERE mail_message_id IN "
                    "(SELECT mail_message_id FROM mail_tracking_value WHERE id = ANY(%s))",
                    [tracking],
                )
                tracking = [row[0] for row in self.env.cr.fetchall()]
            if tracking and deleted:
                self.env.cr.execute(
                    "SELECT id FROM mail_tracking_value WHERE id = ANY(%s) AND mail_message_id != ALL(%s)",
                    [tracking, sorted(deleted)],
                )
                tracking = [row[0] for row in self.env.cr.fetchall()]
            for tracking_id in tracking:
                plan["mail.tracking.value"]["scrub"].setdefault(tracking_id, "")
        events = found.get("gdpr.consent.event")
        if events:
            plan["gdpr.consent.event"]["delete"].update(dict.fromkeys(events, ""))
        subject["name_mentions"] = self._gdpr_name_mentions(subject, plan) if with_name_mentions else {}
        return subject, plan

    @api.model
    def _gdpr_name_mentions(self, subject, plan):
        """``{model: ids}`` of notes, messages and descriptions that quote the
        subject's full name but were not found otherwise (for the DPO to
        include or leave): the engine's name search (trigram indexes)."""
        Engine = self.env["gdpr.personal.data"]
        names = Engine._gdpr_subject_names(subject["partner_ids"], names=subject["names"])
        if not names:
            return {}
        known = {(m, i) for m, actions in plan.items() for ids in actions.values() for i in ids}
        result = defaultdict(set)
        for model_name, record_id, _field in Engine._gdpr_execute_union(Engine._gdpr_name_queries(names)):
            if model_name in SKIPPED_MODELS or (model_name, record_id) in known:
                continue
            if model_name == "res.partner" and record_id in subject["partner_ids"]:
                continue
            result[model_name].add(record_id)
        return {model_name: sorted(ids) for model_name, ids in result.items()}

    @api.model
    def _gdpr_preview(self, request):
        """Lines for the wizard: ``[{model, model_description, action, count, reason}]``."""
        self._gdpr_check_subject(request)
        subject, plan = self._gdpr_plan(request)
        labels = dict(ACTIONS)
        IrModel = self.env["ir.model"].sudo()
        lines = []
        for model_name, actions in sorted(plan.items()):
            for action, ids in actions.items():
                if not ids:
                    continue
                reasons = sorted({r for r in ids.values() if r})
                lines.append(
                    {
                        "model": model_name,
                        "model_description": IrModel._get(model_name).name or model_name,
                        "action": action,
                        "action_label": labels[action],
                        "count": len(ids),
                        "reason": "; ".join(reasons),
                    }
                )
        for model_name, ids in sorted(subject["name_mentions"].items()):
            lines.append(
                {
                    "model": model_name,
                    "model_description": IrModel._get(model_name).name or model_name,
                    "action": "name_mention",
                    "action_label": self.env._("Mentions the name"),
                    "count": len(ids),
                    "reason": "",
                }
            )
        return lines

    # ------------------------------------------------------------------
    # Execute
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_erase(self, request):
        """Erase the subject of ``request``; return the anonymous proof (a dict).

        Raises a UserError, which rolls the transaction back, when the
        subject cannot be erased or a residue remains.
        """
        started = time.perf_counter()
        self._gdpr_check_subject(request)
        env = self.env(
            su=True, context=dict(self.env.context, tracking_disable=True, mail_notrack=True, active_test=False)
        )
        self = self.with_env(env)
        request = request.with_env(env)
        self._gdpr_lock_subject(request)
        subject, plan = self._gdpr_plan(request, with_name_mentions=request.erasure_scrub_name_mentions)
        patterns = patterns_lib.subject_patterns(
            subject["emails"], subject["phones"], subject["names"], subject["streets"]
        )
        identifiers = patterns_lib.combine(patterns["email"] + patterns["phone"])
        full = patterns_lib.combine(patterns["email"] + patterns["phone"] + patterns["name"] + patterns["street"])
        # the proof: keyed hashes of the identifiers, counts per model
        Keyring = env["gdpr.keyring"]
        proof = {
            "request": request.name,
            "executed_on": fields.Datetime.to_string(fields.Datetime.now()),
            "executed_by": self.env.uid,
            "key_id": Keyring._gdpr_key_id(),
            "subject_hashes": sorted(
                Keyring._gdpr_hmac("erasure", value)
                for value in (*subject["emails"], *(phone_key(p) for p in subject["phones"]))
            ),
            "models": [],
        }
        for model_name, actions in sorted(plan.items()):
            for action, ids in sorted(actions.items()):
                if ids:
                    proof["models"].append({"model": model_name, "action": action, "count": len(ids)})
        if subject["detached"]:
            subject["detached"].write({"parent_id": False})
            proof["models"].append({"model": "res.partner", "action": "detach", "count": len(subject["detached"])})

        held = {(m, i) for m, actions in plan.items() for i in actions.get("keep", {})}
        held_partners = [i for m, i in held if m == "res.partner"]
        if held_partners:
            # the user of a contact kept under a legal hold is kept with it
            self.env.cr.execute("SELECT id FROM res_users WHERE partner_id = ANY(%s)", [held_partners])
            held |= {("res.users", row[0]) for row in self.env.cr.fetchall()}
        # 1. suppression list first (it keeps only keyed hashes)
        env["gdpr.suppression"]._add(
            emails=subject["emails"], phones=subject["phones"], reason="erasure", request=request
        )
        # 2. consents and their history
        consent_ids = list(plan.get("gdpr.consent", {}).get("delete", {}))
        if consent_ids:
            env["gdpr.consent"].browse(consent_ids)._gdpr_purge()
        # 3. records kept under a legal hold: restricted instead
        for model_name, actions in plan.items():
            keep = list(actions.get("keep", {}))
            model = env[model_name]
            if keep and hasattr(type(model), "_gdpr_restricted_records"):
                model.browse(keep).write(
                    {
                        "gdpr_restricted": True,
                        "gdpr_restriction_reason": self.env._("Kept under a legal hold after an erasure."),
                    }
                )
        # 4. deletions
        files = self._gdpr_delete(plan)
        # 5. the subject's own records, anonymized
        self._gdpr_anonymize_subject(request, subject, plan)
        # 6. mentions scrubbed in what is kept
        scrub_targets = defaultdict(set)
        for model_name, actions in plan.items():
            if model_name in SKIPPED_MODELS:
                continue
            for action in ("scrub", "anonymize"):
                scrub_targets[model_name] |= set(actions.get(action, {}))
        name_mentions = subject["name_mentions"] if request.erasure_scrub_name_mentions else {}
        for model_name, ids in name_mentions.items():
            scrub_targets[model_name] |= set(ids)
        # tracking values of the messages kept (old and new values)
        message_ids = sorted(scrub_targets.get("mail.message", ()))
        if message_ids:
            self.env.cr.execute("SELECT id FROM mail_tracking_value WHERE mail_message_id = ANY(%s)", [message_ids])
            scrub_targets["mail.tracking.value"] |= {row[0] for row in self.env.cr.fetchall()}
        own_kept = {("res.partner", i) for i in subject["partner_ids"]}
        full_scope = set(own_kept)
        for model_name, ids in scrub_targets.items():
            ids = {i for i in ids if (model_name, i) not in held}
            if not ids:
                continue
            # the subject's own records lose every identifier; a colleague's
            # note loses the email and phones (and the name when the DPO says so)
            own_ids = {i for i in ids if (model_name, i) in own_kept or i in plan[model_name].get("anonymize", {})}
            if model_name == "mail.tracking.value" or request.erasure_scrub_name_mentions:
                own_ids = ids
            full_scope |= {(model_name, i) for i in own_ids}
            if own_ids:
                self._gdpr_scrub(model_name, own_ids, full)
            mention_ids = ids - own_ids
            if mention_ids:
                self._gdpr_scrub(model_name, mention_ids, identifiers)
        # 7. what the engine's index and the bus keep
        self._gdpr_forget_indexes(subject, identifiers, held)
        env.invalidate_all()
        # 8. the proof on the request, then the residue check
        check_started = time.perf_counter()
        residues = self._gdpr_residue_check(subject, patterns, scrub_targets, held, full_scope)
        deep = []
        if request.erasure_deep_check:
            deep = self._gdpr_deep_check(full, held)
        check_ms = round((time.perf_counter() - check_started) * 1000, 1)
        proof["residue_check"] = {
            "residues": len(residues) + len(deep),
            "deep": bool(request.erasure_deep_check),
            "duration_ms": check_ms,
        }
        if residues or deep:
            listed = ", ".join(sorted({f"{m}.{f}" for m, f, _i in residues + deep}))
            raise UserError(
                self.env._(
                    "The erasure of request %(name)s was rolled back: the subject's data remains in %(where)s. "
                    "Nothing was changed. Report it to your administrator.",
                    name=request.name,
                    where=listed,
                )
            )
        proof["duration_ms"] = round((time.perf_counter() - started) * 1000, 1)
        self._gdpr_remove_files_after_commit(files)
        env["gdpr.audit.log"]._gdpr_log(
            "erasure",
            records=request,
            record_count=sum(item["count"] for item in proof["models"]),
            description=self.env._(
                "Erasure of the subject of request %(name)s: %(summary)s; residue check: %(residues)s residues.",
                name=request.name,
                summary=", ".join(f"{m['model']} {m['action']} {m['count']}" for m in proof["models"]),
                residues=proof["residue_check"]["residues"],
            ),
        )
        return proof

    @api.model
    def _gdpr_lock_subject(self, request):
        """Lock the subject's contact; a concurrent erasure gets a clear error."""
        if not request.partner_id:
            return
        try:
            with mute_logger("odoo.sql_db"), self.env.cr.savepoint(flush=False):
                self.env.cr.execute(
                    "SELECT id FROM res_partner WHERE id = %s FOR UPDATE NOWAIT", [request.partner_id.id]
                )
        except (pg_errors.LockNotAvailable, pg_errors.SerializationFailure) as error:
            raise UserError(
                self.env._(
                    "The contact of request %(name)s is being changed or erased by someone else right now. "
                    "Wait a moment, reload and check whether it was erased.",
                    name=request.name,
                )
            ) from error

    @api.model
    def _gdpr_delete(self, plan):
        """Delete what belongs to the subject; return the filestore paths to
        remove after the commit."""
        env = self.env
        cr = env.cr
        attachment_ids = list(plan.get("ir.attachment", {}).get("delete", {}))
        lead_ids = list(plan.get("crm.lead", {}).get("delete", {}))
        if lead_ids:
            # the attachments of their leads go with them
            cr.execute("SELECT id FROM ir_attachment WHERE res_model = 'crm.lead' AND res_id = ANY(%s)", [lead_ids])
            attachment_ids += [row[0] for row in cr.fetchall()]
        message_ids = list(plan.get("mail.message", {}).get("delete", {}))
        if message_ids:
            cr.execute("SELECT attachment_id FROM message_attachment_rel WHERE message_id = ANY(%s)", [message_ids])
            attachment_ids += [row[0] for row in cr.fetchall()]
        attachments = env["ir.attachment"].browse(sorted(set(attachment_ids))).exists()
        fnames = set(attachments.filtered("store_fname").mapped("store_fname"))
        order = ["mail.mail", "mail.notification", "mail.followers", "mail.activity", "mail.tracking.value"]
        for model_name in order:
            ids = list(plan.get(model_name, {}).get("delete", {}))
            if ids:
                env[model_name].browse(ids).exists().unlink()
        if message_ids:
            env["mail.message"].browse(message_ids).exists().unlink()
        if lead_ids:
            env["crm.lead"].browse(lead_ids).exists().unlink()
        for model_name, actions in plan.items():
            if model_name in (
                *order,
                "mail.message",
                "crm.lead",
                "ir.attachment",
                "gdpr.consent",
                "gdpr.consent.event",
            ):
                continue
            ids = list(actions.get("delete", {}))
            if ids and model_name in self.env:
                env[model_name].browse(ids).exists().unlink()
        if attachments.exists():
            attachments.exists().unlink()
        if not fnames:
            return []
        # a file shared (same content) with an attachment that stays is kept
        cr.execute("SELECT store_fname FROM ir_attachment WHERE store_fname = ANY(%s)", [sorted(fnames)])
        still_used = {row[0] for row in cr.fetchall()}
        Attachment = env["ir.attachment"]
        paths = []
        for fname in sorted(fnames - still_used):
            paths.append(Attachment._full_path(fname))
            # Odoo's garbage collector would then look for it: drop its mark too
            paths.append(os.path.join(Attachment._filestore(), "checklist", fname.strip("/\\")))
        return paths

    @api.model
    def _gdpr_anonymize_subject(self, request, subject, plan):
        env = self.env
        cr = env.cr
        held = set(plan.get("res.partner", {}).get("keep", {}))
        partner_ids = sorted(set(subject["partner_ids"]) - held)
        if partner_ids:
            partners = env["res.partner"].browse(partner_ids)
            # their links in the chatter of other records
            cr.execute("DELETE FROM mail_message_res_partner_rel WHERE res_partner_id = ANY(%s)", [partner_ids])
            cr.execute("DELETE FROM mail_notification WHERE res_partner_id = ANY(%s)", [partner_ids])
            cr.execute("DELETE FROM mail_followers WHERE partner_id = ANY(%s)", [partner_ids])
            env["mail.activity"].search([("res_model", "=", "res.partner"), ("res_id", "in", partner_ids)]).unlink()
            users = env["res.users"].search([("partner_id", "in", partner_ids)])
            if users:
                users.write({"active": False})
                # in SQL: Odoo emails a "login changed" security notice to the
                # old address on every login write
                users.flush_recordset()
                cr.execute(
                    "UPDATE res_users SET login = 'erased-' || id, signature = NULL WHERE id = ANY(%s)", [users.ids]
                )
                users.invalidate_recordset(["login", "signature"])
            # (Odoo refuses to archive a contact while it finds a user of it,
            # archived ones included when active_test is off)
            for partner in partners.with_context(active_test=True):
                vals = dict(PARTNER_ERASED_VALUES, name=self.env._("Erased contact %(id)s", id=partner.id))
                partner.write({k: v for k, v in vals.items() if k in partner._fields})
        requests = env["gdpr.request"].browse(list(plan.get("gdpr.request", {}).get("anonymize", {}))) | request
        # in SQL: a request about a bare email must otherwise keep one
        requests.flush_recordset()
        cr.execute(
            "UPDATE gdpr_request SET requester_name = NULL, requester_email = NULL, description = NULL "
            "WHERE id = ANY(%s)",
            [requests.ids],
        )
        requests.invalidate_recordset(["requester_name", "requester_email", "description"])
        # privacy_lookup's own log keeps masked identifiers: still a link
        if "privacy.log" in env:
            Log = env["privacy.log"]
            masked = [Log._anonymize_email(e) for e in subject["emails"]]
            masked = [m for m in masked if isinstance(m, str)]
            if masked:
                Log.search([("anonymized_email", "in", masked)]).unlink()

    @api.model
    def _gdpr_scrub(self, model_name, ids, pattern):
        """Replace ``pattern`` in every text column of the records ``ids``."""
        if not pattern or not ids:
            return
        model = self.env[model_name]
        fnames = self._gdpr_text_fields(model)
        if not fnames:
            return
        self.env.flush_all()
        assignments = SQL(", ").join(
            SQL(
                "%s = CASE WHEN %s ~* %s THEN regexp_replace(%s, %s, %s, 'gi') ELSE %s END",
                SQL.identifier(f),
                SQL.identifier(f),
                pattern,
                SQL.identifier(f),
                pattern,
                REPLACEMENT,
                SQL.identifier(f),
            )
            for f in fnames
        )
        condition = SQL(" OR ").join(SQL("%s ~* %s", SQL.identifier(f), pattern) for f in fnames)
        self.env.cr.execute(
            SQL(
                "UPDATE %s SET %s WHERE id = ANY(%s) AND (%s)",
                SQL.identifier(model._table),
                assignments,
                sorted(ids),
                condition,
            )
        )
        model.invalidate_model(fnames)

    @api.model
    def _gdpr_forget_indexes(self, subject, identifiers, held):
        """Drop the subject's values from the mention index (but for the
        records kept under a legal hold) and from the bus."""
        cr = self.env.cr
        values = sorted(subject["emails"] | {phone_key(p) for p in subject["phones"]} - {""})
        if values:
            cr.execute(
                "DELETE FROM gdpr_mention WHERE value = ANY(%s::varchar[]) "
                "AND (res_model || ',' || res_id) != ALL(%s::varchar[])",
                [values, [f"{m},{i}" for m, i in held] or [""]],
            )
        if identifiers:
            # notifications pushed to browsers (transient, but in a dump until vacuumed)
            cr.execute("DELETE FROM bus_bus WHERE message ~* %s", [identifiers])

    # ------------------------------------------------------------------
    # Residue check
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_residue_check(self, subject, patterns, touched, held, full_scope):
        """``[(model, field, id)]`` of the subject's identifiers still present
        outside a legal hold, searched (in this transaction)

        - by the engine, in every column it knows and in its mention index
          (index lookups): the records that hold the emails and phones themselves;
        - in every text column of every record the erasure touched: emails,
          phones, and names and streets in the subject's own records (and in
          the mentions by name the DPO chose to scrub).
        """
        env = self.env
        env.flush_all()
        residues = []
        Engine = env["gdpr.personal.data"]
        phone_keys = sorted({phone_key(p) for p in subject["phones"]} - {""})
        emails = sorted(subject["emails"])
        rows = list(
            Engine._gdpr_execute_union(Engine._gdpr_direct_queries(Engine._gdpr_discover(), [], emails, phone_keys))
        )
        for model_name, ids in env["gdpr.mention"]._gdpr_lookup(set(emails), set(phone_keys)).items():
            rows += [(model_name, i) for i in ids]
        for model_name, record_id, *_via in rows:
            if model_name not in SKIPPED_MODELS and (model_name, record_id) not in held:
                residues.append((model_name, "identifier", record_id))
        identifiers = patterns_lib.combine(patterns["email"] + patterns["phone"])
        full = patterns_lib.combine(patterns["email"] + patterns["phone"] + patterns["name"] + patterns["street"])
        for model_name, ids in touched.items():
            ids = [i for i in ids if (model_name, i) not in held]
            if not ids or model_name not in env:
                continue
            model = env[model_name]
            fnames = self._gdpr_text_fields(model)
            for fname in fnames:
                for pattern, scope in ((identifiers, ids), (full, [i for i in ids if (model_name, i) in full_scope])):
                    if not pattern or not scope:
                        continue
                    env.cr.execute(
                        SQL(
                            "SELECT id FROM %s WHERE id = ANY(%s) AND %s ~* %s",
                            SQL.identifier(model._table),
                            scope,
                            SQL.identifier(fname),
                            pattern,
                        )
                    )
                    residues += [(model_name, fname, row[0]) for row in env.cr.fetchall()]
        return sorted(set(residues))

    @api.model
    def _gdpr_deep_check(self, pattern, held):
        """Scan every text column of every table of the database (slow; optional)."""
        if not pattern:
            return []
        cr = self.env.cr
        cr.execute(
            """
            SELECT c.table_name, c.column_name
              FROM information_schema.columns c
              JOIN information_schema.tables t
                ON t.table_name = c.table_name AND t.table_schema = c.table_schema AND t.table_type = 'BASE TABLE'
             WHERE c.table_schema = current_schema()
               AND c.data_type IN ('character varying', 'text', 'jsonb')
             ORDER BY 1, 2
            """
        )
        tables = {model._table: name for name, model in self.env.registry.items()}
        held_tables = defaultdict(set)
        for model_name, record_id in held:
            held_tables[self.env[model_name]._table].add(record_id)
        residues = []
        skipped = {"gdpr_suppression", "gdpr_audit_log"}
        for table, column in cr.fetchall():
            if table in skipped:
                continue
            cr.execute(
                SQL(
                    "SELECT %s FROM %s WHERE %s::text ~* %s LIMIT 20",
                    SQL("id") if table in tables else SQL("0"),
                    SQL.identifier(table),
                    SQL.identifier(column),
                    pattern,
                )
            )
            for (record_id,) in cr.fetchall():
                if record_id not in held_tables.get(table, ()):
                    residues.append((tables.get(table, table), column, record_id))
        return residues

    # ------------------------------------------------------------------
    # Files
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_remove_files_after_commit(self, paths):
        """Remove the files of the deleted attachments once the erasure is
        committed (never before: a rollback keeps them)."""
        if not paths:
            return

        def remove():
            for path in paths:
                try:
                    os.unlink(path)
                except FileNotFoundError:
                    pass
                except OSError:
                    _logger.warning("gdpr_crm: could not remove an erased file from the filestore", exc_info=True)

        self.env.cr.postcommit.add(remove)

    @api.model
    def _gdpr_proof_json(self, proof):
        return json.dumps(proof, indent=1, sort_keys=True)
