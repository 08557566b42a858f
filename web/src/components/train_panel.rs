//! The Train step: name 2–5 words, record or drop clips for them and at least 20 s of
//! background, train in a Web Worker (its wasm fetched only when the step opens), see float vs
//! int8 accuracy on the held-out split; the trained model is then loaded like any other.

use std::cell::RefCell;
use std::rc::Rc;

use wasm_bindgen_futures::spawn_local;
use web_sys::{File, FileList, HtmlInputElement};
use yew::prelude::*;

use crate::audio::{self, Capture, Source};
use crate::components::app::read_file;
use crate::components::clip_spectrogram::ClipSpectrogram;
use crate::components::export_button::download;
use crate::train::{Class, TrainAction, TrainState, TrainWorker, WORDS};

/// A word recording's length before trimming to the 1 s around the word, seconds.
const WORD_RECORDING_S: f64 = 1.5;
/// Default epochs (`mote train`'s).
const EPOCHS: u32 = 30;

/// Props of [`TrainPanel`].
#[derive(Properties, PartialEq)]
pub struct TrainPanelProps {
    /// Load the trained model: (.tflite bytes, sidecar text).
    pub on_model: Callback<(Vec<u8>, String)>,
}

/// A recording in progress.
struct Recording {
    class: usize,
    /// A word: stops itself after [`WORD_RECORDING_S`] and is trimmed to 1 s.
    word: bool,
    /// Samples so far, at `rate`.
    pcm: Vec<f32>,
    /// The capture's rate once it runs, Hz (0 before).
    rate: f64,
}

/// What the callbacks share (all live as long as the component).
#[derive(Clone)]
struct Shared {
    worker: Rc<RefCell<Option<TrainWorker>>>,
    capture: Rc<RefCell<Option<Capture>>>,
    rec: Rc<RefCell<Option<Recording>>>,
    ids: Rc<RefCell<u32>>,
    dispatch: Callback<TrainAction>,
}

impl Shared {
    fn next_id(&self) -> u32 {
        let mut ids = self.ids.borrow_mut();
        *ids += 1;
        *ids
    }

    /// Sends one clip's audio to the worker (`send` posts it), after registering it.
    fn send(
        &self,
        class: usize,
        name: String,
        send: impl FnOnce(&TrainWorker, u32) -> Result<(), String>,
    ) {
        let id = self.next_id();
        self.dispatch.emit(TrainAction::Sent(id, class, name));
        let sent = match self.worker.borrow().as_ref() {
            Some(w) => send(w, id),
            None => Err("the trainer is not running".into()),
        };
        if let Err(e) = sent {
            self.dispatch.emit(TrainAction::Failed(e));
        }
    }

    /// Reads files into class `class` (the worker decodes them as `mote train` does).
    fn add_files(&self, class: usize, files: Vec<File>) {
        let me = self.clone();
        spawn_local(async move {
            for f in files {
                match read_file(&f).await {
                    Ok(bytes) => me.send(class, f.name(), |w, id| w.wav(id, &bytes)),
                    Err(e) => me.dispatch.emit(TrainAction::Failed(e)),
                }
            }
        });
    }

    /// Reads a zip of folders (the worker unpacks it; folders become classes).
    fn add_zip(&self, file: File) {
        let me = self.clone();
        spawn_local(async move {
            let sent = match read_file(&file).await {
                Ok(bytes) => {
                    me.dispatch.emit(TrainAction::ZipSent);
                    match me.worker.borrow().as_ref() {
                        Some(w) => w.zip(&bytes),
                        None => Err("the trainer is not running".into()),
                    }
                }
                Err(e) => Err(e),
            };
            if let Err(e) = sent {
                me.dispatch.emit(TrainAction::Zip(Vec::new(), vec![e]));
            }
        });
    }

    /// Starts the microphone for class `class`.
    fn record(&self, class: usize, word: bool) {
        *self.rec.borrow_mut() = Some(Recording {
            class,
            word,
            pcm: Vec::new(),
            rate: 0.0,
        });
        self.dispatch
            .emit(TrainAction::Recording(Some((class, -100.0))));
        let me = self.clone();
        let on_chunk = move |chunk: Vec<f32>| {
            let full = {
                let mut rec = me.rec.borrow_mut();
                let Some(r) = rec.as_mut() else { return };
                let power = chunk.iter().map(|x| x * x).sum::<f32>() / chunk.len().max(1) as f32;
                let db = 10.0 * f64::from(power.max(1e-10)).log10();
                me.dispatch.emit(TrainAction::Recording(Some((class, db))));
                r.pcm.extend_from_slice(&chunk);
                r.word && r.rate > 0.0 && r.pcm.len() as f64 >= WORD_RECORDING_S * r.rate
            };
            if full {
                me.finish();
            }
        };
        let me = self.clone();
        spawn_local(async move {
            match audio::start(Source::Mic, on_chunk, |_| {}).await {
                Ok(c) => {
                    if let Some(r) = me.rec.borrow_mut().as_mut() {
                        r.rate = c.rate();
                    }
                    *me.capture.borrow_mut() = Some(c);
                }
                Err(e) => {
                    me.rec.borrow_mut().take();
                    me.dispatch
                        .emit(TrainAction::Failed(format!("Cannot record: {e}")))
                }
            }
        });
    }

    /// Stops the microphone (after the current audio callback returns) and sends what was
    /// recorded.
    fn finish(&self) {
        let me = self.clone();
        spawn_local(async move {
            me.capture.borrow_mut().take();
            me.dispatch.emit(TrainAction::Recording(None));
            let Some(r) = me.rec.borrow_mut().take() else {
                return;
            };
            if r.pcm.is_empty() || r.rate <= 0.0 {
                return;
            }
            let name = format!("recording {}", *me.ids.borrow() + 1);
            me.send(r.class, name, |w, id| w.pcm(id, &r.pcm, r.rate, r.word));
        });
    }
}

fn files(list: Option<FileList>) -> Vec<File> {
    let Some(list) = list else { return vec![] };
    (0..list.length()).filter_map(|i| list.get(i)).collect()
}

fn pct(x: f64) -> String {
    if x.is_nan() {
        "–".into()
    } else {
        format!("{:.1} %", 100.0 * x)
    }
}

/// The Train step.
#[function_component(TrainPanel)]
pub fn train_panel(props: &TrainPanelProps) -> Html {
    let state = use_reducer(TrainState::new);
    let opened = use_state(|| false);
    let worker = use_mut_ref(|| None::<TrainWorker>);
    let word_name = use_node_ref();
    let epochs = use_state(|| EPOCHS);
    let seed = use_state(|| 1u32);
    let dispatch = {
        let d = state.dispatcher();
        let on_model = props.on_model.clone();
        Callback::from(move |a: TrainAction| {
            if let TrainAction::Done(done) = &a {
                on_model.emit((done.tflite.to_vec(), done.sidecar.to_string()));
            }
            d.dispatch(a)
        })
    };
    let shared = Shared {
        worker: worker.clone(),
        capture: use_mut_ref(|| None::<Capture>),
        rec: use_mut_ref(|| None::<Recording>),
        ids: use_mut_ref(|| 0u32),
        dispatch: dispatch.clone(),
    };

    if !*opened {
        let on_open = {
            let (opened, worker, dispatch) = (opened.clone(), worker.clone(), dispatch.clone());
            Callback::from(move |_| {
                match TrainWorker::spawn(dispatch.clone()) {
                    Ok(w) => *worker.borrow_mut() = Some(w),
                    Err(e) => dispatch.emit(TrainAction::Failed(e)),
                }
                opened.set(true);
            })
        };
        return html! {
            <div class="train-panel">
                <p>{ "Teach it your own words: record (or drop WAVs of) 2–5 words and some room noise, train \
                      here in your browser, then run, fit and export the model like any other." }</p>
                <button data-testid="train-open" onclick={on_open}>{ "Open the Train step" }</button>
            </div>
        };
    }

    let s = &*state;
    let busy = s.training.is_some();
    let on_add = {
        let (word_name, dispatch) = (word_name.clone(), dispatch.clone());
        Callback::from(move |e: SubmitEvent| {
            e.prevent_default();
            if let Some(input) = word_name.cast::<HtmlInputElement>() {
                dispatch.emit(TrainAction::AddWord(input.value()));
                input.set_value("");
            }
        })
    };
    let on_zip = {
        let shared = shared.clone();
        Callback::from(move |e: Event| {
            if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                for f in files(input.files()) {
                    shared.add_zip(f);
                }
                input.set_value("");
            }
        })
    };
    let class_view = |i: usize, c: &Class| {
        let word = i > 0;
        let recording_here = s.recording.map(|r| r.0) == Some(i);
        let on_record = {
            let shared = shared.clone();
            Callback::from(move |_| shared.record(i, word))
        };
        let on_stop = {
            let shared = shared.clone();
            Callback::from(move |_| shared.finish())
        };
        let on_files = {
            let shared = shared.clone();
            Callback::from(move |e: Event| {
                if let Some(input) = e.target_dyn_into::<HtmlInputElement>() {
                    shared.add_files(i, files(input.files()));
                    input.set_value("");
                }
            })
        };
        let on_remove = dispatch.reform(move |_| TrainAction::RemoveWord(i));
        html! {
            <div class="train-class" data-testid={format!("train-class-{i}")}>
                <h4>{ &c.name }
                    <span class="muted" data-testid={format!("train-count-{i}")}>
                        { format!(" {} clip(s), {:.1} s", c.clips.len(), c.seconds()) }
                    </span>
                </h4>
                <div class="controls">
                    if recording_here && !word {
                        <button data-testid={format!("train-stop-{i}")} onclick={on_stop}>{ "■ Stop" }</button>
                    } else {
                        <button data-testid={format!("train-record-{i}")} onclick={on_record}
                            disabled={s.recording.is_some() || busy || !s.ready}>
                            { if word { "● Record 1 s" } else { "● Record background" } }
                        </button>
                    }
                    <label class="filebtn">
                        { "or drop WAVs…" }
                        <input type="file" multiple=true accept=".wav,audio/wav" data-testid={format!("train-files-{i}")}
                            onchange={on_files} disabled={busy || !s.ready} />
                    </label>
                    if word {
                        <button onclick={on_remove} disabled={busy}>{ "Remove word" }</button>
                    }
                    if let (true, Some((_, db))) = (recording_here, s.recording) {
                        <meter class="level" min="-80" max="0" low="-50" high="-6" value={db.max(-80.0).to_string()} />
                    }
                </div>
                <ul class="clips">
                    { for c.clips.iter().map(|clip| {
                        let id = clip.id;
                        let on_delete = dispatch.reform(move |_| TrainAction::Delete(id));
                        html! {
                            <li key={id}>
                                <ClipSpectrogram features={clip.features.clone()} />
                                <span>{ format!("{} ({:.2} s)", clip.name, clip.samples.len() as f64 / 16_000.0) }</span>
                                <button title="delete this clip" onclick={on_delete} disabled={busy}>{ "✕" }</button>
                            </li>
                        }
                    }) }
                </ul>
            </div>
        }
    };
    let blocked = s.blocked();
    let on_train = {
        let (worker, state, dispatch) = (worker.clone(), state.clone(), dispatch.clone());
        let (epochs, seed) = (*epochs, *seed);
        Callback::from(move |_| {
            let sent = match worker.borrow().as_ref() {
                Some(w) => w.train(&state.classes, epochs, seed),
                None => Err("the trainer is not running".into()),
            };
            match sent {
                Ok(()) => dispatch.emit(TrainAction::Started),
                Err(e) => dispatch.emit(TrainAction::Failed(e)),
            }
        })
    };
    let number = |h: UseStateHandle<u32>| {
        Callback::from(move |e: Event| {
            if let Some(v) = e
                .target_dyn_into::<HtmlInputElement>()
                .and_then(|i| i.value().parse().ok())
            {
                h.set(v);
            }
        })
    };
    html! {
        <div class="train-panel">
            <div class="status" data-testid="train-status">
                { if s.ready { "Trainer loaded (its own wasm module, running in a Web Worker)." } else { "Loading the trainer…" } }
            </div>
            <form class="controls" onsubmit={on_add}>
                <input ref={word_name} data-testid="train-word-name" placeholder="a word, e.g. yes" maxlength="24" />
                <button type="submit" data-testid="train-add-word" disabled={busy || s.classes.len() > *WORDS.end()}>{ "Add word" }</button>
                <label class="filebtn">
                    { "or drop a zip of folders (word/*.wav, _background_/*.wav)…" }
                    <input type="file" accept=".zip,application/zip" data-testid="train-zip" onchange={on_zip} disabled={busy || !s.ready} />
                </label>
            </form>
            { for s.classes.iter().enumerate().map(|(i, c)| class_view(i, c)) }
            <div class="controls">
                <label>{ "epochs " }<input type="number" min="1" max="200" data-testid="train-epochs"
                    value={epochs.to_string()} onchange={number(epochs.clone())} /></label>
                <label>{ " seed " }<input type="number" min="0" data-testid="train-seed"
                    value={seed.to_string()} onchange={number(seed.clone())} /></label>
                <button data-testid="train-start" onclick={on_train} disabled={busy || blocked.is_some() || !s.ready}>{ "Train" }</button>
            </div>
            if let Some(why) = blocked {
                <div class="muted" data-testid="train-blocked">{ why }</div>
            }
            if let Some(progress) = &s.training {
                <div data-testid="train-progress">
                    <progress max={progress.map_or(1, |p| p.epochs).to_string()} value={progress.map_or(0, |p| p.epoch).to_string()} />
                    { match progress {
                        Some(p) => format!(" epoch {}/{} · loss {:.3} · train {} · held-out {} · {:.1} s",
                            p.epoch, p.epochs, p.loss, pct(p.train_accuracy), pct(p.val_accuracy), p.ms / 1000.0),
                        None => " preparing the examples…".into(),
                    } }
                </div>
            }
            if let Some(d) = &s.done {
                <div class="train-result" data-testid="train-result" data-ms={format!("{:.0}", d.ms)}>
                    <table>
                        <tr><th>{ format!("held-out split ({} examples)", d.held_out) }</th><th>{ "float" }</th><th>{ "int8 (the .tflite, run by the engine)" }</th></tr>
                        <tr><td>{ "top-1 accuracy" }</td>
                            <td data-testid="train-float">{ pct(d.float_accuracy) }</td>
                            <td data-testid="train-int8">{ pct(d.int8_accuracy) }</td></tr>
                    </table>
                    <p>{ format!("Trained in {:.1} s in the worker; {} bytes. It is now the page's model: listen, check the fit, export.",
                        d.ms / 1000.0, d.tflite.len()) }</p>
                    <button data-testid="train-download" onclick={{
                        let d = d.clone();
                        let dispatch = dispatch.clone();
                        Callback::from(move |_| {
                            for (name, mime, bytes) in [("trained.tflite", "application/octet-stream", d.tflite.as_slice()),
                                                        ("trained.json", "application/json", d.sidecar.as_bytes())] {
                                if let Err(e) = download(name, mime, bytes) {
                                    dispatch.emit(TrainAction::Failed(e));
                                }
                            }
                        })
                    }}>{ "Download trained.tflite + .json" }</button>
                </div>
            }
            if let Some(e) = &s.error {
                <div class="status error" data-testid="train-error">{ e }</div>
            }
        </div>
    }
}
