//! The Train step's state and its Web Worker, from the page's side. The worker
//! (`web/train-worker`, its own wasm module) is spawned when the step opens, so the page's first
//! load never fetches the trainer; messages are described in `web/train-worker/src/main.rs`.
//! Clips live here as 16 kHz samples (what training reads) with their features (what the clip
//! list draws).

use std::rc::Rc;

use js_sys::{Array, Float32Array, Int16Array, Object, Reflect, Uint8Array};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{Blob, BlobPropertyBag, MessageEvent, Url, Worker};
use yew::prelude::*;

/// The worker's files in the page's directory (trunk `data-type="worker"` names them after the
/// binary).
const WORKER_JS: &str = "mote-train-worker.js";
const WORKER_WASM: &str = "mote-train-worker_bg.wasm";
/// Words besides the background (the workshop range).
pub const WORDS: std::ops::RangeInclusive<usize> = 2..=5;
/// The background class's label: `mote-trainer`'s output 0 (the page does not link the
/// trainer).
pub const BACKGROUND: &str = "background";
/// The background folder's name in a dropped zip (`mote train`'s).
pub const ZIP_BACKGROUND: &str = "_background_";
/// Background the step asks for before training, seconds.
pub const MIN_BACKGROUND_S: f64 = 20.0;

/// One clip.
#[derive(Clone, Debug, PartialEq)]
pub struct ClipEntry {
    /// Unique id (the worker's reply names it).
    pub id: u32,
    /// File name, or "recording N".
    pub name: String,
    /// 16 kHz samples.
    pub samples: Rc<Vec<i16>>,
    /// First second's features (frames × 40, int8 + 128).
    pub features: Rc<Vec<u8>>,
}

/// A class: index 0 is the background.
#[derive(Clone, Debug, PartialEq)]
pub struct Class {
    /// Label.
    pub name: String,
    /// Its clips, in the order added.
    pub clips: Vec<ClipEntry>,
}

impl Class {
    /// Total audio, seconds.
    pub fn seconds(&self) -> f64 {
        self.clips.iter().map(|c| c.samples.len()).sum::<usize>() as f64 / 16_000.0
    }
}

/// One epoch's figures, as the worker reports them.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Epoch {
    /// 1-based.
    pub epoch: u32,
    /// Of this many.
    pub epochs: u32,
    /// Mean training cross-entropy.
    pub loss: f64,
    /// Training top-1.
    pub train_accuracy: f64,
    /// Float top-1 on the held-out split (NaN without one).
    pub val_accuracy: f64,
    /// Since training started, ms.
    pub ms: f64,
}

/// The finished training's figures.
#[derive(Clone, Debug, PartialEq)]
pub struct Done {
    /// The int8 model.
    pub tflite: Rc<Vec<u8>>,
    /// Its sidecar.
    pub sidecar: Rc<String>,
    /// Float top-1 on the held-out split.
    pub float_accuracy: f64,
    /// int8 top-1 on the same split.
    pub int8_accuracy: f64,
    /// Held-out examples.
    pub held_out: u32,
    /// Training time in the worker, ms.
    pub ms: f64,
}

/// What the step is doing.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct TrainState {
    /// The worker answered: clips can be added.
    pub ready: bool,
    /// Background first, then the words.
    pub classes: Vec<Class>,
    /// Clips sent to the worker and not back yet: (id, class, name).
    pub pending: Vec<(u32, usize, String)>,
    /// Zips sent to the worker and not back yet.
    pub zips_pending: u32,
    /// Next id for a zip's clips (from 2^31: the component numbers the others from 1).
    pub zip_next_id: u32,
    /// The class being recorded, and the level of the last chunk (dBFS).
    pub recording: Option<(usize, f64)>,
    /// Training runs; the last epoch's figures once one finished.
    pub training: Option<Option<Epoch>>,
    /// The last training's result.
    pub done: Option<Done>,
    /// The last problem, as a sentence.
    pub error: Option<String>,
}

/// A clip as the worker returns it: 16 kHz samples, features.
pub type ClipData = (Rc<Vec<i16>>, Rc<Vec<u8>>);

/// Changes to [`TrainState`].
pub enum TrainAction {
    /// The worker is listening.
    Ready,
    /// A word class, named.
    AddWord(String),
    /// Drop a word class (not the background).
    RemoveWord(usize),
    /// Audio (id `.0`) about to go to the worker for class `.1`, named `.2`.
    Sent(u32, usize, String),
    /// The worker's clip (or why it could not read it).
    Clip(u32, Result<ClipData, String>),
    /// A zip went to the worker.
    ZipSent,
    /// A zip's clips: (folder, file name, clip), and the files that could not be read.
    Zip(Vec<(String, String, ClipData)>, Vec<String>),
    /// Delete a clip by id.
    Delete(u32),
    /// Recording into a class (None: stopped), with the current level.
    Recording(Option<(usize, f64)>),
    /// Training started.
    Started,
    /// An epoch finished.
    Epoch(Epoch),
    /// Training finished.
    Done(Done),
    /// Something failed.
    Failed(String),
}

impl Reducible for TrainState {
    type Action = TrainAction;

    fn reduce(self: Rc<Self>, action: TrainAction) -> Rc<Self> {
        let mut s = (*self).clone();
        match action {
            TrainAction::Ready => s.ready = true,
            TrainAction::AddWord(name) => {
                let name = name.trim().to_string();
                if name.is_empty() || s.classes.iter().any(|c| c.name == name) {
                    s.error = Some(format!("\"{name}\": give each word a new, non-empty name"));
                } else if s.classes.len() > *WORDS.end() {
                    s.error = Some(format!("at most {} words", WORDS.end()));
                } else {
                    s.classes.push(Class {
                        name,
                        clips: Vec::new(),
                    });
                    s.error = None;
                }
            }
            TrainAction::RemoveWord(i) => {
                if i > 0 && i < s.classes.len() {
                    s.classes.remove(i);
                    s.pending.retain(|p| p.1 != i);
                    for p in &mut s.pending {
                        if p.1 > i {
                            p.1 -= 1;
                        }
                    }
                }
            }
            TrainAction::Sent(id, class, name) => {
                s.pending.push((id, class, name));
            }
            TrainAction::Clip(id, result) => {
                if let Some(at) = s.pending.iter().position(|p| p.0 == id) {
                    let (_, class, name) = s.pending.remove(at);
                    match result {
                        Ok((samples, features)) => {
                            if let Some(c) = s.classes.get_mut(class) {
                                c.clips.push(ClipEntry {
                                    id,
                                    name,
                                    samples,
                                    features,
                                });
                            }
                        }
                        Err(e) => s.error = Some(format!("{name}: {e}")),
                    }
                }
            }
            TrainAction::ZipSent => s.zips_pending += 1,
            TrainAction::Zip(clips, errors) => {
                s.zips_pending = s.zips_pending.saturating_sub(1);
                let mut problems = errors;
                for (folder, name, (samples, features)) in clips {
                    let class = if folder == ZIP_BACKGROUND || folder == BACKGROUND {
                        Some(0)
                    } else if let Some(i) = s.classes.iter().position(|c| c.name == folder) {
                        Some(i)
                    } else if s.classes.len() <= *WORDS.end() {
                        s.classes.push(Class {
                            name: folder.clone(),
                            clips: Vec::new(),
                        });
                        Some(s.classes.len() - 1)
                    } else {
                        None
                    };
                    let id = s.zip_next_id;
                    s.zip_next_id = s.zip_next_id.wrapping_add(1);
                    match class.and_then(|i| s.classes.get_mut(i)) {
                        Some(c) => c.clips.push(ClipEntry {
                            id,
                            name,
                            samples,
                            features,
                        }),
                        None => {
                            problems.push(format!("{folder}/{name}: at most {} words", WORDS.end()))
                        }
                    }
                }
                problems.dedup();
                if !problems.is_empty() {
                    s.error = Some(problems.join("; "));
                }
            }
            TrainAction::Delete(id) => {
                for c in &mut s.classes {
                    c.clips.retain(|x| x.id != id);
                }
            }
            TrainAction::Recording(r) => s.recording = r,
            TrainAction::Started => {
                s.training = Some(None);
                s.error = None;
            }
            TrainAction::Epoch(e) => s.training = Some(Some(e)),
            TrainAction::Done(d) => {
                s.training = None;
                s.done = Some(d);
            }
            TrainAction::Failed(e) => {
                s.training = None;
                s.recording = None;
                s.error = Some(e);
            }
        }
        Rc::new(s)
    }
}

impl TrainState {
    /// No words yet, an empty background class.
    pub fn new() -> TrainState {
        TrainState {
            classes: vec![Class {
                name: BACKGROUND.into(),
                clips: Vec::new(),
            }],
            zip_next_id: 1 << 31,
            ..TrainState::default()
        }
    }

    /// Why training cannot start yet, as a sentence (None: it can).
    pub fn blocked(&self) -> Option<String> {
        let words = self.classes.len().saturating_sub(1);
        if !WORDS.contains(&words) {
            return Some(format!(
                "Name {} to {} words first.",
                WORDS.start(),
                WORDS.end()
            ));
        }
        let bg = self.classes.first().map_or(0.0, Class::seconds);
        if bg < MIN_BACKGROUND_S {
            return Some(format!(
                "Record or drop at least {MIN_BACKGROUND_S:.0} s of background (room noise, no words): {bg:.1} s so far."
            ));
        }
        if let Some(c) = self.classes.iter().skip(1).find(|c| c.clips.is_empty()) {
            return Some(format!("\"{}\" has no clips yet.", c.name));
        }
        if !self.pending.is_empty() || self.zips_pending > 0 {
            return Some("Clips are still being read.".into());
        }
        None
    }
}

/// The running worker; dropping it terminates it.
pub struct TrainWorker {
    worker: Worker,
    _onmessage: Closure<dyn FnMut(MessageEvent)>,
    _onerror: Closure<dyn FnMut(web_sys::Event)>,
}

impl Drop for TrainWorker {
    fn drop(&mut self) {
        self.worker.terminate();
    }
}

fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn num(o: &JsValue, key: &str) -> f64 {
    get(o, key).as_f64().unwrap_or(f64::NAN)
}

fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

/// A worker reply as an action.
fn action(msg: &JsValue) -> Option<TrainAction> {
    let bytes = |k: &str| {
        get(msg, k)
            .dyn_into::<Uint8Array>()
            .map(|a| Rc::new(a.to_vec()))
    };
    Some(match get(msg, "kind").as_string()?.as_str() {
        "ready" => TrainAction::Ready,
        "clip" => {
            let id = num(msg, "id") as u32;
            let result = match (
                get(msg, "samples").dyn_into::<Int16Array>(),
                bytes("features"),
            ) {
                (Ok(s), Ok(f)) => Ok((Rc::new(s.to_vec()), f)),
                _ => Err(get(msg, "error")
                    .as_string()
                    .unwrap_or_else(|| "unreadable".into())),
            };
            TrainAction::Clip(id, result)
        }
        "zip" => match get(msg, "error").as_string() {
            Some(e) => TrainAction::Zip(Vec::new(), vec![format!("the zip cannot be read: {e}")]),
            None => {
                let clips = Array::from(&get(msg, "clips"))
                    .iter()
                    .filter_map(|c| {
                        let samples = get(&c, "samples").dyn_into::<Int16Array>().ok()?;
                        let features = get(&c, "features").dyn_into::<Uint8Array>().ok()?;
                        Some((
                            get(&c, "folder").as_string()?,
                            get(&c, "name").as_string()?,
                            (Rc::new(samples.to_vec()), Rc::new(features.to_vec())),
                        ))
                    })
                    .collect();
                let errors = Array::from(&get(msg, "errors"))
                    .iter()
                    .filter_map(|e| e.as_string())
                    .collect();
                TrainAction::Zip(clips, errors)
            }
        },
        "epoch" => TrainAction::Epoch(Epoch {
            epoch: num(msg, "epoch") as u32,
            epochs: num(msg, "epochs") as u32,
            loss: num(msg, "loss"),
            train_accuracy: num(msg, "train_accuracy"),
            val_accuracy: num(msg, "val_accuracy"),
            ms: num(msg, "ms"),
        }),
        "done" => TrainAction::Done(Done {
            tflite: bytes("tflite").ok()?,
            sidecar: Rc::new(get(msg, "sidecar").as_string()?),
            float_accuracy: num(msg, "float_accuracy"),
            int8_accuracy: num(msg, "int8_accuracy"),
            held_out: num(msg, "held_out_examples") as u32,
            ms: num(msg, "ms"),
        }),
        _ => TrainAction::Failed(
            get(msg, "message")
                .as_string()
                .unwrap_or_else(|| "the training worker failed".into()),
        ),
    })
}

impl TrainWorker {
    /// Starts the worker (fetching its script and wasm from the page's directory); every reply
    /// becomes an action.
    pub fn spawn(dispatch: Callback<TrainAction>) -> Result<TrainWorker, String> {
        let doc = web_sys::window()
            .and_then(|w| w.document())
            .ok_or("no document")?;
        let base = get(&doc, "baseURI").as_string().unwrap_or_default();
        let url = |f: &str| Url::new_with_base(f, &base).map(|u| u.href());
        let (js, wasm) = match (url(WORKER_JS), url(WORKER_WASM)) {
            (Ok(j), Ok(w)) => (j, w),
            _ => return Err("cannot locate the training worker".into()),
        };
        // A blob: script so the worker's own URLs are absolute (no-modules wasm-bindgen output
        // defines `wasm_bindgen`; calling it instantiates the wasm and runs its main).
        let script = format!("importScripts({js:?}); wasm_bindgen({wasm:?});");
        let opts = BlobPropertyBag::new();
        opts.set_type("text/javascript");
        let blob = Blob::new_with_str_sequence_and_options(&Array::of1(&script.into()), &opts)
            .map_err(|_| "cannot make the worker script")?;
        let blob_url = Url::create_object_url_with_blob(&blob)
            .map_err(|_| "cannot make the worker script URL")?;
        let worker = Worker::new(&blob_url).map_err(|e| {
            format!(
                "cannot start the training worker: {}",
                crate::audio::describe(&e)
            )
        })?;
        let _ = Url::revoke_object_url(&blob_url);
        let d = dispatch.clone();
        let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(a) = action(&e.data()) {
                d.emit(a);
            }
        });
        let onerror = Closure::<dyn FnMut(web_sys::Event)>::new(move |_| {
            dispatch.emit(TrainAction::Failed(
                "the training worker could not load or crashed (is mote-train-worker.js served?)"
                    .into(),
            ))
        });
        worker.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
        worker.set_onerror(Some(onerror.as_ref().unchecked_ref()));
        Ok(TrainWorker {
            worker,
            _onmessage: onmessage,
            _onerror: onerror,
        })
    }

    fn post(&self, msg: &JsValue) -> Result<(), String> {
        self.worker
            .post_message(msg)
            .map_err(|e| crate::audio::describe(&e))
    }

    /// Sends a WAV file's bytes (decoded as `mote train` decodes them, untrimmed).
    pub fn wav(&self, id: u32, bytes: &[u8]) -> Result<(), String> {
        self.post(&obj(&[
            ("kind", "clip".into()),
            ("id", id.into()),
            ("wav", Uint8Array::from(bytes).into()),
        ]))
    }

    /// Sends a zip of folders (`word/*.wav`, `_background_/*.wav`).
    pub fn zip(&self, bytes: &[u8]) -> Result<(), String> {
        self.post(&obj(&[
            ("kind", "zip".into()),
            ("zip", Uint8Array::from(bytes).into()),
        ]))
    }

    /// Sends a recording at `rate` Hz; `trim`: keep the 1 s around the word.
    pub fn pcm(&self, id: u32, pcm: &[f32], rate: f64, trim: bool) -> Result<(), String> {
        self.post(&obj(&[
            ("kind", "clip".into()),
            ("id", id.into()),
            ("pcm", Float32Array::from(pcm).into()),
            ("rate", rate.into()),
            ("trim", trim.into()),
        ]))
    }

    /// Starts training on the classes (background first).
    pub fn train(&self, classes: &[Class], epochs: u32, seed: u32) -> Result<(), String> {
        let list = |c: &Class| {
            c.clips
                .iter()
                .map(|x| JsValue::from(Int16Array::from(x.samples.as_slice())))
                .collect::<Array>()
        };
        let words: Array = classes
            .iter()
            .skip(1)
            .map(|c| obj(&[("name", c.name.as_str().into()), ("clips", list(c).into())]))
            .collect();
        let background = classes.first().map(list).unwrap_or_default();
        self.post(&obj(&[
            ("kind", "train".into()),
            ("epochs", epochs.into()),
            ("seed", seed.into()),
            ("model", "trained.tflite".into()),
            ("words", words.into()),
            ("background", background.into()),
        ]))
    }
}
