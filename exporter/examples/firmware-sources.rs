//! Writes the packed firmware sources (`project::SOURCES_FILE`) into a directory: the page's
//! build (a trunk post-build hook, `Trunk.toml`) serves them instead of embedding them in its
//! wasm. The directory is the first argument, else `$TRUNK_STAGING_DIR`.

use std::path::PathBuf;

use mote_exporter::export::project;

fn main() {
    let dir = std::env::args_os()
        .nth(1)
        .or_else(|| std::env::var_os("TRUNK_STAGING_DIR"))
        .map(PathBuf::from);
    let Some(dir) = dir else {
        eprintln!("usage: firmware-sources DIR (or set TRUNK_STAGING_DIR)");
        std::process::exit(2);
    };
    let path = dir.join(project::SOURCES_FILE);
    if let Err(e) = std::fs::write(&path, project::packed_sources()) {
        eprintln!("error: cannot write {}: {e}", path.display());
        std::process::exit(1);
    }
}
