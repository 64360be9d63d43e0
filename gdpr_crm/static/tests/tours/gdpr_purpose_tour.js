/** @odoo-module */

import { registry } from "@web/core/registry";
import { stepUtils } from "@web_tour/tour_service/tour_utils";

// A DPO opens the Privacy app, creates a purpose, then is told clearly
// that a second purpose cannot reuse its code.
registry.category("web_tour.tours").add("gdpr_crm_purpose_tour", {
    url: "/odoo",
    steps: () => [
        ...stepUtils.goToAppSteps("gdpr_crm.menu_gdpr_root"),
        {
            trigger: 'button[data-menu-xmlid="gdpr_crm.menu_gdpr_config"]',
            run: "click",
        },
        {
            trigger: 'a[data-menu-xmlid="gdpr_crm.menu_gdpr_purpose"]',
            run: "click",
        },
        {
            trigger: ".o_list_renderer td:contains(newsletter)",
        },
        {
            trigger: "button.o_list_button_add",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=name] input",
            run: "edit Trade fairs",
        },
        {
            trigger: ".o_field_widget[name=code] input",
            run: "edit Trade_Fairs",
        },
        {
            trigger: ".o_field_widget[name=legal_basis] select",
            run: 'select "legitimate_interest"',
        },
        ...stepUtils.saveForm(),
        {
            trigger: ".o_field_widget[name=code] input:value(trade_fairs)",
        },
        {
            trigger: ".o_form_button_create",
            run: "click",
        },
        {
            trigger: ".o_field_widget[name=name] input",
            run: "edit Trade fairs again",
        },
        {
            trigger: ".o_field_widget[name=code] input",
            run: "edit trade_fairs",
        },
        {
            trigger: ".o_form_button_save",
            run: "click",
        },
        {
            trigger: ".modal-body:contains(already used by the purpose)",
        },
        {
            trigger: ".modal-footer .btn-primary",
            run: "click",
        },
        {
            trigger: ".o_form_button_cancel",
            run: "click",
        },
        {
            // back on the list: the new purpose is there, nothing left unsaved
            trigger: ".o_list_renderer td:contains(trade_fairs)",
        },
    ],
});
