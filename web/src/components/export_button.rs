//! The export button: disabled until the exporter's firmware zip builder exists.

use yew::prelude::*;

/// Export the firmware zip (not available yet).
#[function_component(ExportButton)]
pub fn export_button() -> Html {
    html! {
        <button class="export" data-testid="export-button" disabled=true title="coming with the exporter">
            { "Export firmware (.zip)" }
        </button>
    }
}
