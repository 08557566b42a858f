//! Golden tests: every case under `tests/golden/{ops,real}/` runs through the interpreter and
//! must reproduce, byte for byte, what the official TFLM Python interpreter computed
//! (`scripts/oracle/gen_goldens.py`): outputs of every invocation and, where recorded, every
//! intermediate tensor. Streaming state carries across a case's invocations. Each case runs
//! twice: with every tensor preserved (to read the intermediate ones), and planned as
//! `Interpreter::new` plans it (tensors sharing bytes, operators running in place), whose
//! outputs must be the same.

mod common;

use std::path::Path;

use mote_engine::interpreter::InterpreterOptions;
use mote_engine::{Error, Interpreter, Model};
use serde_json::Value;

struct Outcome {
    cases: usize,
    skipped: usize,
    invocations: usize,
    bytes: usize,
    failures: Vec<String>,
}

fn run_suite(suite: &str) -> Outcome {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/golden")
        .join(suite);
    let mut out = Outcome {
        cases: 0,
        skipped: 0,
        invocations: 0,
        bytes: 0,
        failures: vec![],
    };
    let Ok(entries) = std::fs::read_dir(&root) else {
        panic!("no golden suite at {}", root.display());
    };
    let mut dirs: Vec<_> = entries
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| p.join("golden.json").exists())
        .collect();
    dirs.sort();
    for dir in dirs {
        let name = dir.file_name().unwrap().to_string_lossy().to_string();
        match run_case(&dir, true).and_then(|r| run_case(&dir, false).map(|_| r)) {
            Ok(Some((inv, bytes))) => {
                out.cases += 1;
                out.invocations += inv;
                out.bytes += bytes;
            }
            Ok(None) => out.skipped += 1,
            Err(e) => out.failures.push(format!("{suite}/{name}: {e}")),
        }
    }
    out
}

fn err(e: Error) -> String {
    format!("{e}")
}

/// Ok(Some((invocations, bytes compared))), Ok(None) if skipped. With `preserve`, every
/// tensor keeps its bytes and the recorded intermediate tensors are compared too; without,
/// only the outputs.
fn run_case(dir: &Path, preserve: bool) -> Result<Option<(usize, usize)>, String> {
    let meta: Value = serde_json::from_slice(&common::read(&dir.join("golden.json")))
        .map_err(|e| e.to_string())?;
    let model_ref = meta["model"].as_str().unwrap_or("model.tflite");
    let Some(model_path) = common::resolve(dir, model_ref) else {
        return Ok(None);
    };
    let bytes = common::read(&model_path);
    if let Some(want) = meta["model_sha256"].as_str() {
        let got = common::sha256(&bytes);
        if got != want {
            return Err(format!(
                "model {} has sha256 {got}, goldens were made from {want}",
                model_path.display()
            ));
        }
    }
    let n = meta["invocations"]
        .as_u64()
        .ok_or("golden.json without invocations")? as usize;
    let model = Model::parse(&bytes).map_err(err)?;

    let load = |key: &str| -> Result<Vec<(usize, Vec<u8>)>, String> {
        meta[key]
            .as_array()
            .map(|a| a.to_vec())
            .unwrap_or_default()
            .iter()
            .map(|e| {
                let file = e["file"].as_str().ok_or("entry without file")?;
                Ok((
                    e["tensor"].as_u64().unwrap_or(0) as usize,
                    common::read(&dir.join(file)),
                ))
            })
            .collect()
    };
    let inputs = load("inputs")?;
    let outputs = load("outputs")?;
    let tensors: Vec<Value> = meta["tensors"].as_array().cloned().unwrap_or_default();
    let tensors_bin = match meta["tensors_file"].as_str() {
        Some(f) if !tensors.is_empty() => common::read(&dir.join(f)),
        _ => vec![],
    };
    let tensors_invocations = meta["tensors_invocations"]
        .as_u64()
        .map_or(n, |v| v as usize);
    let per_invocation: usize = tensors
        .iter()
        .map(|t| t["bytes"].as_u64().unwrap_or(0) as usize)
        .sum();

    let (mut arena, mut state) = sized_buffers(&model, preserve)?;
    let opts = InterpreterOptions {
        preserve_all_tensors: preserve,
    };
    let mut interp =
        Interpreter::with_options(&model, &mut arena, &mut state, opts).map_err(err)?;
    let mut compared = 0;
    for k in 0..n {
        for (i, (_, data)) in inputs.iter().enumerate() {
            let dst = interp.input_mut(i).map_err(err)?;
            let len = dst.len();
            let src = data
                .get(k * len..(k + 1) * len)
                .ok_or(format!("input{i}.bin too short"))?;
            dst.copy_from_slice(src);
        }
        interp
            .invoke()
            .map_err(|e| format!("invocation {k} (preserve {preserve}): {e}"))?;
        for (o, (_, data)) in outputs.iter().enumerate() {
            let got = interp.output(o).map_err(err)?;
            let want = data
                .get(k * got.len()..(k + 1) * got.len())
                .ok_or(format!("output{o}.bin too short"))?;
            compare(
                got,
                want,
                &format!("invocation {k} output {o} (preserve {preserve})"),
            )?;
            compared += got.len();
        }
        if preserve && k < tensors_invocations && !tensors.is_empty() {
            let mut at = k * per_invocation;
            for t in &tensors {
                let (s, idx, len) = (
                    t["subgraph"].as_u64().unwrap_or(0) as usize,
                    t["tensor"].as_u64().unwrap_or(0) as usize,
                    t["bytes"].as_u64().unwrap_or(0) as usize,
                );
                let want = tensors_bin
                    .get(at..at + len)
                    .ok_or("tensors.bin too short")?;
                at += len;
                let got = interp
                    .tensor_data(s, idx)
                    .ok_or(format!("tensor {s}:{idx} has no data"))?;
                let what = format!(
                    "invocation {k} tensor {s}:{idx} '{}'",
                    t["name"].as_str().unwrap_or("")
                );
                compare(got, want, &what)?;
                compared += len;
            }
        }
    }
    Ok(Some((n, compared)))
}

fn compare(got: &[u8], want: &[u8], what: &str) -> Result<(), String> {
    if got.len() != want.len() {
        return Err(format!(
            "{what}: {} bytes, golden has {}",
            got.len(),
            want.len()
        ));
    }
    let diffs: Vec<usize> = (0..got.len()).filter(|&i| got[i] != want[i]).collect();
    if let Some(&first) = diffs.first() {
        return Err(format!(
            "{what}: {} of {} bytes differ; first at {first}: got {} (i8 {}), want {} (i8 {})",
            diffs.len(),
            got.len(),
            got[first],
            got[first] as i8,
            want[first],
            want[first] as i8
        ));
    }
    Ok(())
}

/// Buffers of exactly the size the model asks for.
fn sized_buffers(model: &Model<'_>, preserve: bool) -> Result<(Vec<u8>, Vec<u8>), String> {
    let opts = InterpreterOptions {
        preserve_all_tensors: preserve,
    };
    let (mut a, mut s) = (1024usize, 0usize);
    for _ in 0..8 {
        let (mut arena, mut state) = (vec![0u8; a], vec![0u8; s]);
        match Interpreter::with_options(model, &mut arena, &mut state, opts) {
            Ok(_) => return Ok((arena, state)),
            Err(Error::ArenaTooSmall { needed, .. }) => a = needed as usize + 16,
            Err(Error::StateTooSmall { needed, .. }) => s = needed as usize,
            Err(e) => return Err(err(e)),
        }
    }
    Err("arena size did not converge".into())
}

fn check(suite: &str) {
    let o = run_suite(suite);
    println!(
        "golden {suite}: {} cases passed, {} skipped, {} failed; {} invocations, {} bytes compared",
        o.cases,
        o.skipped,
        o.failures.len(),
        o.invocations,
        o.bytes
    );
    for f in &o.failures {
        println!("  FAIL {f}");
    }
    // Zero cases compared is a failure, not a pass (a moved or empty golden directory); only
    // skips for missing third-party data outside CI are tolerated.
    let ci = std::env::var("CI").is_ok_and(|v| v == "true");
    assert!(
        o.cases > 0 || (o.skipped > 0 && !ci),
        "golden {suite}: no case was compared"
    );
    assert!(
        o.failures.is_empty(),
        "{} golden case(s) differ from TFLM:\n{}",
        o.failures.len(),
        o.failures.join("\n")
    );
}

#[test]
fn ops_match_tflm() {
    check("ops");
}

#[test]
fn real_models_match_tflm() {
    check("real");
}

/// Whole models shaped like MLPerf Tiny's KWS DS-CNN and str-ww and TFLM's person_detect
/// (MobileNet v1 0.25), including the person_detect quirk: rank-1 bias tensors with
/// `quantized_dimension: 3` (`scripts/oracle/gen_kws_models.py`).
#[test]
fn whole_models_match_tflm() {
    check("models");
}
