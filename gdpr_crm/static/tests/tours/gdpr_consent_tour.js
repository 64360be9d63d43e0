/** @odoo-module **/
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { registry } from "@web/core/registry";

// A salesperson records a consent with its proof from the Privacy tab of a
// contact, then sees it, given, in the tab and in its history.
registry.category("web_tour.tours").add("gdpr_crm_consent_tour", {
    steps: () => [
        {
            content: "Open the Privacy tab",
            trigger: ".o_notebook .nav-link:contains(Privacy)",
            run: "click",
        },
        {
            content: "Record a consent",
            trigger: "button[name=action_gdpr_record_consent]",
            run: "click",
        },
        {
            content: "Choose the purpose",
            trigger: ".modal .o_field_widget[name=purpose_id] input",
            run: "edit Newsletter",
        },
        {
            trigger: ".o-autocomplete--dropdown-item > a:contains(Newsletter)",
            run: "click",
        },
        {
            content: "Say how it was collected",
            trigger: ".modal .o_field_widget[name=source] select",
            run: "selectByLabel Phone",
        },
        {
            content: "Give the version of the wording read",
            trigger: ".modal .o_field_widget[name=proof_version] input",
            run: "edit Call script v2",
        },
        {
            content: "Give the wording read",
            trigger: ".modal .o_field_widget[name=proof] textarea",
            run: "edit I agree to receive the newsletter; I can unsubscribe at any time.",
        },
        {
            content: "Record it",
            trigger: ".modal button[name=action_record]",
            run: "click",
        },
        {
            content: "The consent is given",
            trigger:
                "body:not(:has(.modal)) .o_field_widget[name=gdpr_consent_ids] .o_data_row:contains(Newsletter):contains(Given)",
        },
        {
            content: "and in the history",
            trigger: ".o_field_widget[name=gdpr_consent_event_ids] .o_data_row:contains(Newsletter):contains(Given)",
        },
    ],
});
