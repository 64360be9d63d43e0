# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
"""The export half of the personal-data engine (access and portability).

What :mod:`gdpr_personal_data` finds about a data subject, this file turns
into the files of an access answer (JSON, CSV zip, PDF).
"""

import csv
import io
import json
import re
import zipfile
from collections import defaultdict

from odoo import api, fields, models

from ..lib.spreadsheet import csv_safe

# Fields never exported (secrets, not personal data of the subject).
EXPORT_EXCLUDED_FIELD_RE = re.compile(r"password|secret|token|signup_|api_key|totp", re.IGNORECASE)


def _is_relation(value):
    """``[id, display name]``, as the export writes a related record."""
    return isinstance(value, list) and len(value) == 2 and isinstance(value[0], int) and isinstance(value[1], str)


class GdprPersonalData(models.AbstractModel):
    _inherit = "gdpr.personal.data"

    # ------------------------------------------------------------------
    # Export
    # ------------------------------------------------------------------
    @api.model
    def _gdpr_export_fields(self, model):
        """Refinement hook: the fields of ``model`` (a recordset) that an
        export holds, in order. Default: every stored field except binary
        ones and secrets (passwords, tokens, keys); a field of the
        personal-data registry is never taken for a secret."""
        personal = set(self._gdpr_registry(model._name).get(model._name, ()))
        return [
            fname
            for fname, field in model._fields.items()
            if field.store
            and field.type not in ("binary", "image")
            and fname != "id"
            and (fname in personal or not EXPORT_EXCLUDED_FIELD_RE.search(fname))
        ]

    @api.model
    def _gdpr_export_values(self, model, records):
        """Refinement hook: ``[{field name: JSON value}]`` of ``records``.

        Relations are ``[id, display name]`` (many2one) or a list of them
        (x2many); dates are ISO strings; selections give their key.
        """
        fnames = self._gdpr_export_fields(model)
        rows = records.read(fnames, load=None)
        # display names of every related record, one batch per comodel
        related = defaultdict(set)
        for fname in fnames:
            field = model._fields[fname]
            if field.type in ("many2one", "many2many", "one2many"):
                for row in rows:
                    value = row[fname]
                    related[field.comodel_name].update(value if isinstance(value, list) else [value] if value else [])
        names = {}
        for comodel, ids in related.items():
            for rec in self.env[comodel].browse(ids).exists():
                names[comodel, rec.id] = rec.display_name
        result = []
        for row in rows:
            values = {}
            for fname in fnames:
                field = model._fields[fname]
                value = row[fname]
                if field.type == "many2one":
                    value = [value, names.get((field.comodel_name, value), "")] if value else False
                elif field.type in ("many2many", "one2many"):
                    value = [[v, names.get((field.comodel_name, v), "")] for v in value]
                elif field.type == "datetime" and value:
                    value = fields.Datetime.to_string(value)
                elif field.type == "date" and value:
                    value = fields.Date.to_string(value)
                elif field.type in ("html", "text", "char") and value:
                    value = str(value)
                elif field.type == "json":
                    value = value or False
                values[fname] = value
            result.append(values)
        return result

    @api.model
    def _gdpr_export_data(self, found):
        """Return the JSON-ready dict of an export of ``found`` (from ``_gdpr_find``).

        ``{"generated": …, "record_count": …, "models": [{"model", "name",
        "fields": {name: label}, "records": [{"id", "xml_id", "values":
        {name: value}}]}]}``: re-importable (technical names, ids, xml-ids),
        readable (labels, display names).
        """
        env = self.sudo().env
        result = {
            "generated": fields.Datetime.to_string(fields.Datetime.now()),
            "record_count": 0,
            "models": [],
        }
        for model_name, ids in sorted(found.items()):
            model = env.get(model_name)
            if model is None:
                continue
            records = model.browse(ids).exists()
            if not records:
                continue
            xml_ids = records._get_external_ids()
            values = self.sudo()._gdpr_export_values(model, records)
            fnames = self.sudo()._gdpr_export_fields(model)
            result["models"].append(
                {
                    "model": model_name,
                    "name": env["ir.model"]._get(model_name).name,
                    "fields": {fname: model._fields[fname]._description_string(env) for fname in fnames},
                    "records": [
                        {
                            "id": rec.id,
                            "xml_id": (xml_ids.get(rec.id) or [False])[0],
                            "display_name": rec.display_name,
                            "values": vals,
                        }
                        for rec, vals in zip(records, values, strict=True)
                    ],
                }
            )
            result["record_count"] += len(records)
        return result

    @api.model
    def _gdpr_export_csv(self, model_data):
        """One CSV (UTF-8 with BOM, for spreadsheets) of a model of the export."""
        out = io.StringIO()
        writer = csv.writer(out)
        fnames = list(model_data["fields"])
        writer.writerow(["id", "xml_id", *fnames])
        writer.writerow(["ID", "External ID", *(model_data["fields"][f] for f in fnames)])
        for record in model_data["records"]:
            row = [record["id"], record["xml_id"] or ""]
            for fname in fnames:
                value = record["values"][fname]
                if _is_relation(value):  # many2one: its name
                    value = value[1]
                elif isinstance(value, list) and all(_is_relation(v) for v in value):  # x2many: names
                    value = "; ".join(str(v[1]) for v in value)
                elif value is False or value is None:
                    value = ""
                elif isinstance(value, list | dict):
                    value = json.dumps(value, ensure_ascii=False, default=str)
                row.append(csv_safe(value))
            writer.writerow(row)
        return ("\ufeff" + out.getvalue()).encode()

    @api.model
    def _gdpr_export_zip(self, data, found):
        """The zip: ``<model>.csv`` per model, and ``attachments/<id>-<name>``."""
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
            for model_data in data["models"]:
                archive.writestr(f"{model_data['model']}.csv", self._gdpr_export_csv(model_data))
            attachments = self.env["ir.attachment"].sudo().browse(found.get("ir.attachment", [])).exists()
            for attachment in attachments:
                if attachment.type != "binary":
                    continue
                name = re.sub(r"[^\w.-]+", "_", attachment.name or "file")
                archive.writestr(f"attachments/{attachment.id}-{name}", attachment.raw or b"")
        return buffer.getvalue()

    @api.model
    def _gdpr_export_pdf(self, data, name):
        """The human-readable PDF (QWeb report ``gdpr_crm.action_report_personal_data``)."""
        report = self.env.ref("gdpr_crm.action_report_personal_data").sudo()
        # (in test mode, unless force_report_rendering is in the context,
        # Odoo renders the HTML of the report instead of calling wkhtmltopdf)
        content, _report_type = (
            self.env["ir.actions.report"]
            .sudo()
            .with_context(gdpr_report_print_delay=0)
            ._render_qweb_pdf(report, res_ids=[], data={"export": data, "title": name})
        )
        return content

    @api.model
    def _gdpr_export_attachments(self, found, name, res_model=None, res_id=None):
        """Build the three export files of ``found`` and return them as
        ``ir.attachment`` records (``<name>.json``, ``<name>.zip``,
        ``<name>.pdf``), attached to ``res_model``/``res_id`` when given.
        The export is written to the audit log (counts per model, no values).
        """
        data = self._gdpr_export_data(found)
        files = [
            (f"{name}.json", json.dumps(data, indent=1, ensure_ascii=False, default=str).encode(), "application/json"),
            (f"{name}.zip", self._gdpr_export_zip(data, found), "application/zip"),
            (f"{name}.pdf", self._gdpr_export_pdf(data, name), "application/pdf"),
        ]
        attachments = self.env["ir.attachment"].create(
            [
                {
                    "name": filename,
                    "raw": content,
                    "mimetype": mimetype,
                    "res_model": res_model or False,
                    "res_id": res_id or False,
                }
                for filename, content, mimetype in files
            ]
        )
        counts = ", ".join(f"{m['model']}: {len(m['records'])}" for m in data["models"])
        self.env["gdpr.audit.log"]._gdpr_log(
            "dsar_export",
            model=res_model,
            res_id=res_id,
            record_count=data["record_count"],
            description=self.env._("Personal data export of %(count)s records (%(counts)s).")
            % {"count": data["record_count"], "counts": counts},
        )
        return attachments
