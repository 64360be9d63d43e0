# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
from odoo import api, models


class ReportGdprPersonalData(models.AbstractModel):
    """Values of the Personal Data Report: the export, and the labels of its
    selection values in the reader's language (the export keeps the codes,
    machine-readable; the person reads "Given", not "given")."""

    _name = "report.gdpr_crm.report_personal_data"
    _description = "Personal Data Report"

    @api.model
    def _get_report_values(self, docids, data=None):
        data = dict(data or {})
        labels = {}
        for model_data in (data.get("export") or {}).get("models", []):
            model = self.env.get(model_data.get("model"))
            if model is None:
                continue
            labels[model._name] = {
                fname: dict(model._fields[fname]._description_selection(self.env))
                for fname in model_data.get("fields", {})
                if fname in model._fields and model._fields[fname].type == "selection"
            }
        return {**data, "doc_ids": docids, "selection_labels": labels}
