//! `mote export --bin` and the library's `export_bin` (what the playground runs in wasm): the
//! image layout (runtime, erased flash, model slot the engine's slot reader accepts), the same
//! bytes from the CLI and the library, and refusals with numbers. The runtime here is a stand-in
//! carrying the marker; the real one runs in QEMU in scripts/runtime-test.sh.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use mote_engine::slot;
use mote_exporter::export::bin::{self, BinError, BinRequest, RUNTIME_MARKER};

fn fake_runtime(board: &str) -> Vec<u8> {
    let mut r = vec![0x5Au8; 1000];
    r.extend_from_slice(RUNTIME_MARKER);
    r.extend_from_slice(board.as_bytes());
    r.push(0);
    r
}

/// `mote export --bin MODEL --board BOARD --runtime RUNTIME -o OUT`.
fn export_bin(model: &Path, board: &str, runtime: &Path, out: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_mote"))
        .args(["export", "--bin"])
        .arg(model)
        .args(["--board", board, "--runtime"])
        .arg(runtime)
        .arg("-o")
        .arg(out)
        .output()
        .unwrap()
}

#[test]
fn bin_layout_and_cli_bytes() {
    let Some(model_path) = common::pip_model("okay_nabu.tflite") else {
        return;
    };
    let model = std::fs::read(&model_path).unwrap();
    let sidecar = std::fs::read_to_string(model_path.with_extension("json")).unwrap();
    let runtime = fake_runtime("b-l475e-iot01a");
    let e = bin::export_bin(&BinRequest {
        model: &model,
        sidecar: Some(&sidecar),
        board: "b-l475e-iot01a",
        runtime: &runtime,
        replay: None,
    })
    .unwrap();
    let l = slot::layout("b-l475e-iot01a").unwrap();
    let at = l.model_slot as usize;
    assert_eq!(&e.bin[..runtime.len()], &runtime[..]);
    assert!(e.bin[runtime.len()..at].iter().all(|&b| b == 0xFF));
    let s = slot::read_model_slot(&e.bin[at..], l.code).unwrap();
    assert_eq!(s.model, &model[..]);
    assert_eq!(s.settings.labels(), &["Okay Nabu"]);
    assert!(s.settings.sidecar().is_some());
    assert_eq!(e.drive, "DIS_L4IOT");
    assert!(e.fit.fits());

    // The CLI writes the same bytes.
    let dir = tempfile::tempdir().unwrap();
    let rt = dir.path().join("rt.bin");
    std::fs::write(&rt, &runtime).unwrap();
    let out = dir.path().join("fw.bin");
    let st = export_bin(&model_path, "b-l475e-iot01a", &rt, &out);
    common::assert_ok(&st);
    assert_eq!(std::fs::read(&out).unwrap(), e.bin);
    assert!(String::from_utf8_lossy(&st.stderr).contains("DIS_L4IOT"));

    // Another board's runtime is refused.
    let st = export_bin(&model_path, "nucleo-l476rg", &rt, &dir.path().join("x.bin"));
    assert!(!st.status.success());
    let err = String::from_utf8_lossy(&st.stderr);
    assert!(
        err.contains("this runtime is for b-l475e-iot01a, not nucleo-l476rg"),
        "{err}"
    );
    assert!(!dir.path().join("x.bin").exists());
}

#[test]
fn too_big_for_the_runtime_says_by_how_much() {
    let Some(model_path) = common::pip_model("okay_nabu.tflite") else {
        return;
    };
    let model = std::fs::read(&model_path).unwrap();
    let b = mote_exporter::export::board::find("nucleo-l432kc").unwrap();
    let f = bin::fit(&model, None, b).unwrap();
    // okay_nabu fits the L432KC runtime's 80 KB slot and 20 KB of model memory.
    assert!(f.fits(), "{:?}", f.overflows());
    // A runtime image larger than its share of flash is refused with numbers.
    let mut runtime = fake_runtime("nucleo-l432kc");
    runtime.resize(200 * 1024, 0);
    match bin::export_bin(&BinRequest {
        model: &model,
        sidecar: None,
        board: "nucleo-l432kc",
        runtime: &runtime,
        replay: None,
    }) {
        Err(BinError::DoesNotFit(fit)) => {
            let msg = BinError::DoesNotFit(fit).to_string();
            assert!(
                msg.contains("the runtime image is 204800 B, at most 180224 B"),
                "{msg}"
            );
        }
        other => panic!("expected DoesNotFit, got {other:?}"),
    }
}
