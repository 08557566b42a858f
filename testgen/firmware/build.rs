//! Links with firmware-template's B-L475E-IOT01A memory layout (96 KB SRAM1, what QEMU maps),
//! and sets `cfg(mote_board)` for the template's `uart.rs`, which `src/main.rs` reuses by path.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let manifest = PathBuf::from(env::var("CARGO_MANIFEST_DIR").unwrap_or_default());
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    let memory = manifest.join("../../firmware-template/memory/b-l475e-iot01a.x");
    println!("cargo:rerun-if-changed={}", memory.display());
    println!("cargo:rerun-if-changed=build.rs");
    if let Err(e) = fs::copy(&memory, out.join("memory.x")) {
        eprintln!("error: {}: {e}", memory.display());
        std::process::exit(1);
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo::rustc-check-cfg=cfg(mote_board, values(\"b-l475e-iot01a\", \"nucleo-l476rg\", \"nucleo-l432kc\"))");
    println!("cargo:rustc-cfg=mote_board=\"b-l475e-iot01a\"");
}
