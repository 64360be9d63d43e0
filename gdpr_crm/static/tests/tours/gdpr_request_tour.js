/** @odoo-module **/
import { registry } from "@web/core/registry";

// A salesperson reports a privacy request from a lead.
registry.category("web_tour.tours").add("gdpr_request_report_from_lead", {
    steps: () => [
        {
            content: "Open the wizard from the lead's header",
            trigger: ".o_form_view .o_form_statusbar button:contains('Report a privacy request')",
            run: "click",
        },
        {
            content: "The requester's email comes from the lead",
            trigger: ".modal .o_field_widget[name=requester_email] input:value(tour.subject@example.com)",
        },
        {
            content: "Describe the request",
            trigger: ".modal .o_field_widget[name=description] textarea",
            run: "edit Please send me everything you hold about me.",
        },
        {
            content: "Report it",
            trigger: ".modal button[name=action_report]",
            run: "click",
        },
        {
            content: "The salesperson is told it was filed",
            trigger: ".o_notification:contains('was filed for the DPO')",
        },
    ],
});

// The DPO verifies the identity, then extends the deadline.
registry.category("web_tour.tours").add("gdpr_request_dpo_process", {
    steps: () => [
        {
            content: "Open the request from the kanban",
            trigger: ".o_kanban_record:contains('Tour Requester')",
            run: "click",
        },
        {
            content: "Verify the identity",
            trigger: ".o_form_view button[name=action_verify]",
            run: "click",
        },
        {
            content: "Confirm",
            trigger: ".modal .modal-footer .btn-primary",
            run: "click",
        },
        {
            content: "The request is verified",
            trigger: ".o_statusbar_status button.o_arrow_button_current:contains('Identity verified')",
        },
        {
            content: "Extend the deadline",
            trigger: ".o_form_view button[name=action_open_extend_wizard]",
            run: "click",
        },
        {
            content: "Give the reason",
            trigger: ".modal .o_field_widget[name=reason] textarea",
            run: "edit Your request covers ten years of exchanges.",
        },
        {
            content: "Extend",
            trigger: ".modal button[name=action_extend]",
            run: "click",
        },
        {
            content: "The request shows it is extended",
            trigger: ".o_form_view .o_field_widget[name=is_extended]",
        },
    ],
});
