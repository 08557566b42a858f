//! The page: model, live demo, memory budget; owns the state reducer and the live session.

use std::cell::RefCell;
use std::rc::Rc;

use js_sys::Uint8Array;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::{spawn_local, JsFuture};
use web_sys::{File, Response};
use yew::prelude::*;

use crate::audio::{describe, Source};
use crate::components::{
    arena_timeline::ArenaTimeline, board_picker::BoardPicker, detections::Detections,
    energy_panel::EnergyPanel, explain::Explain, export_button::ExportButton,
    fit_verdict::FitVerdict, header::Header, layer_table::LayerTable, live_panel::LivePanel,
    model_panel::ModelPanel, score_plot::ScorePlot, spectrogram::Spectrogram,
    train_panel::TrainPanel,
};
use crate::live::{self, LiveHandle};
use crate::pipeline::PlotSpec;
use crate::state::{Action, LiveStatus, State};

/// Model loaded on first paint.
pub const FIRST_MODEL: &str = "okay_nabu";

/// Fetches a same-origin URL's bytes.
pub async fn fetch_bytes(url: &str) -> Result<Vec<u8>, String> {
    let window = web_sys::window().ok_or("no window")?;
    let resp = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|e| format!("{url}: {}", describe(&e)))?;
    let resp: Response = resp
        .dyn_into()
        .map_err(|_| format!("{url}: not a response"))?;
    if !resp.ok() {
        return Err(format!("{url}: HTTP {}", resp.status()));
    }
    let buf = JsFuture::from(resp.array_buffer().map_err(|e| describe(&e))?)
        .await
        .map_err(|e| describe(&e))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// Reads a picked file's bytes.
pub async fn read_file(f: &File) -> Result<Vec<u8>, String> {
    let buf = JsFuture::from(f.array_buffer())
        .await
        .map_err(|e| format!("{}: {}", f.name(), describe(&e)))?;
    Ok(Uint8Array::new(&buf).to_vec())
}

/// Loads a default model (and its sidecar) served under `models/`.
async fn load_default(id: String, dispatch: Callback<Action>) {
    dispatch.emit(Action::Loading(format!("{id}.tflite")));
    match fetch_bytes(&format!("models/{id}.tflite")).await {
        Ok(bytes) => {
            let sidecar = fetch_bytes(&format!("models/{id}.json"))
                .await
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            dispatch.emit(Action::Load { name: format!("{id}.tflite"), bytes, sidecar });
        }
        Err(e) => dispatch.emit(Action::LoadFailed(format!(
            "The default model could not be loaded ({e}). Run scripts/serve.sh, which fetches it; or pick a .tflite file."
        ))),
    }
}

/// Loads picked/dropped files: the first .tflite, with the first .json as its sidecar.
async fn load_files(files: Vec<File>, dispatch: Callback<Action>) {
    let is = |f: &File, ext: &str| f.name().to_ascii_lowercase().ends_with(ext);
    let Some(model) = files.iter().find(|f| is(f, ".tflite")) else {
        dispatch.emit(Action::LoadFailed(
            "Select a .tflite model file (its .json sidecar can be selected together with it)."
                .into(),
        ));
        return;
    };
    dispatch.emit(Action::Loading(model.name()));
    let bytes = match read_file(model).await {
        Ok(b) => b,
        Err(e) => return dispatch.emit(Action::LoadFailed(format!("Cannot read the file: {e}"))),
    };
    let sidecar = match files.iter().find(|f| is(f, ".json")) {
        Some(j) => match read_file(j).await {
            Ok(b) => Some(String::from_utf8_lossy(&b).into_owned()),
            Err(e) => {
                return dispatch.emit(Action::LoadFailed(format!("Cannot read the sidecar: {e}")))
            }
        },
        None => None,
    };
    dispatch.emit(Action::Load {
        name: model.name(),
        bytes,
        sidecar,
    });
}

/// Starts a live session (stopping any running one).
fn start_live(
    state: &UseReducerHandle<State>,
    handle: &Rc<RefCell<Option<LiveHandle>>>,
    source: Source,
) {
    let Some(model) = state.model.clone() else {
        return;
    };
    handle.borrow_mut().take();
    let dispatch = {
        let d = state.dispatcher();
        Callback::from(move |a| d.dispatch(a))
    };
    dispatch.emit(Action::Live(LiveStatus::Starting));
    let handle = handle.clone();
    spawn_local(async move {
        match live::start(model, source, dispatch.clone()).await {
            Ok(h) => *handle.borrow_mut() = Some(h),
            Err(e) => dispatch.emit(Action::Live(LiveStatus::Error(e))),
        }
    });
}

/// The whole page.
#[function_component(App)]
pub fn app() -> Html {
    let state = use_reducer(State::default);
    let handle = use_mut_ref(|| None::<LiveHandle>);
    let dispatch = {
        let d = state.dispatcher();
        Callback::from(move |a| d.dispatch(a))
    };

    {
        let dispatch = dispatch.clone();
        use_effect_with((), move |_| {
            spawn_local(load_default(FIRST_MODEL.into(), dispatch))
        });
    }
    // A new model, a finished file or an error ends the session.
    {
        let handle = handle.clone();
        let model_id = state.model.as_ref().map(|m| m.id);
        let over = matches!(
            state.live.status,
            LiveStatus::Finished | LiveStatus::Error(_) | LiveStatus::Idle
        );
        use_effect_with((model_id, over), move |(_, over)| {
            if *over {
                handle.borrow_mut().take();
            }
        });
    }

    let on_toggle = dispatch.reform(|_| Action::ToggleWorkshop);
    let on_board = dispatch.reform(Action::SelectBoard);
    let on_clock = dispatch.reform(Action::SelectClock);
    let on_default = {
        let dispatch = dispatch.clone();
        Callback::from(move |id: String| spawn_local(load_default(id, dispatch.clone())))
    };
    let on_files = {
        let dispatch = dispatch.clone();
        Callback::from(move |files: Vec<File>| spawn_local(load_files(files, dispatch.clone())))
    };
    let on_trained = {
        let dispatch = dispatch.clone();
        Callback::from(move |(bytes, sidecar): (Vec<u8>, String)| {
            dispatch.emit(Action::Load {
                name: "trained.tflite".into(),
                bytes,
                sidecar: Some(sidecar),
            })
        })
    };
    let on_mic = {
        let (state, handle) = (state.clone(), handle.clone());
        Callback::from(move |_| start_live(&state, &handle, Source::Mic))
    };
    let on_file = {
        let (state, handle) = (state.clone(), handle.clone());
        Callback::from(move |f: File| {
            let (state, handle) = (state.clone(), handle.clone());
            spawn_local(async move {
                match read_file(&f).await {
                    Ok(bytes) => start_live(
                        &state,
                        &handle,
                        Source::File {
                            name: f.name(),
                            bytes,
                        },
                    ),
                    Err(e) => state.dispatch(Action::Live(LiveStatus::Error(e))),
                }
            })
        })
    };
    let on_stop = {
        let (handle, dispatch) = (handle.clone(), dispatch.clone());
        Callback::from(move |_| {
            handle.borrow_mut().take();
            dispatch.emit(Action::Live(LiveStatus::Stopped));
        })
    };

    let workshop = state.workshop;
    let model = state.model.clone();
    let blocked = match &model {
        None => Some("no model is loaded".to_string()),
        Some(m) => m.settings.as_ref().err().cloned(),
    };
    let settings = model
        .as_ref()
        .and_then(|m| m.settings.as_ref().ok().cloned());
    let has_report = model.as_ref().is_some_and(|m| m.report.is_ok());

    html! {
        <>
            <Header {workshop} {on_toggle} />
            <main>
                <section class="panel model">
                    <h2>{ "1 · Model" }</h2>
                    <ModelPanel model={model.clone()} loading={state.loading.clone()} error={state.load_error.clone()} {on_default} {on_files} />
                    <Explain show={workshop}>
                        { "A .tflite file is a FlatBuffer: the operator graph plus the trained weights, quantized to int8. \
                           Mote's engine reads it in place and runs every operator with the integer arithmetic of \
                           TensorFlow Lite Micro's reference kernels, bit for bit, so the scores on this page are the \
                           scores the microcontroller computes. The optional .json sidecar (microWakeWord's format) \
                           gives the detection threshold, the sliding-window size and the feature step." }
                    </Explain>
                </section>
                <section class="panel train">
                    <h2>{ "Train your own words" }</h2>
                    <TrainPanel on_model={on_trained} />
                    <Explain show={workshop}>
                        { "The trainer is the same code as `mote train`: every clip becomes 1 s windows, shifted, \
                           louder or quieter and mixed with your background at random levels, then the page's own \
                           front end turns them into the 49×40 features the model reads. A small depthwise-separable \
                           CNN learns in 32-bit floats; then every weight is rounded to int8 (per output channel) \
                           and activations to ranges measured on your clips. Rounding can cost accuracy: the \
                           held-out clips are scored twice, by the float network and by the int8 file the chip runs." }
                    </Explain>
                </section>
                <section class="panel live">
                    <h2>{ "2 · Listen" }</h2>
                    <LivePanel live={state.live.clone()} {blocked} {on_mic} {on_file} {on_stop} />
                    if let Some(settings) = settings {
                        <ScorePlot live={state.live.clone()} spec={PlotSpec::new(&settings)} />
                        <Spectrogram live={state.live.clone()} />
                        <Detections live={state.live.clone()} />
                        <crate::components::board_serial::BoardSerial />
                        <Explain show={workshop}>
                            { format!("Audio is resampled to 16 kHz and cut into 30 ms windows every {} ms; each window \
                               becomes 40 log-mel energies in fixed point (TFLM's micro-frontend: FFT, mel filterbank, \
                               noise reduction, PCAN gain control, logarithm). The heatmap shows them as the model \
                               receives them (int8; low frequencies at the bottom). {} Detection rule ({}): {}. \
                               The dashed line is that threshold on one score.",
                               settings.frame_step_ms,
                               if settings.window_frames == settings.stride_frames {
                                   format!("This streaming model takes {} new frames per inference and keeps what it \
                                            needs of the past in its own variables (the streaming state).", settings.stride_frames)
                               } else {
                                   format!("This model sees its last {} frames, every {} new frame(s).",
                                           settings.window_frames, settings.stride_frames)
                               },
                               if settings.sidecar.is_some() { "from the sidecar" } else { "defaults for this kind of model" },
                               settings.detector) }
                        </Explain>
                    }
                </section>
                <section class="panel memory">
                    <h2>{ "3 · Will it fit?" }</h2>
                    <BoardPicker board={state.board.clone()} on_select={on_board} />
                    if let (Some(m), true) = (&model, has_report) {
                        <FitVerdict model={m.clone()} board={state.board.clone()} />
                        <Explain show={workshop}>
                            { "RAM must hold the tensor arena (every intermediate tensor, plus the tables each operator \
                               prepares once), the model state (its variables, which must survive between inferences, so \
                               they get their own buffer), the audio pipeline (front end, feature window, detector), the \
                               microphone buffers and the stack. Flash holds the firmware's code and the model file itself: \
                               the weights are read from flash in place, never copied to RAM." }
                        </Explain>
                        <h3>{ "Arena timeline" }</h3>
                        <ArenaTimeline model={m.clone()} />
                        <Explain show={workshop}>
                            { "Each bar is one tensor: it spans the operators during which it is alive (x) at the \
                               arena offset the planner gave it (y). Tensors that are never alive at the same time share \
                               bytes, so the arena only needs to be as large as its busiest moment; the highlighted \
                               column is the operator with the most live tensor bytes." }
                        </Explain>
                        <h3>{ "Operators" }</h3>
                        <LayerTable model={m.clone()} mhz={state.clock_mhz} />
                        <Explain show={workshop}>
                            { "A MAC is one multiply-accumulate: a layer with K weights per output value and N output \
                               values costs K × N. On a Cortex-M4 each MAC takes a few instructions (two loads, a \
                               multiply-accumulate, address arithmetic); the estimate multiplies the MACs by an \
                               instruction count measured by running the engine in an emulated Cortex-M4." }
                        </Explain>
                        <h3>{ "Latency and battery life" }</h3>
                        <EnergyPanel model={m.clone()} board={state.board.clone()} mhz={state.clock_mhz} on_clock={on_clock} />
                        <Explain show={workshop}>
                            { "The microphone never stops, so the chip cannot sleep deeply: between computations the core \
                               waits in Sleep mode while DMA collects audio. The duty cycle is the share of each second the \
                               core spends computing (front end every frame, the model at its invocation rate, the \
                               detector); the average current mixes the datasheet's run and sleep currents in that \
                               proportion, plus the microphone. A slower clock draws less current per second running \
                               but runs longer; below some clock it can no longer keep up with the audio." }
                        </Explain>
                    }
                    <ExportButton model={model.clone()} board={state.board.clone()} />
                    <crate::components::bin_export::BinExport model={model.clone()} board={state.board.clone()} />
                    <Explain show={workshop}>
                        { "Export builds, here in the browser, the same zip as `mote export`: the firmware template and \
                           the engine's sources, this model, and a generated config.rs with the exact arena and state \
                           sizes, the labels, the detector thresholds and the front-end preset, set up for the chosen \
                           board. It refuses (unless you insist) when the estimate says the firmware will not fit." }
                    </Explain>
                </section>
            </main>
        </>
    }
}
