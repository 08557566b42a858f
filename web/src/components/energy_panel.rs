//! Average current and battery life of the loaded model's whole pipeline (front end, model at
//! its invocation rate, detector) on the selected board, with a clock selector that moves
//! latency, real-time headroom and current together (`mote_exporter::energy`).

use std::rc::Rc;

use mote_exporter::energy::{self, ChipPower, Schedule};
use web_sys::HtmlSelectElement;
use yew::prelude::*;

use crate::loaded::Loaded;

/// Props of [`EnergyPanel`].
#[derive(Properties, PartialEq)]
pub struct EnergyPanelProps {
    /// The loaded model.
    pub model: Rc<Loaded>,
    /// Selected board id.
    pub board: String,
    /// Selected clock, MHz.
    pub mhz: u32,
    /// Called with a new clock.
    pub on_clock: Callback<u32>,
}

/// Clock selector, latency, duty cycle, average current, battery life.
#[function_component(EnergyPanel)]
pub fn energy_panel(props: &EnergyPanelProps) -> Html {
    let (Ok(report), Ok(settings)) = (&props.model.report, &props.model.settings) else {
        return html! { <p class="note" data-testid="energy-na">{ "Energy: needs a keyword model the audio pipeline can feed." }</p> };
    };
    let Some(chip) = ChipPower::for_board(&props.board) else {
        return html! { <p class="note" data-testid="energy-na">{ "Energy: no current figures for this chip (different core: the Cortex-M4 instruction counts do not carry over)." }</p> };
    };
    let Some(s) = energy::summary(
        report,
        Schedule::from_settings(settings),
        &props.board,
        props.mhz,
    ) else {
        return html! {};
    };
    let on_clock = props.on_clock.clone();
    let onchange = Callback::from(move |e: Event| {
        if let Some(sel) = e.target_dyn_into::<HtmlSelectElement>() {
            if let Ok(mhz) = sel.value().parse() {
                on_clock.emit(mhz);
            }
        }
    });
    let selector = html! {
        <label class="clock-picker">{ "Clock: " }
            <select data-testid="clock-select" {onchange}>
                { for chip.clocks.iter().map(|c| html! {
                    <option value={c.mhz.to_string()} selected={c.mhz == props.mhz}>
                        { if c.range > 0 { format!("{} MHz (voltage range {})", c.mhz, c.range) } else { format!("{} MHz", c.mhz) } }
                    </option>
                }) }
            </select>
        </label>
    };
    let w = &s.workload;
    let body = match &s.chosen {
        None => {
            html! { <p data-testid="energy-na">{ format!("{} offers no {} MHz setting: pick a clock.", chip.chip, props.mhz) }</p> }
        }
        Some(e) => {
            let verdict = match energy::summary::realtime_word(e) {
                "yes" => format!(
                    "keeps up with real time: {:.0} % headroom",
                    e.headroom * 100.0
                ),
                "tight" => format!(
                    "keeps up, but only {:.0} % headroom: wait states could make it fall behind",
                    e.headroom * 100.0
                ),
                _ => format!(
                    "cannot keep up with real time: needs {:.0} % of a {} MHz core",
                    e.duty * 100.0,
                    e.mhz
                ),
            };
            html! {
                <>
                <table class="energy">
                    <tbody>
                        <tr><th>{ "latency per invoke" }</th><td class="num" data-testid="energy-latency">{ format!("{:.2} ms", e.latency_ms) }</td></tr>
                        <tr><th>{ "pipeline" }</th><td class="num">{ format!("{:.2} M instructions/s ({:.1} invokes/s + front end)", w.instructions_per_s / 1e6, w.invocations_per_s) }</td></tr>
                        <tr><th>{ "duty cycle" }</th><td class="num" data-testid="energy-duty">{ format!("{:.1} %", e.duty * 100.0) }</td></tr>
                        <tr><th>{ "real time" }</th><td data-testid="energy-realtime">{ verdict }</td></tr>
                        <tr><th>{ "average current" }</th><td class="num" data-testid="energy-current">{ format!("{:.2} mA", e.total_ma) }</td></tr>
                        <tr><th>{ "of which" }</th><td class="num">{ format!("MCU {:.2} mA + microphone {:.2} mA", e.mcu_ma, e.mic_ma) }</td></tr>
                        { for e.battery_days.iter().map(|(b, d)| html! {
                            <tr><th>{ format!("battery life, {b}") }</th><td class="num" data-testid={format!("energy-battery-{b}")}>{ format!("{d:.1} days") }</td></tr>
                        }) }
                    </tbody>
                </table>
                </>
            }
        }
    };
    html! {
        <div class="energy-panel" data-testid="energy-panel">
            { selector }
            if !chip.exported {
                <p class="note warn" data-testid="energy-datasheet-only">{ "Estimate from datasheet, not measured: this chip is only compared." }</p>
            }
            { body }
            <ul class="note">
                { for s.assumptions.iter().map(|a| html! { <li>{ a.clone() }</li> }) }
            </ul>
        </div>
    }
}
