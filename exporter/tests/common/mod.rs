//! Helpers shared by the exporter's integration tests.
#![allow(dead_code)] // each test crate uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The `mote` binary under test (`MOTE_BIN` overrides it, e.g. to run the edge cases against a
/// release build).
pub fn mote() -> Command {
    match std::env::var_os("MOTE_BIN") {
        Some(bin) => Command::new(bin),
        None => Command::new(env!("CARGO_BIN_EXE_mote")),
    }
}

/// A path relative to the repository root.
pub fn repo(rel: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)
}

/// Asserts that a finished `mote` run succeeded, showing its stderr if not.
#[track_caller]
pub fn assert_ok(out: &Output) {
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes a 16-bit PCM WAV of `channels` interleaved channels at `rate` Hz.
pub fn write_wav(path: &Path, channels: u16, rate: u32, samples: impl IntoIterator<Item = i16>) {
    let spec = hound::WavSpec {
        channels,
        sample_rate: rate,
        bits_per_sample: 16,
        sample_format: hound::SampleFormat::Int,
    };
    let mut w = hound::WavWriter::create(path, spec).expect("create wav");
    for s in samples {
        w.write_sample(s).expect("write wav");
    }
    w.finalize().expect("finish wav");
}

/// A wake-word model installed from PyPI by `scripts/fetch-models.sh` (`MOTE_PIP_MODELS`
/// overrides the directory). Missing: a failure under `CI=true`, else `None` with a SKIP line.
pub fn pip_model(name: &str) -> Option<PathBuf> {
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
