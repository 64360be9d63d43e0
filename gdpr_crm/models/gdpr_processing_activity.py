# License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import csv
import io

import xlsxwriter

from odoo import api, fields, models
from odoo.exceptions import ValidationError

from ..lib.spreadsheet import csv_safe
from .gdpr_purpose import LEGAL_BASES

COMPANY_ROLES = [
    ("controller", "Controller"),
    ("joint_controller", "Joint controller"),
    ("processor", "Processor"),
]

TRANSFER_SAFEGUARDS = [
    ("adequacy", "Adequacy decision (art. 45)"),
    ("scc", "Standard contractual clauses (art. 46)"),
    ("bcr", "Binding corporate rules (art. 47)"),
    ("derogation", "Derogation for a specific situation (art. 49)"),
]

DPIA_STATES = [
    ("not_required", "Not required"),
    ("todo", "To do"),
    ("in_progress", "In progress"),
    ("done", "Done"),
]

# The nine criteria of the EDPB guidelines on DPIAs (WP248 rev.01), used by
# the CNIL too: a processing meeting two or more of them needs a DPIA.
DPIA_CRITERIA = [
    "dpia_evaluation",
    "dpia_automated_decision",
    "dpia_systematic_monitoring",
    "dpia_sensitive_data",
    "dpia_large_scale",
    "dpia_matching",
    "dpia_vulnerable_subjects",
    "dpia_innovative_technology",
    "dpia_blocking_right",
]


class GdprProcessingActivity(models.Model):
    """An entry of the register of processing activities (GDPR art. 30)."""

    _name = "gdpr.processing.activity"
    _description = "Processing Activity"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "sequence, name, id"

    name = fields.Char(required=True, translate=True, tracking=True)
    reference = fields.Char(help="Your own reference for this entry of the register, e.g. REG-003.")
    sequence = fields.Integer(default=10)
    description = fields.Text(translate=True)
    purpose_ids = fields.One2many("gdpr.purpose", "processing_activity_id", string="Purposes")
    legal_basis = fields.Selection(
        LEGAL_BASES,
        compute="_compute_legal_basis",
        store=True,
        readonly=False,
        tracking=True,
        help="The main ground of GDPR art. 6 for this processing. Taken from its first purpose; "
        "each purpose keeps its own legal basis.",
    )
    company_role = fields.Selection(
        COMPANY_ROLES,
        string="Our Role",
        required=True,
        default="controller",
        tracking=True,
        help="Controller: the company decides why and how the data is processed (art. 30(1)). "
        "Joint controller: it decides with others (art. 26). Processor: it processes the data on "
        "behalf of a client, who is the controller (art. 30(2)).",
    )
    joint_controller_ids = fields.Many2many(
        "res.partner",
        "gdpr_processing_activity_joint_controller_rel",
        "activity_id",
        "partner_id",
        string="Joint Controllers",
        help="The other controllers deciding the purposes and means with the company (art. 26).",
    )
    client_controller_ids = fields.Many2many(
        "res.partner",
        "gdpr_processing_activity_client_controller_rel",
        "activity_id",
        "partner_id",
        string="Controllers (Clients)",
        help="When the company acts as a processor: the clients on whose behalf it processes the data.",
    )
    dpo_partner_id = fields.Many2one(
        related="company_id.gdpr_dpo_partner_id", string="Data Protection Officer", readonly=True
    )
    subject_category_ids = fields.Many2many(
        "gdpr.subject.category",
        "gdpr_processing_activity_subject_category_rel",
        "activity_id",
        "category_id",
        string="Data Subjects",
    )
    data_category_ids = fields.Many2many(
        "gdpr.data.category",
        "gdpr_processing_activity_data_category_rel",
        "activity_id",
        "category_id",
        string="Personal Data",
    )
    special_category = fields.Boolean(
        string="Special Categories",
        compute="_compute_special_category",
        store=True,
        help="The processing covers sensitive data (art. 9) or criminal convictions (art. 10).",
    )
    data_sources = fields.Text(translate=True, help="Where the data comes from (the data subject, a data broker...).")
    recipients = fields.Text(
        translate=True,
        help="Who receives the data, inside and outside the company (sales team, accounting, partners...).",
    )
    processor_ids = fields.Many2many(
        "gdpr.processor",
        "gdpr_processing_activity_processor_rel",
        "activity_id",
        "processor_id",
        string="Processors",
    )
    transfer_country_ids = fields.Many2many(
        "res.country",
        "gdpr_processing_activity_transfer_country_rel",
        "activity_id",
        "country_id",
        string="Transfer Countries",
        help="Countries the data is sent to, or accessed from, directly by the company.",
    )
    outside_eea_country_ids = fields.Many2many(
        "res.country",
        compute="_compute_outside_eea_country_ids",
        string="Countries Outside the EEA",
        help="Countries outside the EEA the data goes to, directly or through the processors.",
    )
    transfer_outside_eea = fields.Boolean(
        string="Transfer Outside the EEA", compute="_compute_transfer_outside_eea", store=True
    )
    transfer_safeguard = fields.Selection(
        TRANSFER_SAFEGUARDS,
        tracking=True,
        help="The mechanism that makes a transfer outside the EEA lawful (GDPR chapter V).",
    )
    transfer_safeguard_details = fields.Text(
        string="Safeguard Details", help="The decision, the clauses signed and where they are kept."
    )
    retention_period = fields.Text(
        translate=True,
        help="How long the data is kept, and from when (e.g. 3 years after the last contact for prospects).",
    )
    security_measure_ids = fields.Many2many(
        "gdpr.security.measure",
        "gdpr_processing_activity_security_measure_rel",
        "activity_id",
        "measure_id",
        string="Security Measures",
    )
    security_details = fields.Text(string="Other Security Measures", translate=True)
    # DPIA (art. 35)
    dpia_evaluation = fields.Boolean(string="Evaluation or scoring", help="Including profiling and predicting.")
    dpia_automated_decision = fields.Boolean(
        string="Automated decisions", help="Automated decision-making with legal or similar significant effect."
    )
    dpia_systematic_monitoring = fields.Boolean(string="Systematic monitoring")
    dpia_sensitive_data = fields.Boolean(
        string="Sensitive or highly personal data", help="Ticked automatically when a special category is processed."
    )
    dpia_large_scale = fields.Boolean(string="Large scale")
    dpia_matching = fields.Boolean(string="Matching or combining datasets")
    dpia_vulnerable_subjects = fields.Boolean(string="Vulnerable data subjects")
    dpia_innovative_technology = fields.Boolean(string="Innovative technology")
    dpia_blocking_right = fields.Boolean(
        string="Prevents exercising a right or using a service or contract",
    )
    dpia_criteria_count = fields.Integer(string="DPIA Criteria Met", compute="_compute_dpia_required", store=True)
    dpia_required = fields.Boolean(
        string="DPIA Required",
        compute="_compute_dpia_required",
        store=True,
        help="A data protection impact assessment (art. 35) is required when two or more of the "
        "nine criteria of the EDPB and CNIL guidelines are met.",
    )
    dpia_state = fields.Selection(
        DPIA_STATES,
        string="DPIA Status",
        compute="_compute_dpia_state",
        store=True,
        readonly=False,
        tracking=True,
        help="Not required while fewer than two criteria are met; a DPIA made anyway keeps its status.",
    )
    dpia_date = fields.Date(string="DPIA Date")
    dpia_document = fields.Binary(string="DPIA Document", attachment=True)
    dpia_document_name = fields.Char(string="DPIA Document Name")
    last_review_date = fields.Date(string="Last Review", tracking=True)
    active = fields.Boolean(default=True)
    company_id = fields.Many2one("res.company", required=True, index=True, default=lambda self: self.env.company)

    @api.depends("purpose_ids.legal_basis", "purpose_ids.sequence")
    def _compute_legal_basis(self):
        for activity in self:
            purposes = activity.purpose_ids.sorted(lambda p: (p.sequence, p.id))
            if purposes:
                activity.legal_basis = purposes[0].legal_basis
            elif not activity.legal_basis:
                activity.legal_basis = False

    @api.depends("data_category_ids.special_category")
    def _compute_special_category(self):
        for activity in self:
            activity.special_category = any(activity.data_category_ids.mapped("special_category"))

    @api.depends("transfer_country_ids.gdpr_eea", "processor_ids.location_country_ids.gdpr_eea")
    def _compute_outside_eea_country_ids(self):
        for activity in self:
            countries = activity.transfer_country_ids | activity.processor_ids.location_country_ids
            activity.outside_eea_country_ids = countries.filtered(lambda c: not c.gdpr_eea)

    @api.depends("transfer_country_ids.gdpr_eea", "processor_ids.location_country_ids.gdpr_eea")
    def _compute_transfer_outside_eea(self):
        for activity in self:
            countries = activity.transfer_country_ids | activity.processor_ids.location_country_ids
            activity.transfer_outside_eea = not all(countries.mapped("gdpr_eea"))

    @api.depends(*DPIA_CRITERIA)
    def _compute_dpia_required(self):
        for activity in self:
            activity.dpia_criteria_count = sum(1 for criterion in DPIA_CRITERIA if activity[criterion])
            activity.dpia_required = activity.dpia_criteria_count >= 2

    @api.depends("dpia_required")
    def _compute_dpia_state(self):
        for activity in self:
            if not activity.dpia_required and activity.dpia_state in (False, "todo"):
                activity.dpia_state = "not_required"
            elif activity.dpia_required and activity.dpia_state in (False, "not_required"):
                activity.dpia_state = "todo"

    @api.onchange("data_category_ids")
    def _onchange_data_category_ids(self):
        if self.special_category:
            self.dpia_sensitive_data = True

    @api.onchange("subject_category_ids")
    def _onchange_subject_category_ids(self):
        if any(self.subject_category_ids.mapped("vulnerable")):
            self.dpia_vulnerable_subjects = True

    @api.model_create_multi
    def create(self, vals_list):
        # Check before the INSERT, for a clear message and nothing written.
        for vals in vals_list:
            self.new(vals)._gdpr_check_transfer()
        return super().create(vals_list)

    @api.constrains("transfer_country_ids", "transfer_safeguard")
    def _check_transfer_safeguard(self):
        for activity in self:
            activity._gdpr_check_transfer()

    def _gdpr_check_transfer(self):
        self.ensure_one()
        outside = self.transfer_country_ids.filtered(lambda c: not c.gdpr_eea)
        if outside and not self.transfer_safeguard:
            raise ValidationError(
                self.env._(
                    "The processing activity '%(name)s' transfers data outside the EEA (%(countries)s): "
                    "choose the transfer safeguard (adequacy decision, standard contractual clauses, "
                    "binding corporate rules or a derogation of art. 49), or remove those countries.",
                    name=self.name or "",
                    countries=", ".join(outside.mapped("name")),
                )
            )

    # ------------------------------------------------------------------
    # Printing and exporting the register
    # ------------------------------------------------------------------
    def _gdpr_register_records(self):
        """The activities to print or export: the selected ones, or else the
        whole register of the allowed companies."""
        return self or self.search([("company_id", "in", self.env.companies.ids)])

    def action_print_register(self):
        activities = self._gdpr_register_records()
        return self.env.ref("gdpr_crm.action_report_gdpr_register").report_action(activities)

    def _gdpr_register_columns(self):
        """(label, function returning the cell's text) for each column of the export."""

        def selection_label(field_name):
            def label(activity):
                return dict(activity._fields[field_name]._description_selection(self.env)).get(activity[field_name], "")

            return label

        def names(field_name):
            return lambda activity: ", ".join(activity[field_name].mapped("display_name"))

        def yes_no(field_name):
            return lambda activity: self.env._("Yes") if activity[field_name] else self.env._("No")

        return [
            (self.env._("Reference"), lambda a: a.reference or ""),
            (self.env._("Processing activity"), lambda a: a.name or ""),
            (self.env._("Company"), lambda a: a.company_id.name or ""),
            (self.env._("Our role"), selection_label("company_role")),
            (self.env._("Joint controllers"), names("joint_controller_ids")),
            (self.env._("Controllers (clients)"), names("client_controller_ids")),
            (self.env._("Data Protection Officer"), lambda a: a.dpo_partner_id.display_name or ""),
            (
                self.env._("Purposes"),
                lambda a: "; ".join(
                    "%s (%s)" % (p.name, dict(p._fields["legal_basis"]._description_selection(self.env))[p.legal_basis])
                    for p in a.purpose_ids
                ),
            ),
            (self.env._("Legal basis"), selection_label("legal_basis")),
            (self.env._("Description"), lambda a: a.description or ""),
            (self.env._("Data subjects"), names("subject_category_ids")),
            (self.env._("Personal data"), names("data_category_ids")),
            (self.env._("Special categories"), yes_no("special_category")),
            (self.env._("Data sources"), lambda a: a.data_sources or ""),
            (self.env._("Recipients"), lambda a: a.recipients or ""),
            (self.env._("Processors"), names("processor_ids")),
            (self.env._("Countries outside the EEA"), names("outside_eea_country_ids")),
            (self.env._("Transfer safeguard"), selection_label("transfer_safeguard")),
            (self.env._("Retention period"), lambda a: a.retention_period or ""),
            (
                self.env._("Security measures"),
                lambda a: ", ".join(
                    a.security_measure_ids.mapped("name") + ([a.security_details] if a.security_details else [])
                ),
            ),
            (self.env._("DPIA required"), yes_no("dpia_required")),
            (self.env._("DPIA status"), selection_label("dpia_state")),
            (self.env._("DPIA date"), lambda a: fields.Date.to_string(a.dpia_date) if a.dpia_date else ""),
            (
                self.env._("Last review"),
                lambda a: fields.Date.to_string(a.last_review_date) if a.last_review_date else "",
            ),
        ]

    def _gdpr_register_rows(self):
        """The register as a table: a header row, then one row per activity."""
        columns = self._gdpr_register_columns()
        rows = [[label for label, _getter in columns]]
        for activity in self:
            rows.append([getter(activity) for _label, getter in columns])
        return rows

    def _gdpr_register_file(self, file_format):
        rows = self._gdpr_register_rows()
        if file_format == "csv":
            buffer = io.StringIO()
            csv.writer(buffer, quoting=csv.QUOTE_ALL).writerows([[csv_safe(cell) for cell in row] for row in rows])
            return buffer.getvalue().encode("utf-8-sig")
        buffer = io.BytesIO()
        workbook = xlsxwriter.Workbook(buffer, {"in_memory": True})
        sheet = workbook.add_worksheet(self.env._("Register")[:31])
        header = workbook.add_format({"bold": True, "text_wrap": True, "valign": "top", "bg_color": "#D9E1F2"})
        wrap = workbook.add_format({"text_wrap": True, "valign": "top"})
        for col, label in enumerate(rows[0]):
            sheet.write(0, col, label, header)
            sheet.set_column(col, col, 28)
        for row_index, row in enumerate(rows[1:], start=1):
            for col, value in enumerate(row):
                sheet.write_string(row_index, col, value, wrap)
        sheet.freeze_panes(1, 2)
        workbook.close()
        return buffer.getvalue()

    def action_export_register(self, file_format="xlsx"):
        """Export the register (selected activities, or all) to XLSX or CSV."""
        if file_format not in ("xlsx", "csv"):
            raise ValidationError(self.env._("The register can be exported to XLSX or CSV only."))
        activities = self._gdpr_register_records()
        content = activities._gdpr_register_file(file_format)
        filename = "%s-%s.%s" % (
            self.env._("register-of-processing-activities"),
            fields.Date.to_string(fields.Date.context_today(self)),
            file_format,
        )
        # Attached to no record: only its creator (and the administrator) can download it.
        attachment = self.env["ir.attachment"].create(
            {
                "name": filename,
                "raw": content,
                "res_model": self._name,
                "mimetype": "text/csv"
                if file_format == "csv"
                else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            }
        )
        self.env["gdpr.audit.log"]._gdpr_log(
            "export",
            records=activities,
            description="Register of processing activities exported (%s, %d entries)" % (file_format, len(activities)),
        )
        return {
            "type": "ir.actions.act_url",
            "url": "/web/content/%d?download=true" % attachment.id,
            "target": "self",
        }

    def action_export_register_csv(self):
        return self.action_export_register("csv")
