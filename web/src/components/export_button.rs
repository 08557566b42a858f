//! Export: builds the same firmware zip as `mote export` (the exporter library, compiled to
//! wasm) for the loaded model and the chosen board, and downloads it.

use std::rc::Rc;

use js_sys::{Array, Uint8Array};
use mote_exporter::export::{self, project, zip, ExportError, Request};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::spawn_local;
use web_sys::{Blob, BlobPropertyBag, HtmlAnchorElement, Url};
use yew::prelude::*;

use crate::boards::choice;
use crate::components::app::fetch_bytes;
use crate::loaded::Loaded;

/// Props of [`ExportButton`].
#[derive(Properties, PartialEq)]
pub struct ExportButtonProps {
    /// The loaded model.
    pub model: Option<Rc<Loaded>>,
    /// Selected board id.
    pub board: String,
}

/// What the last export did.
#[derive(Clone, PartialEq)]
enum Outcome {
    None,
    Done(String),
    DoesNotFit(String),
    Failed(String),
}

/// Offers `bytes` (of MIME type `mime`) as a download named `name` (a same-origin blob: URL).
pub fn download(name: &str, mime: &str, bytes: &[u8]) -> Result<(), String> {
    let doc = web_sys::window()
        .and_then(|w| w.document())
        .ok_or("no document")?;
    let parts = Array::of1(&Uint8Array::from(bytes));
    let opts = BlobPropertyBag::new();
    opts.set_type(mime);
    let blob = Blob::new_with_u8_array_sequence_and_options(&parts, &opts)
        .map_err(|_| "cannot make the file")?;
    let url = Url::create_object_url_with_blob(&blob).map_err(|_| "cannot make the file URL")?;
    let a: HtmlAnchorElement = doc
        .create_element("a")
        .map_err(|_| "no anchor")?
        .unchecked_into();
    a.set_href(&url);
    a.set_download(name);
    a.click();
    let _ = Url::revoke_object_url(&url);
    Ok(())
}

/// Fetches the firmware sources the zip carries on the first export (they are not in the
/// page's wasm: `project::SOURCES_FILE`, served beside it).
async fn sources() -> Result<(), String> {
    if project::sources_ready() {
        return Ok(());
    }
    let packed = fetch_bytes(project::SOURCES_FILE)
        .await
        .map_err(|e| format!("cannot fetch the firmware sources: {e}"))?;
    project::provide_sources(&packed)
}

/// Runs the export (optionally past a failed fit check) and downloads the zip.
fn run(m: &Loaded, board: &str, force: bool) -> Outcome {
    let req = Request {
        model: &m.bytes,
        name: &m.project_name(),
        sidecar: m.sidecar_text.as_deref(),
        board,
        replay: None,
        force,
        interpreter: false,
        input: None,
        stamp: zip_stamp(),
    };
    match export::export(&req, &mut |_| {}) {
        Ok(e) => {
            let name = format!("{}.zip", e.dir);
            match download(&name, "application/zip", &e.zip) {
                Ok(()) => Outcome::Done(format!(
                    "{name}: {} files, {} bytes",
                    e.files.len(),
                    e.zip.len()
                )),
                Err(err) => Outcome::Failed(err),
            }
        }
        Err(e @ ExportError::DoesNotFit(_)) => Outcome::DoesNotFit(e.to_string()),
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// A state that returns to `initial()` whenever the model or the board changes (what an export
/// button says about the last export).
#[hook]
pub fn use_reset_state<T: 'static>(
    model: &Option<Rc<Loaded>>,
    board: &str,
    initial: fn() -> T,
) -> UseStateHandle<T> {
    let state = use_state(initial);
    {
        let state = state.clone();
        let key = (model.as_ref().map(|m| m.id), board.to_string());
        use_effect_with(key, move |_| state.set(initial()));
    }
    state
}

/// The export button, its state line, and "export anyway" after a failed fit check.
#[function_component(ExportButton)]
pub fn export_button(props: &ExportButtonProps) -> Html {
    let outcome = use_reset_state(&props.model, &props.board, || Outcome::None);
    let c = choice(&props.board);
    let why_not = match &props.model {
        None => Some("load a model first".to_string()),
        Some(m) => match (&m.report, &m.settings) {
            (Err(_), _) => Some("the model cannot run".into()),
            // Not a keyword model: Export makes an infer-mode project (zeros as the input).
            (_, Err(e)) if !e.contains("does not look like a keyword model") => {
                Some(format!("the audio pipeline cannot feed this model: {e}"))
            }
            _ if !c.export => Some(format!(
                "no firmware export for the {} yet: pick an STM32L4 board",
                c.board.name
            )),
            _ => None,
        },
    };
    let click = |force: bool| {
        let (outcome, model, board) = (outcome.clone(), props.model.clone(), c.board.id);
        Callback::from(move |_: MouseEvent| {
            let (outcome, model) = (outcome.clone(), model.clone());
            spawn_local(async move {
                if let Some(m) = &model {
                    outcome.set(match sources().await {
                        Ok(()) => run(m, board, force),
                        Err(e) => Outcome::Failed(e),
                    });
                }
            })
        })
    };
    html! {
        <div class="export-box">
            <button class="export" data-testid="export-button" disabled={why_not.is_some()}
                title={why_not.clone().unwrap_or_else(|| format!("download the firmware project for the {}", c.board.name))}
                onclick={click(false)}>
                { format!("⬇ Export firmware for {} (.zip)", c.board.name) }
            </button>
            { match &*outcome {
                Outcome::None => html! {},
                Outcome::Done(s) => html! { <div class="note" data-testid="export-status">{ format!("Downloaded {s}. Unzip, then `cargo run --release` with the board plugged in (see its README).") }</div> },
                Outcome::DoesNotFit(s) => html! {
                    <div class="warn" data-testid="export-status">
                        <pre>{ s.clone() }</pre>
                        <button data-testid="export-force" onclick={click(true)}>{ "Export anyway" }</button>
                    </div>
                },
                Outcome::Failed(s) => html! { <div class="error" data-testid="export-status">{ s.clone() }</div> },
            } }
        </div>
    }
}

/// Now, for the zip's entries: the browser's clock and time zone (so `unzip` gives the files
/// this time, and cargo rebuilds a project unzipped over an earlier export).
fn zip_stamp() -> zip::Stamp {
    let now = js_sys::Date::new_0();
    // getTimezoneOffset is minutes *behind* UTC (UTC − local); whole minutes, |x| < 1 day.
    let offset_s = -(now.get_timezone_offset() * 60.0) as i32;
    zip::Stamp::new((now.get_time() / 1000.0).floor() as i64, offset_s)
}
