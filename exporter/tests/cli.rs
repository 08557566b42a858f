//! The `mote` binary end to end: inspect (text and JSON), infer over golden inputs, and the
//! errors a person sees for bad input.

use std::path::{Path, PathBuf};

mod common;
use common::{mote, pip_model, repo, write_wav};

fn golden(rel: &str) -> PathBuf {
    repo("engine/tests/golden").join(rel)
}

#[test]
fn inspect_json_has_the_documented_integers() {
    let out = mote()
        .args(["inspect", "--json"])
        .arg(golden("ops/conv_3x3_same_s1_relu/model.tflite"))
        .output()
        .unwrap();
    common::assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    for k in ["arena_bytes", "state_bytes", "weights_bytes", "macs"] {
        assert!(v[k].is_u64(), "{k} missing or not an integer: {}", v[k]);
    }
    assert!(v["macs"].as_u64().unwrap() > 0);
    assert!(v["ops"]
        .as_array()
        .unwrap()
        .iter()
        .any(|o| o["op"] == "CONV_2D"));
}

#[test]
fn inspect_text_shows_memory() {
    let out = mote()
        .arg("inspect")
        .arg(golden("ops/fc_rank2_bias/model.tflite"))
        .output()
        .unwrap();
    assert!(out.status.success());
    let s = String::from_utf8_lossy(&out.stdout);
    for w in ["FULLY_CONNECTED", "arena", "weights", "MACs"] {
        assert!(s.contains(w), "missing {w} in:\n{s}");
    }
}

#[test]
fn infer_reproduces_streaming_goldens() {
    let Some(model) = pip_model("okay_nabu.tflite") else {
        return;
    };
    infer_equals_golden(&model, &golden("real/okay_nabu"));
}

#[test]
fn infer_refuses_a_partial_invocation() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.bin");
    std::fs::write(&input, [1u8, 2, 3]).unwrap();
    let out = mote()
        .arg("infer")
        .arg(golden("ops/fc_rank2_bias/model.tflite"))
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(tmp.path().join("o.bin"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("not a whole number of invocations"), "{e}");
}

#[test]
fn bad_models_give_clear_errors() {
    let tmp = tempfile::tempdir().unwrap();
    let bad = tmp.path().join("bad.tflite");
    let good = std::fs::read(golden("ops/fc_rank2_bias/model.tflite")).unwrap();
    for (bytes, expect) in [
        (good[..good.len() / 3].to_vec(), "truncated"),
        (
            b"not a model at all, really".to_vec(),
            "not a TensorFlow Lite model",
        ),
    ] {
        std::fs::write(&bad, &bytes).unwrap();
        let out = mote().arg("inspect").arg(&bad).output().unwrap();
        assert_eq!(out.status.code(), Some(1));
        let e = String::from_utf8_lossy(&out.stderr);
        assert!(
            e.contains(expect) || e.contains("malformed"),
            "expected '{expect}' in: {e}"
        );
    }
    let out = mote()
        .arg("inspect")
        .arg(tmp.path().join("missing.tflite"))
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stderr).contains("cannot read model"));
}

fn fixture(name: &str) -> PathBuf {
    repo("engine/tests/fixtures/audio").join(name)
}

#[test]
fn features_equal_the_oracle_goldens() {
    // Golden layout: frames*40 u16 LE features, then frames*40 int8 (scripts/frontend/).
    for (preset, tag) in [
        ("micro-wakeword", "micro_wakeword"),
        ("micro-speech", "micro_speech"),
    ] {
        let want = std::fs::read(golden(&format!("frontend/speech_weather_{tag}.bin"))).unwrap();
        let tmp = tempfile::tempdir().unwrap();
        let (u16_out, i8_out) = (tmp.path().join("f16"), tmp.path().join("f8"));
        for (fmt, out) in [("uint16", &u16_out), ("int8", &i8_out)] {
            let st = mote()
                .arg("features")
                .arg(fixture("speech_weather.wav"))
                .args(["--preset", preset, "--format", fmt, "--output"])
                .arg(out)
                .status()
                .unwrap();
            assert!(st.success());
        }
        let (a, b) = (
            std::fs::read(&u16_out).unwrap(),
            std::fs::read(&i8_out).unwrap(),
        );
        assert_eq!(a.len(), 2 * b.len());
        assert_eq!(
            [a, b].concat(),
            want,
            "{preset}: features differ from the oracle"
        );
    }
}

#[test]
fn detect_json_lines_for_a_wake_word() {
    let Some(model) = pip_model("okay_nabu.tflite") else {
        return;
    };
    let out = mote()
        .arg("detect")
        .arg(&model)
        .arg(fixture("okay_nabu.wav"))
        .arg("--json")
        .output()
        .unwrap();
    common::assert_ok(&out);
    let text = String::from_utf8(out.stdout).unwrap();
    let lines: Vec<serde_json::Value> = text
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let inv = lines.iter().filter(|v| v["scores"].is_array()).count();
    let det: Vec<_> = lines.iter().filter(|v| v["event"] == "detection").collect();
    assert_eq!(inv, 67);
    assert_eq!(det.len(), 1, "{text}");
    assert_eq!(det[0]["label"], "Okay Nabu");
    assert!(det[0]["score"].as_f64().unwrap() > 0.85);
}

#[test]
fn detect_rejects_unsupported_audio_and_models() {
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("x.wav");
    write_wav(&w, 1, 200_000, [0i16]);
    let Some(model) = pip_model("okay_nabu.tflite") else {
        return;
    };
    let out = mote().arg("detect").arg(&model).arg(&w).output().unwrap();
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("200000 Hz cannot be converted to 16 kHz")
    );
    // A model that is not a keyword model (a conv op test model).
    let out = mote()
        .arg("detect")
        .arg(golden("ops/conv_3x3_same_s1_relu/model.tflite"))
        .arg(fixture("okay_nabu.wav"))
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("does not look like a keyword model"),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// TFLM's person_detect quirk: rank-1 bias tensors with `quantized_dimension: 3`. `mote infer`
/// on a MobileNet v1 0.25 carrying it (scripts/oracle/gen_kws_models.py) reproduces TFLM's
/// outputs over the golden inputs.
#[test]
fn infer_accepts_person_detect_qdim3_biases() {
    let model = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../engine/tests/fixtures/models/mobilenet_025_qdim3.tflite");
    infer_equals_golden(&model, &golden("models/mobilenet_025_qdim3"));
}

/// `mote infer MODEL` on the golden's `input0.bin` writes exactly its `output0.bin` (TFLM's).
fn infer_equals_golden(model: &Path, dir: &Path) {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.bin");
    let run = mote()
        .arg("infer")
        .arg(model)
        .arg("--input")
        .arg(dir.join("input0.bin"))
        .arg("--output")
        .arg(&out)
        .output()
        .unwrap();
    common::assert_ok(&run);
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(dir.join("output0.bin")).unwrap()
    );
}

/// `inspect --board --clock`: latency, duty cycle, current and battery life, in text and JSON.
#[test]
fn inspect_board_prints_latency_and_energy() {
    let Some(model) = pip_model("okay_nabu.tflite") else {
        return;
    };
    let out = mote()
        .args(["inspect", "--board", "nucleo-l432kc", "--clock", "26"])
        .arg(&model)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    common::assert_ok(&out);
    assert!(
        text.contains("## Latency and energy (STM32L432KC on nucleo-l432kc)"),
        "{text}"
    );
    assert!(text.contains("at 26 MHz (range 2)"), "{text}");
    for clock in ["| 80 MHz | 1 |", "| 16 MHz | 2 |"] {
        assert!(text.contains(clock), "{clock} in {text}");
    }
    assert!(
        text.contains("CR2032") && text.contains("DS11451"),
        "{text}"
    );

    let out = mote()
        .args(["inspect", "--json", "--board", "b-l475e-iot01a"])
        .arg(&model)
        .output()
        .unwrap();
    common::assert_ok(&out);
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    let e = &v["energy"];
    assert_eq!(e["clock_mhz"], 64);
    assert_eq!(e["chosen"]["mhz"], 64);
    assert!(e["invoke"]["instructions"].as_u64().unwrap() > 100_000);
    assert!(e["chosen"]["total_ma"].as_f64().unwrap() > 0.6);
    assert_eq!(e["clocks"].as_array().unwrap().len(), 5);
    assert!(v["arena_bytes"].is_u64(), "the report is still there");
}

#[test]
fn inspect_board_errors_are_clear() {
    let conv = golden("ops/conv_3x3_same_s1_relu/model.tflite");
    let out = mote()
        .args(["inspect", "--board", "b-l475e-iot01a"])
        .arg(&conv)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("no latency/energy estimate"), "{err}");
    let Some(model) = pip_model("hey_jarvis.tflite") else {
        return;
    };
    for (args, want) in [
        (vec!["--board", "nope"], "unknown board"),
        (
            vec!["--board", "nucleo-l476rg", "--clock", "33"],
            "offers no 33 MHz",
        ),
    ] {
        let out = mote()
            .arg("inspect")
            .args(&args)
            .arg(&model)
            .output()
            .unwrap();
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(want), "{want} in {err}");
    }
}
