//! The kernel sweep on the host, case by case:
//! - every case of the sweep against `sweep_hashes.txt`, the portable kernels' hashes (which
//!   the TFLM subset below holds to the oracle). Run plainly it checks the portable kernels
//!   stay put; under `MOTE_DSP_EMULATE=1` it checks the Cortex-M4 (DSP) strategies with
//!   emulated SXTB16/SMLAD against them. The device itself is checked by
//!   `scripts/firmware-test.sh` (the sweep firmware in QEMU vs `sweep check`).
//! - the TFLM subset (`golden/sweep_tflm.txt`, from `scripts/oracle/sweep_tflm.py`).
//!
//! A mismatch prints the case's parameters (`cargo run -p mote-testgen --bin sweep -- show I`).
//! After an intended generator change, regenerate both files:
//! `cargo run -p mote-testgen --bin sweep -- hashes > testgen/tests/sweep_hashes.txt` and
//! `scripts/oracle/sweep_tflm.py`, and check the TFLM test passes on the portable kernels.

use mote_testgen::{case, run, ARENA_BYTES, MODEL_BYTES, SWEEP_CASES};

const HASHES: &str = include_str!("sweep_hashes.txt");
const TFLM: &str = include_str!("golden/sweep_tflm.txt");

/// Which kernels this build runs (the engine's cfg is not visible here; the variable is).
fn kernels() -> &'static str {
    match option_env!("MOTE_DSP_EMULATE") {
        Some(v) if !v.is_empty() && v != "0" => "DSP strategies, emulated (MOTE_DSP_EMULATE=1)",
        _ => "portable",
    }
}

/// `(index, rest of the line)` of `INDEX HASH` lines, skipping `#` comments.
fn parse(text: &str) -> Vec<(u32, &str)> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(|l| {
            let (i, h) = l
                .split_once(' ')
                .unwrap_or_else(|| panic!("bad line {l:?}"));
            (
                i.parse().unwrap_or_else(|_| panic!("bad index in {l:?}")),
                h,
            )
        })
        .collect()
}

/// Runs each listed case and returns the mismatches, described.
fn compare(expected: &[(u32, &str)]) -> Vec<String> {
    let mut model = vec![0u8; MODEL_BYTES];
    let mut arena = vec![0u8; ARENA_BYTES];
    let mut bad = Vec::new();
    for &(i, want) in expected {
        let c = case(i);
        let got = match run(&c, &mut model, &mut arena) {
            Ok(h) => format!("{h:08x}"),
            Err(e) => format!("E {e}"),
        };
        if got != want || got.starts_with("E ") {
            bad.push(format!("{c}\n  expected {want}, got {got}"));
        }
    }
    bad
}

fn report(what: &str, compared: usize, bad: &[String]) {
    assert!(compared > 0, "{what}: no cases compared");
    if !bad.is_empty() {
        for b in bad.iter().take(20) {
            eprintln!("MISMATCH {b}");
        }
        panic!(
            "{what}: {} of {compared} cases differ ({} kernels)",
            bad.len(),
            kernels()
        );
    }
    eprintln!("{what}: {compared} cases equal ({} kernels)", kernels());
}

#[test]
fn every_case_matches_the_committed_hashes() {
    let expected = parse(HASHES);
    assert_eq!(
        expected.len(),
        SWEEP_CASES as usize,
        "sweep_hashes.txt has {} cases, the sweep {SWEEP_CASES}: regenerate it",
        expected.len()
    );
    for (k, &(i, _)) in expected.iter().enumerate() {
        assert_eq!(i as usize, k, "sweep_hashes.txt out of order at line {k}");
    }
    report("sweep", expected.len(), &compare(&expected));
}

#[test]
fn tflm_subset_matches_the_oracle() {
    let expected = parse(TFLM);
    assert!(
        expected.len() >= 300,
        "golden/sweep_tflm.txt has only {} cases",
        expected.len()
    );
    report("TFLM subset", expected.len(), &compare(&expected));
}

/// The sweep covers the in-place path (ops::common::in_place): every CONV_2D and
/// DEPTHWISE_CONV_2D case is planned as `Interpreter::new` plans it, and where the output is
/// larger than the input the planner overlaps them, so those cases' hashes (here, and on the
/// chip in `scripts/firmware-test.sh`) are of the kernels run in place.
#[test]
fn conv_cases_run_in_place() {
    use mote_engine::interpreter::Operand;
    use mote_engine::{Interpreter, Model};
    use mote_testgen::{write_model, OpKind};
    let mut model_buf = vec![0u8; MODEL_BYTES];
    let mut arena = vec![0u8; ARENA_BYTES];
    let (mut convs, mut in_place) = (0, 0);
    for i in 0..SWEEP_CASES {
        let c = case(i);
        if !matches!(c.op, OpKind::Conv | OpKind::Depthwise) {
            continue;
        }
        convs += 1;
        let Some(n) = write_model(&c, &mut model_buf) else {
            continue;
        };
        let model = Model::parse(&model_buf[..n]).unwrap();
        let Ok(interp) = Interpreter::new(&model, &mut arena, &mut []) else {
            continue;
        };
        let p = interp.prepared_op(0, interp.operator_count(0) - 1).unwrap();
        if let (Operand::Arena { offset: a, len: n }, Operand::Arena { offset: b, len: m }) =
            (p.inputs[0], p.outputs[0])
        {
            if a < b + m && b < a + n {
                in_place += 1;
            }
        }
    }
    println!("{in_place} of {convs} convolution cases run in place");
    assert!(in_place * 4 >= convs, "{in_place} of {convs}");
}
