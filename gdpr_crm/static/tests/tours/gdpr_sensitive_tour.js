/** @odoo-module **/
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A salesperson writes a health detail in a lead description and saves:
// the lead is saved (nothing blocks), and a warning says what was detected,
// why it should not be written, with a link to the guidance of the charter.
registry.category("web_tour.tours").add("gdpr_crm_sensitive_tour", {
    steps: () => [
        {
            content: "Open the internal notes",
            trigger: ".o_notebook .nav-link[name=internal_notes]",
            run: "click",
        },
        {
            content: "No warning on a clean description",
            trigger: ".o_field_widget[name=description]:not(:has(.o_gdpr_sensitive_warning))",
        },
        {
            content: "Write a health detail in the description",
            trigger: ".o_field_widget[name=description] .odoo-editor-editable",
            run: "editor Le client est diabétique, éviter les déjeuners.",
        },
        ...stepUtils.saveForm(),
        {
            content: "The warning says what was detected",
            trigger: ".o_gdpr_sensitive_warning:contains(Health):contains(CNIL)",
        },
        {
            content: "and links to the guidance",
            trigger: ".o_gdpr_sensitive_warning a[href*=gdpr_sensitive_guidance_action]",
        },
    ],
});
