//! Links with firmware-template's B-L475E-IOT01A memory layout (96 KB SRAM1, what QEMU maps),
//! and sets `cfg(mote_board)` for the template's `uart.rs`, which `src/main.rs` reuses by path.

use std::env;
use std::fs;
use std::path::PathBuf;

fn main() {
    let out = PathBuf::from(env::var("OUT_DIR").unwrap_or_default());
    println!("cargo:rerun-if-changed=build.rs");
    // The template's B-L475E-IOT01A layout in QEMU (firmware-template/build.rs `layout`).
    let memory = "MEMORY\n{\n  FLASH : ORIGIN = 0x08000000, LENGTH = 1024K\n  RAM   : ORIGIN = 0x20000000, LENGTH = 96K\n}\n";
    if let Err(e) = fs::write(out.join("memory.x"), memory) {
        eprintln!("error: memory.x: {e}");
        std::process::exit(1);
    }
    println!("cargo:rustc-link-search={}", out.display());
    println!("cargo::rustc-check-cfg=cfg(mote_board, values(\"b-l475e-iot01a\", \"nucleo-l476rg\", \"nucleo-l432kc\"))");
    println!("cargo:rustc-cfg=mote_board=\"b-l475e-iot01a\"");
}
