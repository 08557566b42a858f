//! `mote export --bin`: the prebuilt runtime + model slot as one raw image for the board's
//! ST-LINK USB drive (the library's [`mote_exporter::export::bin`], which the playground runs
//! in wasm: the same bytes).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use mote_exporter::export::bin::{self, BinRequest};

use crate::files::{self, AtomicOut};

/// What `mote export --bin` was given.
pub struct BinArgs<'a> {
    pub model: &'a Path,
    pub sidecar: Option<&'a Path>,
    pub board: &'a str,
    pub runtime: Option<&'a Path>,
    pub replay: Option<&'a Path>,
    pub output: &'a Path,
    pub json: bool,
}

/// Largest runtime image read (the biggest board's flash).
const RUNTIME_CAP: u64 = 1 << 20;

/// Where the runtime for `board` is by default: `$MOTE_RUNTIME_DIR/<board>.bin`, else
/// `runtimes/<board>.bin` in the target directory this `mote` was built into.
fn default_runtime(board: &str) -> Option<PathBuf> {
    let dir = match std::env::var_os("MOTE_RUNTIME_DIR") {
        Some(d) => PathBuf::from(d),
        // target/<profile>/mote → target/runtimes
        None => std::env::current_exe()
            .ok()?
            .parent()?
            .parent()?
            .join("runtimes"),
    };
    Some(dir.join(format!("{board}.bin")))
}

/// Runs `mote export --bin`.
pub fn run(a: &BinArgs<'_>) -> Result<()> {
    let board = mote_exporter::export::board::find(a.board).with_context(|| {
        format!(
            "unknown board {:?}: supported boards are {}",
            a.board,
            mote_exporter::export::board::ids()
        )
    })?;
    let runtime_path = match a.runtime {
        Some(p) => p.to_path_buf(),
        None => default_runtime(board.id).context("cannot find the runtime directory")?,
    };
    let runtime = files::read_capped(&runtime_path, RUNTIME_CAP, "runtime image").with_context(
        || {
            format!(
                "no runtime for {} (build them with `bash scripts/build-runtimes.sh`, or pass --runtime)",
                board.id
            )
        },
    )?;
    let model = files::read_model(a.model)?;
    let sidecar_path = a
        .sidecar
        .map(Path::to_path_buf)
        .or_else(|| mote_exporter::sidecar::beside(a.model));
    let sidecar = match &sidecar_path {
        Some(p) => Some(files::read_text(p, files::SIDECAR_CAP, "sidecar")?),
        None => None,
    };
    let replay = match a.replay {
        Some(p) => Some(files::read_capped(p, files::REPLAY_CAP, "replay WAV")?),
        None => None,
    };
    let mut out = AtomicOut::create(a.output)?;
    let r = bin::export_bin(&BinRequest {
        model: &model,
        sidecar: sidecar.as_deref(),
        board: board.id,
        runtime: &runtime,
        replay: replay.as_deref(),
    })
    .with_context(|| format!("{}", a.model.display()))?;
    for w in &r.warnings {
        eprintln!("warning: replay WAV: {w}");
    }
    out.write_all(&r.bin)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    out.commit()?;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&r)?);
    } else {
        let f = &r.fit;
        eprintln!(
            "export: wrote {} ({} bytes): runtime {} / {} B, model slot {} / {} B, arena + state {} / {} B on {}",
            a.output.display(),
            r.bin.len(),
            f.runtime_bytes,
            f.runtime_max,
            f.slot_bytes,
            f.slot_max,
            f.model_memory_needed,
            f.model_memory,
            f.board_name
        );
        eprintln!(
            "Copy it to the board's USB drive ({}); the board flashes it and restarts. Its log: 115200 baud on the ST-LINK serial port.",
            r.drive
        );
        if a.replay.is_some() {
            eprintln!("warning: --replay: test image for QEMU (exits through semihosting); do not flash it");
        }
    }
    Ok(())
}
