//! "Download for the board's USB drive (.bin)": the prebuilt runtime for the chosen board
//! (`runtimes/<board>.bin`, built from source by scripts/build-runtimes.sh and served with the
//! page) followed by the model slot, made here in wasm by the exporter library's
//! `export::bin::export_bin` (the bytes `mote export --bin` writes). No toolchain: drop the file
//! on the ST-LINK drive and the board flashes it.

use std::rc::Rc;

use mote_exporter::export::bin::{self, BinError, BinRequest};
use mote_exporter::export::board;
use wasm_bindgen_futures::spawn_local;
use yew::prelude::*;

use crate::boards::choice;
use crate::components::app::fetch_bytes;
use crate::components::export_button::use_reset_state;
use crate::loaded::Loaded;

/// Props of [`BinExport`].
#[derive(Properties, PartialEq)]
pub struct BinExportProps {
    /// The loaded model.
    pub model: Option<Rc<Loaded>>,
    /// Selected board id.
    pub board: String,
}

#[derive(Clone, PartialEq)]
enum Outcome {
    None,
    Working,
    /// File name, bytes, ms to build (not counting the runtime's fetch), drive name.
    Done(String, usize, f64, &'static str),
    Failed(String),
}

fn now_ms() -> f64 {
    web_sys::window()
        .and_then(|w| w.performance())
        .map_or(0.0, |p| p.now())
}

async fn run(m: Rc<Loaded>, board: &'static str) -> Outcome {
    let runtime = match fetch_bytes(&format!("runtimes/{board}.bin")).await {
        Ok(r) => r,
        Err(e) => {
            return Outcome::Failed(format!(
                "the {board} runtime is not served with this page ({e}): scripts/serve.sh builds it (scripts/build-runtimes.sh)"
            ))
        }
    };
    let t0 = now_ms();
    let r = bin::export_bin(&BinRequest {
        model: &m.bytes,
        sidecar: m.sidecar_text.as_deref(),
        board,
        runtime: &runtime,
        replay: None,
    });
    let ms = now_ms() - t0;
    match r {
        Ok(e) => {
            match super::export_button::download(&e.file_name, "application/octet-stream", &e.bin) {
                Ok(()) => Outcome::Done(e.file_name, e.bin.len(), ms, e.drive),
                Err(err) => Outcome::Failed(err),
            }
        }
        Err(e) => Outcome::Failed(e.to_string()),
    }
}

/// The .bin button, its fit line and its status.
#[function_component(BinExport)]
pub fn bin_export(props: &BinExportProps) -> Html {
    let outcome = use_reset_state(&props.model, &props.board, || Outcome::None);
    let c = choice(&props.board);
    // The runtime fit, before anything is fetched: RAM and the slot's flash, with numbers.
    let fit = use_memo((props.model.as_ref().map(|m| m.id), props.board.clone()), {
        let model = props.model.clone();
        move |(_, b)| {
            let m = model.as_ref()?;
            let board = board::find(b)?;
            Some(bin::fit(&m.bytes, m.sidecar_text.as_deref(), board))
        }
    });
    let why_not: Option<String> = match (&props.model, &*fit) {
        (None, _) => Some("load a model first".into()),
        _ if !c.export => Some(format!(
            "no prebuilt runtime for the {}: pick an STM32L4 board",
            c.board.name
        )),
        (_, Some(Err(e))) => Some(e.to_string()),
        (_, Some(Ok(f))) if !f.fits() => {
            Some(BinError::DoesNotFit(Box::new(f.clone())).to_string())
        }
        _ => None,
    };
    let onclick = {
        let (outcome, model, board) = (outcome.clone(), props.model.clone(), c.board.id);
        Callback::from(move |_: MouseEvent| {
            if let Some(m) = model.clone() {
                let outcome = outcome.clone();
                outcome.set(Outcome::Working);
                spawn_local(async move { outcome.set(run(m, board).await) });
            }
        })
    };
    let fit_line = match &*fit {
        Some(Ok(f)) => html! {
            <div class="note" data-testid="bin-fit">
                { format!("Runtime {}: model slot {} of {} B flash, arena + state {} of {} B RAM.",
                    f.board_name, f.slot_bytes, f.slot_max, f.model_memory_needed, f.model_memory) }
            </div>
        },
        _ => html! {},
    };
    html! {
        <div class="export-box bin-export">
            <button class="export" data-testid="export-bin"
                disabled={why_not.is_some() || *outcome == Outcome::Working}
                title={why_not.clone().unwrap_or_else(|| format!("the prebuilt runtime for the {} with this model: no toolchain needed", c.board.name))}
                {onclick}>
                { "⬇ Download for the board's USB drive (.bin)" }
            </button>
            { fit_line }
            if let Some(w) = &why_not {
                if props.model.is_some() && c.export {
                    <pre class="warn" data-testid="export-bin-why">{ w.clone() }</pre>
                }
            }
            { match &*outcome {
                Outcome::None => html! {},
                Outcome::Working => html! { <div class="note" data-testid="export-bin-status">{ "Making the .bin…" }</div> },
                Outcome::Done(name, len, ms, drive) => html! {
                    <div class="note" data-testid="export-bin-status" data-ms={format!("{ms:.1}")}>
                        { format!("Downloaded {name} ({len} bytes, made in {ms:.0} ms). Plug the board in by its ST-LINK USB port and drop the file on the {drive} drive: it flashes and restarts, then listens. Connect to board (below) shows its log.") }
                    </div>
                },
                Outcome::Failed(s) => html! { <div class="error" data-testid="export-bin-status">{ s.clone() }</div> },
            } }
        </div>
    }
}
