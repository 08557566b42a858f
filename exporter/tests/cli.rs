//! The `mote` binary end to end: inspect (text and JSON), infer over golden inputs, and the
//! errors a person sees for bad input.

use std::path::{Path, PathBuf};
use std::process::Command;

fn mote() -> Command {
    Command::new(env!("CARGO_BIN_EXE_mote"))
}

fn golden(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../engine/tests/golden")
        .join(rel)
}

fn pip_model(name: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("MOTE_PIP_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../models/pip"));
    let p = dir.join("pymicro_wakeword/models").join(name);
    if p.exists() {
        return Some(p);
    }
    if std::env::var("CI").as_deref() == Ok("true") {
        panic!("missing {} (run scripts/fetch-models.sh)", p.display());
    }
    eprintln!(
        "SKIP: missing {} (run scripts/fetch-models.sh)",
        p.display()
    );
    None
}

#[test]
fn inspect_json_has_the_documented_integers() {
    let out = mote()
        .args(["inspect", "--json"])
        .arg(golden("ops/conv_3x3_same_s1_relu/model.tflite"))
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
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
    let dir = golden("real/okay_nabu");
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("out.bin");
    let st = mote()
        .arg("infer")
        .arg(&model)
        .arg("--input")
        .arg(dir.join("input0.bin"))
        .arg("--output")
        .arg(&out)
        .status()
        .unwrap();
    assert!(st.success());
    assert_eq!(
        std::fs::read(&out).unwrap(),
        std::fs::read(dir.join("output0.bin")).unwrap()
    );
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
