//! Helpers shared by the exporter's integration tests.

use std::path::{Path, PathBuf};

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
