//! The Train step's Web Worker: messages in, messages out (plain JS objects; the page's
//! `web/src/train.rs` is the other side). In:
//! - `{kind: "clip", id, wav: Uint8Array}` or `{kind: "clip", id, pcm: Float32Array, rate, trim}`
//! - `{kind: "zip", zip: Uint8Array}` (a zip of folders, as `mote train` reads a folder)
//! - `{kind: "train", seed, epochs, model, words: [{name, clips: [Int16Array]}], background: [Int16Array]}`
//!
//! Out: `{kind: "ready"}` once listening; `{kind: "clip", id, samples: Int16Array, features:
//! Uint8Array}` or `{kind: "clip", id, error}`; `{kind: "zip", clips: [{folder, name, samples,
//! features}], errors: [string]}` or `{kind: "zip", error}`; per epoch `{kind: "epoch", epoch, epochs, loss,
//! train_accuracy, val_accuracy, ms}`; then `{kind: "done", tflite: Uint8Array, sidecar,
//! float_accuracy, int8_accuracy, held_out_examples, ms}` or `{kind: "error", message}`.
//! Training runs synchronously here: the page's thread stays free.

use js_sys::{Array, Float32Array, Int16Array, Object, Reflect, Uint8Array};
use mote_train_worker::{train, zip_wavs, Clips};
use mote_trainer::Corpus;
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use web_sys::{DedicatedWorkerGlobalScope, MessageEvent};

fn get(o: &JsValue, key: &str) -> JsValue {
    Reflect::get(o, &key.into()).unwrap_or(JsValue::UNDEFINED)
}

fn num(o: &JsValue, key: &str) -> Option<f64> {
    get(o, key).as_f64()
}

/// An object from (key, value) pairs.
fn obj(pairs: &[(&str, JsValue)]) -> JsValue {
    let o = Object::new();
    for (k, v) in pairs {
        let _ = Reflect::set(&o, &(*k).into(), v);
    }
    o.into()
}

fn now() -> f64 {
    js_sys::global()
        .dyn_into::<web_sys::WorkerGlobalScope>()
        .ok()
        .and_then(|g| g.performance())
        .map_or(0.0, |p| p.now())
}

fn int16_list(v: &JsValue) -> Vec<Vec<i16>> {
    Array::from(v)
        .iter()
        .filter_map(|c| c.dyn_into::<Int16Array>().ok())
        .map(|c| c.to_vec())
        .collect()
}

fn corpus(msg: &JsValue) -> Corpus {
    let words = Array::from(&get(msg, "words"))
        .iter()
        .map(|w| {
            let name = get(&w, "name").as_string().unwrap_or_default();
            (name, int16_list(&get(&w, "clips")))
        })
        .collect();
    Corpus {
        words,
        background: int16_list(&get(msg, "background")),
    }
}

fn on_clip(clips: &mut Clips, msg: &JsValue) -> JsValue {
    let id = get(msg, "id");
    let clip = if let Ok(wav) = get(msg, "wav").dyn_into::<Uint8Array>() {
        clips.clip_from_wav(&wav.to_vec())
    } else if let Ok(pcm) = get(msg, "pcm").dyn_into::<Float32Array>() {
        let rate = num(msg, "rate").unwrap_or(16_000.0) as u32;
        clips.clip_from_pcm(&pcm.to_vec(), rate, get(msg, "trim").is_truthy())
    } else {
        Err("no audio in the message".into())
    };
    match clip {
        Ok(c) => obj(&[
            ("kind", "clip".into()),
            ("id", id),
            ("samples", Int16Array::from(c.samples.as_slice()).into()),
            ("features", Uint8Array::from(c.features.as_slice()).into()),
        ]),
        Err(e) => obj(&[("kind", "clip".into()), ("id", id), ("error", e.into())]),
    }
}

fn on_zip(clips: &mut Clips, msg: &JsValue) -> JsValue {
    let Ok(bytes) = get(msg, "zip").dyn_into::<Uint8Array>() else {
        return obj(&[
            ("kind", "zip".into()),
            ("error", "no zip in the message".into()),
        ]);
    };
    let wavs = match zip_wavs(&bytes.to_vec()) {
        Ok(w) => w,
        Err(e) => return obj(&[("kind", "zip".into()), ("error", e.into())]),
    };
    let (list, errors) = (Array::new(), Array::new());
    for z in wavs {
        match clips.clip_from_wav(&z.wav) {
            Ok(c) => {
                list.push(&obj(&[
                    ("folder", z.folder.into()),
                    ("name", z.name.into()),
                    ("samples", Int16Array::from(c.samples.as_slice()).into()),
                    ("features", Uint8Array::from(c.features.as_slice()).into()),
                ]));
            }
            Err(e) => {
                errors.push(&format!("{}/{}: {e}", z.folder, z.name).into());
            }
        }
    }
    obj(&[
        ("kind", "zip".into()),
        ("clips", list.into()),
        ("errors", errors.into()),
    ])
}

fn on_train(scope: &DedicatedWorkerGlobalScope, msg: &JsValue) -> JsValue {
    let epochs = num(msg, "epochs").unwrap_or(30.0).max(1.0) as usize;
    let seed = num(msg, "seed").unwrap_or(1.0).max(0.0) as u64;
    let model = get(msg, "model")
        .as_string()
        .unwrap_or_else(|| "trained.tflite".into());
    let c = corpus(msg);
    let start = now();
    let result = train(&c, epochs, seed, &model, |r| {
        let _ = scope.post_message(&obj(&[
            ("kind", "epoch".into()),
            ("epoch", (r.epoch as f64).into()),
            ("epochs", (r.epochs as f64).into()),
            ("loss", f64::from(r.loss).into()),
            ("train_accuracy", f64::from(r.train_accuracy).into()),
            ("val_accuracy", f64::from(r.val_accuracy).into()),
            ("ms", (now() - start).into()),
        ]));
    });
    match result {
        Ok(t) => obj(&[
            ("kind", "done".into()),
            ("tflite", Uint8Array::from(t.tflite.as_slice()).into()),
            ("sidecar", t.sidecar.into()),
            ("float_accuracy", f64::from(t.float_accuracy).into()),
            ("int8_accuracy", f64::from(t.int8_accuracy).into()),
            ("held_out_examples", (t.held_out_examples as f64).into()),
            ("ms", (now() - start).into()),
        ]),
        Err(e) => obj(&[("kind", "error".into()), ("message", e.to_string().into())]),
    }
}

fn main() {
    let Ok(scope) = js_sys::global().dyn_into::<DedicatedWorkerGlobalScope>() else {
        return; // not in a worker (a host build): nothing to serve
    };
    let mut clips = Clips::new().ok();
    let reply_to = scope.clone();
    let onmessage = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
        let msg = e.data();
        let reply = match (get(&msg, "kind").as_string().as_deref(), clips.as_mut()) {
            (Some("clip"), Some(c)) => on_clip(c, &msg),
            (Some("zip"), Some(c)) => on_zip(c, &msg),
            (Some("train"), _) => on_train(&reply_to, &msg),
            _ => obj(&[
                ("kind", "error".into()),
                ("message", "the worker cannot read this message".into()),
            ]),
        };
        let _ = reply_to.post_message(&reply);
    });
    scope.set_onmessage(Some(onmessage.as_ref().unchecked_ref()));
    // The worker lives as long as the page keeps it: so does its handler.
    onmessage.forget();
    let _ = scope.post_message(&obj(&[("kind", "ready".into())]));
}
