//! `mote compile`: the ahead-of-time code for any model, into a directory (what `mote export`
//! puts in `mote/aot/`), e.g. to build the firmware's bench mode for a model that is not an
//! audio model (`MOTE_AOT_DIR`; `scripts/device-models.sh`).
//! (A module of the `mote` binary: it needs clap and the file system.)

use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::Args;
use mote_exporter::export::aot;

/// `mote compile` arguments.
#[derive(Args)]
pub struct CompileArgs {
    /// The .tflite model.
    model: PathBuf,
    /// Directory to write `model.rs` and `weights.bin` into (created if missing).
    #[arg(short, long, value_name = "DIR")]
    output: PathBuf,
}

/// Runs `mote compile`.
pub fn run(a: &CompileArgs) -> Result<()> {
    let model = crate::files::read_model(&a.model)?;
    let g = aot::generate(&model).with_context(|| format!("{}", a.model.display()))?;
    std::fs::create_dir_all(&a.output)
        .with_context(|| format!("creating {}", a.output.display()))?;
    for (name, data) in [
        ("model.rs", g.model_rs.as_bytes()),
        ("weights.bin", &g.weights),
    ] {
        let p = a.output.join(name);
        std::fs::write(&p, data).with_context(|| format!("writing {}", p.display()))?;
    }
    eprintln!(
        "compile: {} kernels, arena {} B, state {} B, weights {} B -> {}",
        g.kernels,
        g.arena_bytes,
        g.state_bytes,
        g.weights.len(),
        a.output.display()
    );
    Ok(())
}
