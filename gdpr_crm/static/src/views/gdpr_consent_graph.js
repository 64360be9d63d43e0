/** @odoo-module **/
// License LGPL-3.0 or later (https://www.gnu.org/licenses/lgpl).
import { registry } from "@web/core/registry";
import { graphView } from "@web/views/graph/graph_view";
import { GraphRenderer } from "@web/views/graph/graph_renderer";

// Each consent state keeps its meaning's colour, whichever states the data
// holds (Odoo colours datasets by position): given green, refused red...
export const CONSENT_STATE_COLORS = {
    pending: "#4EA7F2",
    given: "#3FAE6A",
    refused: "#EA6175",
    withdrawn: "#F4A261",
    expired: "#A0A0A0",
};

function datasetState(dataset) {
    for (const identifier of dataset.identifiers || []) {
        let values;
        try {
            values = JSON.parse(identifier);
        } catch {
            continue;
        }
        // one {groupby: raw value} per level of grouping
        for (const level of values) {
            const value = level && typeof level === "object" ? level.state : undefined;
            if (typeof value === "string" && value in CONSENT_STATE_COLORS) {
                return value;
            }
        }
    }
    return null;
}

export class GdprConsentGraphRenderer extends GraphRenderer {
    getBarChartData() {
        const data = super.getBarChartData();
        for (const dataset of data.datasets) {
            const state = datasetState(dataset);
            if (state) {
                dataset.backgroundColor = CONSENT_STATE_COLORS[state];
            }
        }
        return data;
    }
}

registry.category("views").add("gdpr_consent_graph", {
    ...graphView,
    Renderer: GdprConsentGraphRenderer,
});
