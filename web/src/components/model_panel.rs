//! Model choice: the default wake-word models, or a .tflite (+ optional .json sidecar) picked or
//! dropped by the person; then the model's name, size, and whether it can run.

use std::rc::Rc;

use web_sys::{DragEvent, File, FileList, HtmlInputElement};
use yew::prelude::*;

use crate::boards::{fmt_bytes, group};
use crate::loaded::{Loaded, DEFAULT_MODELS};

/// Props of [`ModelPanel`].
#[derive(Properties, PartialEq)]
pub struct ModelPanelProps {
    /// The loaded model.
    pub model: Option<Rc<Loaded>>,
    /// Name of a model being loaded.
    pub loading: Option<String>,
    /// Why loading failed (before any model existed).
    pub error: Option<String>,
    /// Load a default model by id.
    pub on_default: Callback<String>,
    /// Load picked or dropped files.
    pub on_files: Callback<Vec<File>>,
}

fn files(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else { return vec![] };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

/// The model panel.
#[function_component(ModelPanel)]
pub fn model_panel(props: &ModelPanelProps) -> Html {
    let dragging = use_state(|| false);
    let onchange = {
        let on_files = props.on_files.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                on_files.emit(files(input.files()));
                input.set_value("");
            }
        })
    };
    let ondragover = {
        let dragging = dragging.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(true);
        })
    };
    let ondragleave = {
        let dragging = dragging.clone();
        Callback::from(move |_: DragEvent| dragging.set(false))
    };
    let ondrop = {
        let dragging = dragging.clone();
        let on_files = props.on_files.clone();
        Callback::from(move |e: DragEvent| {
            e.prevent_default();
            dragging.set(false);
            on_files.emit(files(e.data_transfer().and_then(|d| d.files())));
        })
    };
    let current = props
        .model
        .as_ref()
        .map(|m| m.name.clone())
        .unwrap_or_default();
    html! {
        <div class="model-panel">
            <div class="defaults">
                { "Built-in wake words: " }
                { for DEFAULT_MODELS.iter().map(|(id, label)| {
                    let on_default = props.on_default.clone();
                    let id_s = id.to_string();
                    let onclick = Callback::from(move |_| on_default.emit(id_s.clone()));
                    let active = current == format!("{id}.tflite");
                    html! { <button class={classes!("chip", active.then_some("active"))} data-testid={format!("default-{id}")} {onclick}>{ *label }</button> }
                }) }
            </div>
            <label class={classes!("drop", (*dragging).then_some("dragging"))} {ondragover} {ondragleave} {ondrop}>
                { "Drop a .tflite here (with its .json sidecar, optional), or " }
                <input type="file" data-testid="model-input" accept=".tflite,.json" multiple=true {onchange} />
            </label>
            if let Some(name) = &props.loading {
                <div class="loading">{ format!("Loading {name}…") }</div>
            }
            if let Some(e) = &props.error {
                <div class="error" data-testid="model-error">{ e.clone() }</div>
            }
            if let Some(m) = &props.model {
                <div class="model-summary">
                    <h2><span data-testid="model-name">{ m.name.clone() }</span>{ format!(" — {}", m.title()) }</h2>
                    <p>{ format!("{} file", fmt_bytes(m.bytes.len() as i64)) }
                        { if m.sidecar_text.is_some() { ", with sidecar" } else { ", no sidecar" } }
                        { m.settings.as_ref().map(|s| format!("; {} front end, {} frames per input, {}", s.frontend, s.window_frames, s.detector)).unwrap_or_default() }
                    </p>
                    { match &m.report {
                        Ok(r) => html! {
                            <p>{ format!("{} operators, {} MACs per invocation, arena ", r.ops.len(), group(r.macs)) }
                                <strong><span data-testid="arena-peak-bytes">{ r.arena_bytes }</span>{ " bytes" }</strong>
                                { format!(", streaming state {} bytes.", group(u64::from(r.state_bytes))) }
                            </p>
                        },
                        Err(e) => html! { <div class="error" data-testid="model-error">{ e.clone() }</div> },
                    } }
                    if let (Ok(_), Err(e)) = (&m.report, &m.settings) {
                        <div class="warn">{ format!("Memory and fit are shown, but the audio pipeline cannot feed this model: {e}") }</div>
                    }
                </div>
            }
        </div>
    }
}
