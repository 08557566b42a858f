//! Sets `cfg(mote_dsp)` when compiling for a Cortex-M core with the DSP extension
//! (`thumbv7em-*`: Cortex-M4/M7), so the int8 kernels use SXTB16/SMLAD. Stable Rust does not
//! expose `target_feature = "dsp"` to `cfg`, hence the target-name test.
//! `MOTE_NO_DSP=1` forces the portable kernels (to compare both paths on the same device).

fn main() {
    println!("cargo::rustc-check-cfg=cfg(mote_dsp)");
    println!("cargo:rerun-if-env-changed=MOTE_NO_DSP");
    let target = std::env::var("TARGET").unwrap_or_default();
    let forced_off = std::env::var("MOTE_NO_DSP").is_ok_and(|v| !v.is_empty() && v != "0");
    if target.starts_with("thumbv7em") && !forced_off {
        println!("cargo:rustc-cfg=mote_dsp");
    }
}
