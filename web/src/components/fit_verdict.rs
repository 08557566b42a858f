//! The fit verdict: does the firmware for this model (engine, front end, buffers, stack) fit the
//! chosen board? Numbers are the exporter's estimate, the same `mote export` checks.

use std::rc::Rc;

use mote_exporter::export::fit::{Fit, Item};
use yew::prelude::*;

use crate::boards::{choice, estimate, fmt_bytes};
use crate::components::layer_table::layer_weights;
use crate::components::memory_bars::{MemoryBars, Part, Usage};
use crate::loaded::Loaded;

/// Props of [`FitVerdict`].
#[derive(Properties, PartialEq)]
pub struct FitVerdictProps {
    /// The loaded model (its report must exist).
    pub model: Rc<Loaded>,
    /// Selected board id.
    pub board: String,
}

fn part(i: &Item) -> Part {
    Part {
        label: i.what.clone(),
        bytes: i.bytes,
        source: if i.exact {
            "exact: from the model and the planner"
        } else {
            "estimate: measured on built firmware, rounded up"
        },
    }
}

/// The flash parts, with the model split into its weights and the rest of the file.
fn flash_parts(fit: &Fit, model: &Loaded) -> Vec<Part> {
    let weights: u32 = model
        .report
        .as_ref()
        .map_or(0, |r| layer_weights(r).iter().map(|w| w.bytes).sum());
    let mut out = vec![];
    for i in &fit.flash {
        if i.what == "model" && weights > 0 && weights <= i.bytes {
            out.push(Part {
                label: "model weights".into(),
                bytes: weights,
                source: "exact: constant tensors of the model",
            });
            out.push(Part {
                label: "model graph".into(),
                bytes: i.bytes - weights,
                source: "exact: the rest of the .tflite (operators, shapes, quantization, names)",
            });
        } else {
            out.push(part(i));
        }
    }
    out
}

/// Verdict line plus RAM and flash bars against the board.
#[function_component(FitVerdict)]
pub fn fit_verdict(props: &FitVerdictProps) -> Html {
    let Ok(report) = &props.model.report else {
        return html! {};
    };
    let c = choice(&props.board);
    let b = c.board;
    let fit = estimate(&b, report, props.model.settings.as_ref().ok());
    let ram = Usage {
        used: fit.ram_total(),
        available: fit.ram_limit,
    };
    let flash = Usage {
        used: fit.flash_total(),
        available: fit.flash_limit,
    };
    let margin = |u: Usage| {
        let m = u.margin();
        if m >= 0 {
            format!("{} free", fmt_bytes(m))
        } else {
            format!("short by {}", fmt_bytes(-m))
        }
    };
    let fits = ram.fits() && flash.fits();
    let verdict = if fits {
        format!(
            "Fits {} ({}): RAM {}, flash {}",
            b.name,
            b.chip,
            margin(ram),
            margin(flash)
        )
    } else {
        let mut why = vec![];
        if !ram.fits() {
            why.push(format!("RAM {}", margin(ram)));
        }
        if !flash.fits() {
            why.push(format!("flash {}", margin(flash)));
        }
        format!("Does not fit {} ({}): {}", b.name, b.chip, why.join(", "))
    };
    html! {
        <div class="fit">
            <div class={classes!("verdict", if fits { "fits" } else { "nofit" })} data-testid="fit-verdict">
                { if fits { "✔ " } else { "✘ " } }{ verdict }
            </div>
            if !c.export {
                <div class="note">{ "For comparison only: Mote does not export firmware for this chip yet; the code sizes are the Cortex-M4 firmware's." }</div>
            }
            if props.model.settings.is_err() {
                <div class="note">{ "Not an audio model for the firmware: only the model's own memory is counted." }</div>
            }
            <MemoryBars title="RAM" parts={fit.ram.iter().map(part).collect::<Vec<_>>()} fit={ram} note={c.note} />
            <MemoryBars title="Flash" parts={flash_parts(&fit, &props.model)} fit={flash}
                note="“est.”: the firmware's own code, buffers and stack, measured on built firmware (exporter/src/export/fit.rs); the rest is exact." />
        </div>
    }
}
