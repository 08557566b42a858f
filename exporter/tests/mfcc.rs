//! `mote detect` / `mote features --preset mfcc` on the MLPerf-shaped DS-CNN trained by
//! `scripts/oracle/gen_mfcc.py`, and the sidecar's MFCC fields.

mod common;
use common::{mote, repo, write_wav};
use std::path::PathBuf;

/// Five espeak-ng words, 0.4 s of silence before each (as scripts/firmware-test.sh builds it).
fn words_wav(dir: &std::path::Path) -> PathBuf {
    let path = dir.join("words.wav");
    let mut samples = vec![];
    for word in ["yes", "stop", "left", "visual", "go"] {
        samples.extend([0i16; 6400]);
        let clip = repo(&format!("engine/tests/fixtures/audio/mfcc/{word}.wav"));
        for s in hound::WavReader::open(clip).unwrap().samples::<i16>() {
            samples.push(s.unwrap());
        }
    }
    samples.extend([0i16; 12800]);
    write_wav(&path, 1, 16000, samples);
    path
}

#[test]
fn detect_finds_the_keywords_with_and_without_the_sidecar() {
    let dir = tempfile::tempdir().unwrap();
    let wav = words_wav(dir.path());
    let model = repo("engine/tests/fixtures/models/ds_cnn_mfcc.tflite");
    for sidecar in [true, false] {
        let mut cmd = mote();
        cmd.arg("detect").arg(&model).arg(&wav).arg("--json");
        if !sidecar {
            // No sidecar beside a copy of the model: the [1,49,10,1] shape alone picks MFCC.
            let bare = dir.path().join("bare.tflite");
            std::fs::copy(&model, &bare).unwrap();
            cmd = mote();
            cmd.arg("detect").arg(&bare).arg(&wav).arg("--json");
        }
        let out = cmd.output().unwrap();
        common::assert_ok(&out);
        let text = String::from_utf8(out.stdout).unwrap();
        let fired: Vec<&str> = text
            .lines()
            .filter(|l| l.contains("\"event\":\"detection\""))
            .filter_map(|l| l.split("\"label\":\"").nth(1)?.split('"').next())
            .collect();
        assert_eq!(fired, ["yes", "stop", "left", "go"], "sidecar {sidecar}");
    }
}

#[test]
fn sidecar_mfcc_errors_name_the_field() {
    let dir = tempfile::tempdir().unwrap();
    let wav = words_wav(dir.path());
    let model = repo("engine/tests/fixtures/models/ds_cnn_mfcc.tflite");
    for (json, want) in [
        (
            r#"{"mfcc": {"num_mel_bins": 100}}"#,
            "mfcc.num_mel_bins is 100",
        ),
        (
            r#"{"mfcc": {"upper_edge_hertz": 9000}}"#,
            "mfcc.upper_edge_hertz is 9000",
        ),
        (
            r#"{"mfcc": {"window_stride_ms": 2.5}}"#,
            "mfcc.window_stride_ms is 2.5",
        ),
        (r#"{"feature_type": "mfc"}"#, "feature_type is \"mfc\""),
        (r#"{"mfcc": {"mel_bins": 40}}"#, "unknown field `mel_bins`"),
        (
            r#"{"mfcc": {"dct_coefficient_count": 13}}"#,
            "does not look like a keyword model",
        ),
    ] {
        let side = dir.path().join("side.json");
        std::fs::write(&side, json).unwrap();
        let out = mote()
            .args([
                "detect".as_ref(),
                model.as_os_str(),
                wav.as_os_str(),
                "--sidecar".as_ref(),
            ])
            .arg(&side)
            .output()
            .unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success() && err.contains(want), "{json}: {err}");
    }
}

#[test]
fn features_preset_mfcc_writes_ten_f32_per_frame() {
    let dir = tempfile::tempdir().unwrap();
    let wav = words_wav(dir.path());
    let out = dir.path().join("f.bin");
    let run = mote()
        .arg("features")
        .arg(&wav)
        .args(["--preset", "mfcc", "--format", "float32", "--output"])
        .arg(&out)
        .output()
        .unwrap();
    common::assert_ok(&run);
    let samples = hound::WavReader::open(&wav).unwrap().len() as usize;
    let frames = (samples - 480) / 320 + 1;
    assert_eq!(std::fs::read(&out).unwrap().len(), frames * 10 * 4);
    let q = dir.path().join("q.bin");
    let run = mote()
        .arg("features")
        .arg(&wav)
        .args(["--preset", "mfcc", "--format", "int8", "--output"])
        .arg(&q)
        .arg("--model")
        .arg(repo("engine/tests/fixtures/models/ds_cnn_mfcc.tflite"))
        .output()
        .unwrap();
    common::assert_ok(&run);
    assert_eq!(std::fs::read(&q).unwrap().len(), frames * 10);
}
