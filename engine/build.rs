//! Build-time configuration of the engine, from the target and two environment variables:
//!
//! - `cfg(mote_dsp)` when compiling for a Cortex-M core with the DSP extension (`thumbv7em-*`:
//!   Cortex-M4/M7), so the int8 kernels use SXTB16/SMLAD. Stable Rust does not expose
//!   `target_feature = "dsp"` to `cfg`, hence the target-name test. `MOTE_NO_DSP=1` forces the
//!   portable kernels (to compare both paths on the same device).
//! - `MOTE_DSP_EMULATE=1` on any other target sets `cfg(mote_dsp)` without `cfg(mote_dsp_asm)`:
//!   the DSP strategies of every kernel are compiled for the host with bit-exact emulations of
//!   SXTB16/SMLAD, so the host's unit and golden tests check their logic (the device checks in
//!   QEMU then check the real instructions). `cfg(mote_dsp_asm)` marks the inline assembly.
//! - `MOTE_OPS=CONV_2D,FULLY_CONNECTED,...` (builtin names, as `mote inspect` prints them) links
//!   only those operators' kernels: the others are rejected at prepare time as unsupported, and
//!   their code is left out of the firmware (like TFLM's op resolver). Unset: every operator.
//! - `MOTE_WINDOW_BYTES`, `MOTE_DETECTOR_LABELS`, `MOTE_DETECTOR_ROWS` size the pipeline's
//!   feature window and detector history to one model (the exporter writes the model's), below
//!   the maxima `detector.rs` allows; configurations beyond them are then `LimitExceeded`.
//! - `MOTE_NO_MFCC=1` sets `cfg(mote_no_mfcc)`: the pipeline runs only the log-mel front end
//!   (an MFCC configuration is an error), so a keyword model's firmware links no MFCC code.

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mote_dsp)");
    println!("cargo::rustc-check-cfg=cfg(mote_dsp_asm)");
    println!("cargo::rustc-check-cfg=cfg(mote_ops_selected)");
    println!("cargo::rustc-check-cfg=cfg(mote_op, values(any()))");
    println!("cargo::rustc-check-cfg=cfg(mote_no_mfcc)");
    // Storage sized to one model (src/detector.rs reads them with `env!`; empty: the maxima).
    for var in [
        "MOTE_WINDOW_BYTES",
        "MOTE_DETECTOR_LABELS",
        "MOTE_DETECTOR_ROWS",
    ] {
        println!("cargo:rerun-if-env-changed={var}");
        let v = std::env::var(var).unwrap_or_default();
        println!("cargo:rustc-env={var}={}", v.trim());
    }
    println!("cargo:rerun-if-env-changed=MOTE_NO_MFCC");
    if std::env::var("MOTE_NO_MFCC").is_ok_and(|v| !v.is_empty() && v != "0") {
        println!("cargo:rustc-cfg=mote_no_mfcc");
    }
    println!("cargo:rerun-if-env-changed=MOTE_NO_DSP");
    println!("cargo:rerun-if-env-changed=MOTE_OPS");
    println!("cargo:rerun-if-env-changed=MOTE_DSP_EMULATE");

    let target = std::env::var("TARGET").unwrap_or_default();
    let forced_off = std::env::var("MOTE_NO_DSP").is_ok_and(|v| !v.is_empty() && v != "0");
    let emulate = std::env::var("MOTE_DSP_EMULATE").is_ok_and(|v| !v.is_empty() && v != "0");
    if target.starts_with("thumbv7em") && !forced_off {
        println!("cargo:rustc-cfg=mote_dsp");
        println!("cargo:rustc-cfg=mote_dsp_asm");
    } else if emulate && !forced_off {
        println!("cargo:rustc-cfg=mote_dsp");
    }

    if let Ok(ops) = std::env::var("MOTE_OPS") {
        let ops: Vec<String> = ops
            .split([',', ' '])
            .map(|o| o.trim().to_ascii_uppercase())
            .filter(|o| !o.is_empty())
            .collect();
        if !ops.is_empty() {
            println!("cargo:rustc-cfg=mote_ops_selected");
            for op in ops {
                if !op.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
                    println!(
                        "cargo:warning=MOTE_OPS: ignoring {op:?} (not a builtin operator name)"
                    );
                    continue;
                }
                println!("cargo:rustc-cfg=mote_op=\"{op}\"");
            }
        }
    }
}
