//! Live controls: start the microphone, play a WAV file through the same pipeline, stop; the
//! status line and the measured cost of the model in this browser.

use std::rc::Rc;

use web_sys::{File, HtmlInputElement};
use yew::prelude::*;

use crate::state::{LiveStatus, LiveView};

/// Props of [`LivePanel`].
#[derive(Properties, PartialEq)]
pub struct LivePanelProps {
    /// Live data.
    pub live: Rc<LiveView>,
    /// Why the loaded model cannot run live (None: it can).
    pub blocked: Option<String>,
    /// Start the microphone.
    pub on_mic: Callback<()>,
    /// Play this audio file.
    pub on_file: Callback<File>,
    /// Stop.
    pub on_stop: Callback<()>,
}

/// The live control bar.
#[function_component(LivePanel)]
pub fn live_panel(props: &LivePanelProps) -> Html {
    let live = &props.live;
    let running = matches!(
        live.status,
        LiveStatus::Running(_) | LiveStatus::Paused | LiveStatus::Starting
    );
    let disabled = props.blocked.is_some() || running;
    let on_mic = props.on_mic.reform(|_: MouseEvent| ());
    let on_stop = props.on_stop.reform(|_: MouseEvent| ());
    let on_file = {
        let cb = props.on_file.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                if let Some(f) = input.files().and_then(|l| l.get(0)) {
                    cb.emit(f);
                }
                input.set_value("");
            }
        })
    };
    let status = match &live.status {
        LiveStatus::Idle => {
            "Press “Start microphone” and say the wake word, or play a WAV file.".to_string()
        }
        LiveStatus::Starting => "Starting…".into(),
        LiveStatus::Running(what) => format!("Listening: {what}"),
        LiveStatus::Paused => "Paused while the tab is hidden (no audio is captured).".into(),
        LiveStatus::Finished => "The file has finished.".into(),
        LiveStatus::Stopped => "Stopped.".into(),
        LiveStatus::Error(e) => format!("Cannot listen: {e}"),
    };
    let is_error = matches!(live.status, LiveStatus::Error(_));
    html! {
        <div class="live-panel">
            <div class="controls">
                <button data-testid="mic-start" onclick={on_mic} disabled={disabled}>{ "● Start microphone" }</button>
                <label class={classes!("filebtn", disabled.then_some("disabled"))}>
                    { "▶ Play a WAV file " }
                    <input type="file" data-testid="wav-input" accept=".wav,audio/*" disabled={disabled} onchange={on_file} />
                </label>
                <button data-testid="stop" onclick={on_stop} disabled={!running}>{ "■ Stop" }</button>
            </div>
            if let Some(why) = &props.blocked {
                <div class="warn">{ format!("The live demo cannot run this model: {why}") }</div>
            }
            <div class={classes!("status", is_error.then_some("error"))} data-testid="live-status">{ status }</div>
            <div class="stats" data-testid="live-stats">
                { match (live.ms_per_invoke(), live.rtf()) {
                    (Some(ms), Some(rtf)) => format!(
                        "wasm: {:.3} ms per inference, front end + model + detector ({} inferences); real-time factor {:.4} (audio {} Hz)",
                        ms, live.invokes, rtf, live.rate),
                    _ => "wasm time per inference and real-time factor appear once audio flows.".into(),
                } }
            </div>
        </div>
    }
}
