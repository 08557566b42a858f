//! The fit verdict: does the model, with the front end and audio buffers, fit the chosen board?

use yew::prelude::*;

use crate::boards::{board, fmt_bytes};
use crate::budget::Budget;
use crate::components::memory_bars::MemoryBars;

/// Props of [`FitVerdict`].
#[derive(Properties, PartialEq)]
pub struct FitVerdictProps {
    /// The budget of the loaded model.
    pub budget: Budget,
    /// Selected board id.
    pub board: String,
}

/// Verdict line plus RAM and flash bars against the board.
#[function_component(FitVerdict)]
pub fn fit_verdict(props: &FitVerdictProps) -> Html {
    let b = board(&props.board);
    let ram = props.budget.ram_fit(b);
    let flash = props.budget.flash_fit(b);
    let fits = ram.fits() && flash.fits();
    let margin = |m: Option<i64>| m.map_or("external flash".to_string(), |m| if m >= 0 {
        format!("{} free", fmt_bytes(m))
    } else {
        format!("short by {}", fmt_bytes(-m))
    });
    let verdict = if fits {
        format!("Fits {} ({}): RAM {}, flash {}", b.name, b.chip, margin(ram.margin()), margin(flash.margin()))
    } else {
        let mut why = vec![];
        if !ram.fits() {
            why.push(format!("RAM {}", margin(ram.margin())));
        }
        if !flash.fits() {
            why.push(format!("flash {}", margin(flash.margin())));
        }
        format!("Does not fit {} ({}): {}", b.name, b.chip, why.join(", "))
    };
    html! {
        <div class="fit">
            <div class={classes!("verdict", if fits { "fits" } else { "nofit" })} data-testid="fit-verdict">
                { if fits { "✔ " } else { "✘ " } }{ verdict }
            </div>
            if !b.export {
                <div class="note">{ "For comparison only: Mote does not export firmware for this chip yet." }</div>
            }
            <MemoryBars title="RAM" parts={props.budget.ram.clone()} fit={ram} note={b.ram_note} />
            <MemoryBars title="Flash" parts={props.budget.flash.clone()} fit={flash}
                note="Code sizes are the firmware template's release build (opt-level 3), measured; RAM does not include the call stack." />
        </div>
    }
}
