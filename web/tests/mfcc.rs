//! The page's live path with an MFCC keyword model (the MLPerf-shaped DS-CNN trained by
//! `scripts/oracle/gen_mfcc.py`, no sidecar: its [1,49,10,1] input picks MLPerf's MFCCs and
//! labels): float audio in 50 ms chunks, at 16 and 48 kHz, finds the spoken keywords.
#![cfg(not(target_arch = "wasm32"))]

use std::path::PathBuf;

use mote_exporter::export::config::Settings;
use mote_web::pipeline::with_pipeline;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// "yes", "stop", "left", "visual" (not a keyword), "go", each after 0.4 s of silence, as floats.
fn words() -> Vec<f32> {
    let mut v = Vec::new();
    for w in ["yes", "stop", "left", "visual", "go"] {
        v.extend(vec![0.0; 6400]);
        let p = repo().join(format!("engine/tests/fixtures/audio/mfcc/{w}.wav"));
        let r = hound::WavReader::open(p).unwrap();
        v.extend(
            r.into_samples::<i16>()
                .map(|s| f32::from(s.unwrap()) / 32768.0),
        );
    }
    v.extend(vec![0.0; 12800]);
    v
}

#[test]
fn mfcc_model_runs_live() {
    let model =
        std::fs::read(repo().join("engine/tests/fixtures/models/ds_cnn_mfcc.tflite")).unwrap();
    let settings = Settings::for_model(&mote_engine::Model::parse(&model).unwrap(), None).unwrap();
    assert_eq!(settings.frontend, "mfcc");
    let audio = words();
    let fired = with_pipeline(&model, &settings, 16000, |p| {
        let mut labels = vec![];
        for c in audio.chunks(800) {
            labels.extend(p.push(c, &|| 0.0)?.detections.into_iter().map(|d| d.label));
        }
        Ok(labels)
    })
    .unwrap();
    assert_eq!(fired, ["yes", "stop", "left", "go"]);
}
