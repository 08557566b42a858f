//! Components and the browser audio path, in headless Chromium (wasm-bindgen-test; run by
//! scripts/web-test.sh with `web/webdriver.json`: fake microphone, autoplay allowed).
#![cfg(target_arch = "wasm32")]

use std::cell::RefCell;
use std::collections::VecDeque;
use std::rc::Rc;
use std::time::Duration;

use mote_web::audio::{self, Event, Source};
use mote_web::components::arena_timeline::{ArenaTimeline, ArenaTimelineProps};
use mote_web::components::detections::{Detections, DetectionsProps};
use mote_web::components::export_button::{ExportButton, ExportButtonProps};
use mote_web::components::fit_verdict::{FitVerdict, FitVerdictProps};
use mote_web::components::model_panel::{ModelPanel, ModelPanelProps};
use mote_web::loaded::Loaded;
use mote_web::pipeline::Detection;
use mote_web::state::LiveView;
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::{Element, HtmlButtonElement};
use yew::platform::time::sleep;
use yew::prelude::*;

wasm_bindgen_test_configure!(run_in_browser);

/// A committed single-op model (the golden suite's): one CONV_2D, int8.
const CONV: &[u8] =
    include_bytes!("../../engine/tests/golden/ops/conv_3x3_same_s1_relu/model.tflite");

/// Mounts `C` in a fresh `<div>` and lets it render.
async fn mount<C>(props: C::Properties) -> Element
where
    C: BaseComponent,
{
    let doc = web_sys::window().unwrap().document().unwrap();
    let root = doc.create_element("div").unwrap();
    doc.body().unwrap().append_child(&root).unwrap();
    yew::Renderer::<C>::with_root_and_props(root.clone(), props).render();
    sleep(Duration::from_millis(50)).await;
    root
}

fn text(root: &Element, selector: &str) -> String {
    root.query_selector(selector)
        .unwrap()
        .unwrap_or_else(|| panic!("no {selector}"))
        .text_content()
        .unwrap_or_default()
}

fn conv() -> Rc<Loaded> {
    Rc::new(Loaded::analyse(1, "conv.tflite", CONV.to_vec(), None))
}

/// The model panel mounted with `m` loaded.
async fn model_panel(m: Rc<Loaded>) -> Element {
    mount::<ModelPanel>(ModelPanelProps {
        model: Some(m),
        loading: None,
        error: None,
        on_default: Callback::noop(),
        on_files: Callback::noop(),
    })
    .await
}

#[wasm_bindgen_test]
async fn model_panel_names_the_model_and_its_arena() {
    let m = conv();
    let arena = m.report.as_ref().unwrap().arena_bytes;
    let root = model_panel(m).await;
    assert_eq!(text(&root, "[data-testid=model-name]"), "conv.tflite");
    assert_eq!(
        text(&root, "[data-testid=arena-peak-bytes]"),
        arena.to_string()
    );
    // It plans, but it is no audio model: the panel says so.
    assert!(text(&root, ".warn").contains("audio pipeline cannot feed this model"));
    assert!(root
        .query_selector("[data-testid=model-input]")
        .unwrap()
        .is_some());
}

#[wasm_bindgen_test]
async fn unreadable_model_is_explained() {
    let m = Rc::new(Loaded::analyse(2, "junk.tflite", b"junk".to_vec(), None));
    let root = model_panel(m).await;
    assert!(text(&root, "[data-testid=model-error]")
        .starts_with("This is not a readable .tflite file (4 bytes)"));
}

#[wasm_bindgen_test]
async fn fit_verdict_compares_with_the_board() {
    let root = mount::<FitVerdict>(FitVerdictProps {
        model: conv(),
        board: "nucleo-l432kc".into(),
    })
    .await;
    let v = text(&root, "[data-testid=fit-verdict]");
    assert!(
        v.starts_with("✔ Fits NUCLEO-L432KC (STM32L432KC): RAM "),
        "{v}"
    );
    assert_eq!(root.query_selector_all(".membar").unwrap().length(), 2);
}

#[wasm_bindgen_test]
async fn arena_timeline_draws_each_tensor_and_names_it_on_hover() {
    let m = conv();
    let planned = m
        .report
        .as_ref()
        .unwrap()
        .tensors
        .iter()
        .filter(|t| t.kind == "arena" && t.bytes > 0)
        .count();
    let root = mount::<ArenaTimeline>(ArenaTimelineProps { model: m.clone() }).await;
    let bars = root.query_selector_all("rect.tensor").unwrap();
    assert_eq!(bars.length() as usize, planned);
    let first: Element = bars.get(0).unwrap().dyn_into().unwrap();
    first
        .dispatch_event(&web_sys::MouseEvent::new("mouseenter").unwrap())
        .unwrap();
    sleep(Duration::from_millis(30)).await;
    let card = text(&root, "[data-testid=tensor-hover]");
    assert!(card.contains("bytes at offset"), "{card}");
}

/// The export button mounted for `model` on the B-L475E-IOT01A.
async fn export_button(model: Option<Rc<Loaded>>) -> HtmlButtonElement {
    let root = mount::<ExportButton>(ExportButtonProps {
        model,
        board: "b-l475e-iot01a".into(),
    })
    .await;
    root.query_selector("[data-testid=export-button]")
        .unwrap()
        .unwrap()
        .dyn_into()
        .unwrap()
}

#[wasm_bindgen_test]
async fn export_needs_an_audio_model() {
    let b = export_button(None).await;
    assert!(b.disabled());
    assert_eq!(b.title(), "load a model first");
    let b = export_button(Some(conv())).await;
    // Not a keyword model: Export offers an infer-mode project (issue 15) instead of refusing.
    assert!(!b.disabled(), "{}", b.title());
}

/// MFCCs in wasm are the host's bits: the same hash as `engine/tests/mfcc.rs`'s `YES_MFCC_FNV`.
#[wasm_bindgen_test]
fn mfcc_features_are_the_hosts_bits() {
    use mote_engine::mfcc::{Mfcc, MfccConfig};
    const YES_MFCC_FNV: u64 = 0xb960_7c72_4a4c_5b9a;
    let wav = include_bytes!("../../engine/tests/fixtures/audio/mfcc/yes.wav");
    let samples: Vec<i16> = wav[44..]
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]))
        .collect();
    let mut m = Box::new(Mfcc::EMPTY);
    m.init(&MfccConfig::MLPERF.with_input(0.559_943_3, 93))
        .unwrap();
    let (mut f, mut q) = (Vec::new(), Vec::new());
    m.push(&samples, |fr| {
        f.extend_from_slice(fr.features);
        q.extend(fr.int8.iter().map(|&v| v as u8));
    });
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    for b in f.iter().flat_map(|v| v.to_bits().to_le_bytes()).chain(q) {
        h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    }
    assert_eq!(f.len(), 210);
    assert_eq!(h, YES_MFCC_FNV, "{h:#x}");
}

#[wasm_bindgen_test]
async fn detections_list_their_labels() {
    let live = LiveView {
        detections: VecDeque::from(vec![Detection {
            t: 1.25,
            label: "yes".into(),
            score: 0.91,
        }]),
        ..LiveView::default()
    };
    let root = mount::<Detections>(DetectionsProps {
        live: Rc::new(live),
    })
    .await;
    assert_eq!(
        text(&root, "[data-testid=detections] li"),
        "yes at 1.25 s, score 0.91"
    );
}

/// A mono 16-bit WAV of `secs` of a 1 kHz tone at half scale.
fn tone_wav(rate: u32, secs: f32) -> Vec<u8> {
    let n = (rate as f32 * secs) as u32;
    let mut v = Vec::new();
    let le32 = |v: &mut Vec<u8>, x: u32| v.extend_from_slice(&x.to_le_bytes());
    v.extend_from_slice(b"RIFF");
    le32(&mut v, 36 + 2 * n);
    v.extend_from_slice(b"WAVEfmt ");
    le32(&mut v, 16);
    v.extend_from_slice(&[1, 0, 1, 0]);
    le32(&mut v, rate);
    le32(&mut v, rate * 2);
    v.extend_from_slice(&[2, 0, 16, 0]);
    v.extend_from_slice(b"data");
    le32(&mut v, 2 * n);
    for i in 0..n {
        let s =
            (16384.0 * (2.0 * std::f32::consts::PI * 1000.0 * i as f32 / rate as f32).sin()) as i16;
        v.extend_from_slice(&s.to_le_bytes());
    }
    v
}

#[wasm_bindgen_test]
async fn a_played_file_reaches_rust_through_the_worklet() {
    let got = Rc::new(RefCell::new(Vec::<f32>::new()));
    let ended = Rc::new(RefCell::new(false));
    let (g, e) = (got.clone(), ended.clone());
    let capture = audio::start(
        Source::File {
            name: "tone.wav".into(),
            bytes: tone_wav(48_000, 0.5),
        },
        move |chunk| g.borrow_mut().extend(chunk),
        move |ev| {
            if ev == Event::Ended {
                *e.borrow_mut() = true;
            }
        },
    )
    .await
    .expect("capture starts");
    for _ in 0..60 {
        if *ended.borrow() {
            break;
        }
        sleep(Duration::from_millis(50)).await;
    }
    sleep(Duration::from_millis(200)).await;
    assert!(*ended.borrow(), "the file never ended");
    let rate = capture.rate();
    let samples = got.borrow();
    // Half a second, decoded to the context's rate, in 50 ms chunks (the last one may wait).
    assert!(
        samples.len() as f64 >= 0.4 * rate,
        "{} samples at {rate} Hz",
        samples.len()
    );
    let rms =
        (samples.iter().map(|x| f64::from(*x).powi(2)).sum::<f64>() / samples.len() as f64).sqrt();
    assert!(rms > 0.25 && rms < 0.45, "rms {rms}");
}

#[wasm_bindgen_test]
async fn the_fake_microphone_delivers_chunks() {
    let got = Rc::new(RefCell::new(0usize));
    let g = got.clone();
    let capture = audio::start(
        Source::Mic,
        move |chunk| *g.borrow_mut() += chunk.len(),
        |_| (),
    )
    .await;
    let capture = capture.expect("microphone opens with the fake device");
    for _ in 0..40 {
        if *got.borrow() > 0 {
            break;
        }
        sleep(Duration::from_millis(50)).await;
    }
    assert!(
        *got.borrow() > 0,
        "no audio from the microphone at {} Hz",
        capture.rate()
    );
    // Chunks are 50 ms at the context rate.
    assert_eq!(*got.borrow() % (capture.rate() / 20.0).round() as usize, 0);
}
