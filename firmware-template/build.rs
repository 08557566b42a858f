//! Build script: picks the board's `memory.x` (from the `board-*` Cargo feature), and writes
//! `build_config.rs` for `src/main.rs`: mode, model, arena and state sizes, replay audio.
//!
//! The settings come from `mote/config.rs`, which `mote export` generates (the repo's template
//! carries one for its default model). Environment variables override them, for measurements
//! (`scripts/m4bench.sh` uses them):
//!
//! | variable           | meaning                                                  | default |
//! |--------------------|----------------------------------------------------------|---------|
//! | `MOTE_MODE`        | `mic`, `replay`, `bench` or `pdm` (decimator check/cost)  | `MODE` in `mote/config.rs` |
//! | `MOTE_MODEL`       | path of the `.tflite` to embed                            | `mote/model.tflite` |
//! | `MOTE_ARENA_BYTES` | tensor arena bytes (`16384`, `16K`, `16KiB`)              | `ARENA_BYTES` in `mote/config.rs` |
//! | `MOTE_STATE_BYTES` | variable-state bytes                                     | `STATE_BYTES` in `mote/config.rs` |
//! | `MOTE_BOARD`       | must agree with the `board-*` feature if set              | — |
//! | `MOTE_INPUT`       | bench: raw bytes for input tensor 0                       | a fixed pattern |
//! | `MOTE_BENCH_RUNS`  | bench: invocations                                        | 3 |
//! | `MOTE_BENCH_PER_OP`| bench: `1` adds one invocation with markers around each operator | off |

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};

const BOARDS: [&str; 3] = ["b-l475e-iot01a", "nucleo-l476rg", "nucleo-l432kc"];
const MODES: [&str; 5] = ["mic", "replay", "bench", "pdm", "infer"];
/// Bench mode: stack reserve. Measured peak (`bench_done`'s `stack_bytes`, painted stack, QEMU,
/// opt-level 3): 9.6 KB for the DS-CNN, MobileNet v1 0.25 and str-ww shaped models
/// (`scripts/device-models.sh`); rounded up.
const BENCH_STACK_BYTES: u64 = 12 * 1024;
/// Bench mode: statics besides the arena and state (log and singleton flags; measured 56 B).
const BENCH_STATIC_BYTES: u64 = 1024;

fn main() {
    if let Err(msg) = run() {
        eprintln!("error: {msg}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").map_err(|e| e.to_string())?);
    let out = PathBuf::from(env::var("OUT_DIR").map_err(|e| e.to_string())?);
    for var in [
        "MOTE_BOARD",
        "MOTE_MODEL",
        "MOTE_ARENA_BYTES",
        "MOTE_STATE_BYTES",
        "MOTE_INPUT",
        "MOTE_BENCH_RUNS",
        "MOTE_BENCH_PER_OP",
        "MOTE_MODE",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
    }
    println!("cargo:rerun-if-changed=build.rs");
    let mote = manifest.join("mote");
    let config_path = mote.join("config.rs");
    println!("cargo:rerun-if-changed={}", config_path.display());
    let config = fs::read_to_string(&config_path).map_err(|e| {
        format!(
            "{}: {e} (generate the project with `mote export`)",
            config_path.display()
        )
    })?;

    let board = board()?;
    let mode = match env::var("MOTE_MODE") {
        Ok(m) => m,
        Err(_) => const_str(&config, "MODE")?,
    };
    if !MODES.contains(&mode.as_str()) {
        return Err(format!("mode {mode:?}: expected one of {MODES:?}"));
    }

    // Board → memory.x (cortex-m-rt's link.x INCLUDEs it from the linker search path).
    let memory = manifest.join("memory").join(format!("{board}.x"));
    println!("cargo:rerun-if-changed={}", memory.display());
    let mut layout =
        fs::read_to_string(&memory).map_err(|e| format!("{}: {e}", memory.display()))?;
    if mode == "mic" && board != "nucleo-l432kc" {
        // On the chip, SRAM2 is aliased at 0x2001_8000, right after the 96 KB of SRAM1, so the
        // firmware can use 128 KB as one block. QEMU maps SRAM2 only at 0x1000_0000: replay and
        // bench (the modes QEMU runs) keep 96 KB.
        const SRAM1: &str = "RAM   : ORIGIN = 0x20000000, LENGTH = 96K";
        if !layout.contains(SRAM1) {
            return Err(format!("{}: expected the line `{SRAM1}`", memory.display()));
        }
        layout = layout.replacen(
            SRAM1,
            "RAM   : ORIGIN = 0x20000000, LENGTH = 128K /* SRAM1 + SRAM2 alias */",
            1,
        );
    }
    fs::write(out.join("memory.x"), &layout).map_err(|e| e.to_string())?;
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo::rustc-check-cfg=cfg(mote_board, values(\"b-l475e-iot01a\", \"nucleo-l476rg\", \"nucleo-l432kc\"))");
    println!("cargo:rustc-cfg=mote_board=\"{board}\"");

    println!(
        "cargo::rustc-check-cfg=cfg(mote_mode, values(\"mic\", \"replay\", \"bench\", \"pdm\", \"infer\"))"
    );
    println!("cargo:rustc-cfg=mote_mode=\"{mode}\"");

    let model = match env::var_os("MOTE_MODEL") {
        Some(p) => PathBuf::from(p),
        None => mote.join("model.tflite"),
    };
    let model = fs::canonicalize(&model).map_err(|e| format!("model {}: {e}", model.display()))?;
    println!("cargo:rerun-if-changed={}", model.display());
    let model_len = fs::metadata(&model)
        .map_err(|e| format!("{}: {e}", model.display()))?
        .len();

    let arena = match size_var("MOTE_ARENA_BYTES")? {
        Some(n) => n,
        None => const_int(&config, "ARENA_BYTES")?,
    };
    let state = match size_var("MOTE_STATE_BYTES")? {
        Some(n) => n,
        None => const_int(&config, "STATE_BYTES")?,
    };
    if mode == "bench" || mode == "infer" {
        // Refused here rather than found as a HardFault at run time: flip-link puts the stack
        // below the statics, so a stack that does not fit faults on its first overflowing push.
        let ram = ram_bytes(&layout).ok_or_else(|| {
            format!(
                "{}: no `RAM : ORIGIN = .., LENGTH = ..` line",
                memory.display()
            )
        })?;
        let need = arena + state + BENCH_STATIC_BYTES + BENCH_STACK_BYTES;
        if need > ram {
            return Err(format!(
                "{mode} firmware does not fit in RAM: arena {arena} B + state {state} B + statics \
                 {BENCH_STATIC_BYTES} B + stack reserve {BENCH_STACK_BYTES} B = {need} B > {ram} B \
                 on {board}; the arena can be at most {} B (lower MOTE_ARENA_BYTES / \
                 MOTE_STATE_BYTES, or use a smaller model)",
                ram.saturating_sub(state + BENCH_STATIC_BYTES + BENCH_STACK_BYTES)
            ));
        }
    }
    let runs = size_var("MOTE_BENCH_RUNS")?.unwrap_or(3);
    if runs == 0 {
        return Err("MOTE_BENCH_RUNS must be at least 1".into());
    }
    let per_op = env::var("MOTE_BENCH_PER_OP").is_ok_and(|v| v == "1");
    let input = match env::var_os("MOTE_INPUT") {
        Some(p) => {
            let p = fs::canonicalize(&p)
                .map_err(|e| format!("MOTE_INPUT={}: {e}", Path::new(&p).display()))?;
            println!("cargo:rerun-if-changed={}", p.display());
            Some(p)
        }
        // Infer mode (`mote export` of a model that is not a keyword model): its baked input.
        None if mode == "infer" && mote.join("input.bin").is_file() => {
            let p = mote.join("input.bin");
            println!("cargo:rerun-if-changed={}", p.display());
            Some(p)
        }
        None => None,
    };
    let replay = mote.join("replay.pcm");
    if mode == "replay" {
        println!("cargo:rerun-if-changed={}", replay.display());
        if !replay.is_file() {
            return Err(format!(
                "replay mode needs {} (export with `mote export ... --replay WAV`)",
                replay.display()
            ));
        }
    }

    let mut cfg = String::new();
    // `writeln!` into a String cannot fail.
    let w = &mut cfg;
    let _ = writeln!(
        w,
        "// @generated by build.rs from mote/config.rs and MOTE_* variables; do not edit."
    );
    let _ = writeln!(w, "/// Board this image was linked for.");
    let _ = writeln!(w, "pub const BOARD: &str = {board:?};");
    let _ = writeln!(w, "/// Audio source / program: mic, replay or bench.");
    let _ = writeln!(w, "pub const MODE: &str = {mode:?};");
    let _ = writeln!(w, "/// Bytes of the tensor arena.");
    let _ = writeln!(w, "pub const ARENA_BYTES: usize = {arena};");
    let _ = writeln!(w, "/// Bytes of persistent variable state.");
    let _ = writeln!(w, "pub const STATE_BYTES: usize = {state};");
    let _ = writeln!(w, "/// Invocations in bench mode.");
    let _ = writeln!(w, "pub const BENCH_RUNS: u32 = {runs};");
    let _ = writeln!(
        w,
        "/// Bench mode: one more invocation with markers around each operator."
    );
    let _ = writeln!(w, "pub const BENCH_PER_OP: bool = {per_op};");
    let _ = writeln!(w, "/// Bytes of the embedded model.");
    let _ = writeln!(w, "pub const MODEL_LEN: usize = {model_len};");
    let _ = writeln!(
        w,
        "/// The embedded .tflite model, 16-byte aligned like TFLM requires of a model buffer."
    );
    let _ = writeln!(
        w,
        "pub static MODEL: &crate::Aligned<[u8; MODEL_LEN]> = &crate::Aligned(*include_bytes!({:?}));",
        path_str(&model)?
    );
    let _ = writeln!(
        w,
        "/// Bench mode: raw bytes for input tensor 0 (`None`: a fixed pattern)."
    );
    match &input {
        Some(p) => {
            let _ = writeln!(
                w,
                "pub const INPUT: Option<&[u8]> = Some(include_bytes!({:?}));",
                path_str(p)?
            );
        }
        None => {
            let _ = writeln!(w, "pub const INPUT: Option<&[u8]> = None;");
        }
    }
    let _ = writeln!(
        w,
        "/// Replay mode: 16 kHz mono int16 little-endian samples."
    );
    if mode == "replay" {
        let _ = writeln!(
            w,
            "pub static REPLAY: &[u8] = include_bytes!({:?});",
            path_str(&replay)?
        );
    } else {
        let _ = writeln!(w, "pub static REPLAY: &[u8] = &[];");
    }
    fs::write(out.join("build_config.rs"), cfg).map_err(|e| e.to_string())?;
    Ok(())
}

/// The single enabled `board-*` feature (checked against `MOTE_BOARD` if that is set).
fn board() -> Result<String, String> {
    let enabled: Vec<&str> = BOARDS
        .iter()
        .copied()
        .filter(|b| {
            let feat = format!(
                "CARGO_FEATURE_BOARD_{}",
                b.to_ascii_uppercase().replace('-', "_")
            );
            env::var_os(feat).is_some()
        })
        .collect();
    let board = match enabled.as_slice() {
        [one] => (*one).to_string(),
        [] => {
            return Err(format!(
                "no board feature: build with --features board-<name>, one of {BOARDS:?}"
            ))
        }
        many => {
            return Err(format!(
                "several board features enabled ({many:?}): use --no-default-features --features board-<name>"
            ))
        }
    };
    if let Ok(b) = env::var("MOTE_BOARD") {
        if b.to_ascii_lowercase() != board {
            return Err(format!(
                "MOTE_BOARD={b} but the enabled feature is board-{board}: use --no-default-features --features board-{b}"
            ));
        }
    }
    Ok(board)
}

/// The value of `pub const NAME: ... = VALUE;` in the generated config.
fn const_value<'a>(config: &'a str, name: &str) -> Result<&'a str, String> {
    let prefix = format!("pub const {name}:");
    config
        .lines()
        .find_map(|l| l.trim().strip_prefix(&prefix))
        .and_then(|rest| rest.split_once('='))
        .map(|(_, v)| v.trim().trim_end_matches(';').trim())
        .ok_or_else(|| {
            format!("mote/config.rs has no `pub const {name}` (export the project again)")
        })
}

fn const_int(config: &str, name: &str) -> Result<u64, String> {
    let v = const_value(config, name)?;
    v.replace('_', "")
        .parse()
        .map_err(|_| format!("mote/config.rs: {name} = {v} is not an integer"))
}

fn const_str(config: &str, name: &str) -> Result<String, String> {
    let v = const_value(config, name)?;
    v.strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .map(str::to_string)
        .ok_or_else(|| format!("mote/config.rs: {name} = {v} is not a string"))
}

/// Bytes of the `RAM` region of a `memory.x` (`LENGTH = 96K` or a plain byte count).
fn ram_bytes(layout: &str) -> Option<u64> {
    let line = layout.lines().find(|l| l.trim_start().starts_with("RAM"))?;
    let len = line
        .split("LENGTH")
        .nth(1)?
        .trim_start()
        .strip_prefix('=')?
        .trim();
    let len = len.split(|c: char| c.is_whitespace() || c == '/').next()?;
    match len.strip_suffix('K') {
        Some(k) => k.parse::<u64>().ok()?.checked_mul(1024),
        None => len.parse().ok(),
    }
}

/// A byte count from the environment: decimal, optionally suffixed `K`/`KiB` (×1024).
fn size_var(name: &str) -> Result<Option<u64>, String> {
    let Ok(v) = env::var(name) else {
        return Ok(None);
    };
    let t = v.trim();
    let (digits, scale) = if let Some(d) = t.strip_suffix("KiB").or_else(|| t.strip_suffix('K')) {
        (d, 1024)
    } else {
        (t, 1)
    };
    digits
        .trim()
        .parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(scale))
        .map(Some)
        .ok_or_else(|| format!("{name}={v}: expected a byte count like 16384 or 16K"))
}

fn path_str(p: &Path) -> Result<&str, String> {
    p.to_str()
        .ok_or_else(|| format!("{}: path is not UTF-8", p.display()))
}
