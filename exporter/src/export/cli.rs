//! `mote export`: arguments, progress on stderr, and an all-or-nothing write of the zip.
//! (A module of the `mote` binary, not of the library: it needs clap and the file system.)

use std::io::Write as _;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context, Result};
use clap::Args;
use mote_exporter::detect::SetupError;
use mote_exporter::export::{self, board, zip, Request, Step};

use crate::files::{self, AtomicOut};

/// `mote export` arguments.
#[derive(Args)]
pub struct ExportArgs {
    /// The .tflite model.
    model: PathBuf,
    /// The model's sidecar JSON (microWakeWord .json: probability_cutoff, sliding_window_size;
    /// optional "labels" for command models). Default: MODEL.json beside the model, if it
    /// exists (as `mote detect` does).
    #[arg(long, value_name = "JSON")]
    json_sidecar: Option<PathBuf>,
    /// Target board: b-l475e-iot01a, nucleo-l476rg or nucleo-l432kc.
    #[arg(long, value_name = "BOARD")]
    board: String,
    /// Replay this WAV from flash instead of listening to the microphone (any rate the
    /// resampler converts to 16 kHz); the firmware prints JSON lines and exits.
    #[arg(long, value_name = "WAV")]
    replay: Option<PathBuf>,
    /// Where to write the zip (with --bin: the .bin). Its files are dated now, so a project
    /// unzipped over an earlier one rebuilds; set SOURCE_DATE_EPOCH (seconds since 1970) for
    /// the same zip bytes on every run.
    #[arg(short, long, value_name = "ZIP")]
    output: PathBuf,
    /// Export even if the firmware is estimated not to fit the board.
    #[arg(long)]
    force: bool,
    /// Print the export summary as JSON on stdout.
    #[arg(long)]
    json: bool,
    /// Write a .bin for the board's ST-LINK USB drive instead of a project: the prebuilt
    /// runtime firmware followed by the model slot (no toolchain needed to flash it; drop the
    /// file on the drive). With --replay the WAV goes in a test-only replay slot (QEMU).
    #[arg(long)]
    bin: bool,
    /// The runtime image for --bin. Default: $MOTE_RUNTIME_DIR/<board>.bin, else
    /// runtimes/<board>.bin in the cargo target directory (scripts/build-runtimes.sh).
    #[arg(long, value_name = "BIN", requires = "bin")]
    runtime: Option<PathBuf>,
    /// Interpret the model on the chip (flatbuffer, planner and kernel dispatch in the
    /// firmware) instead of compiling it ahead of time into Rust (the default: smaller and
    /// faster, same results).
    #[arg(long)]
    interpreter: bool,
    /// For a model that is not a keyword model: raw bytes of one invocation's inputs (as
    /// `mote infer --input` reads them), baked into flash; the firmware runs the model on them
    /// and prints the outputs. Default: zeros.
    #[arg(long, value_name = "FILE")]
    input: Option<PathBuf>,
}

/// Runs `mote export`.
pub fn run(a: &ExportArgs) -> Result<()> {
    // Cheap checks first, so a typo costs nothing.
    if board::find(&a.board).is_none() {
        bail!(
            "unknown board {:?}: supported boards are {}",
            a.board,
            board::ids()
        );
    }
    if a.bin {
        return crate::bin_cmd::run(&crate::bin_cmd::BinArgs {
            model: &a.model,
            sidecar: a.json_sidecar.as_deref(),
            board: &a.board,
            runtime: a.runtime.as_deref(),
            replay: a.replay.as_deref(),
            output: &a.output,
            json: a.json,
        });
    }
    let model = files::read_model(&a.model)?;
    let sidecar_path = a.json_sidecar.clone().or_else(|| {
        let p = mote_exporter::sidecar::beside(&a.model)?;
        eprintln!("export: using the sidecar {}", p.display());
        Some(p)
    });
    let sidecar = match &sidecar_path {
        Some(p) => Some(files::read_text(p, files::SIDECAR_CAP, "sidecar")?),
        None => None,
    };
    let replay = match &a.replay {
        Some(p) => Some(files::read_capped(p, files::REPLAY_CAP, "replay WAV")?),
        None => None,
    };
    let input = match &a.input {
        Some(p) => Some(files::read_capped(p, files::RAW_INPUT_CAP, "input")?),
        None => None,
    };
    let name = a
        .model
        .file_stem()
        .and_then(|s| s.to_str())
        .map(export::sanitize_name)
        .unwrap_or_else(|| "model".into());
    let stamp = zip_stamp()?;
    // Claim the output before the work: an unwritable path fails now, and nothing but a
    // complete zip ever appears under the final name.
    let mut out = AtomicOut::create(&a.output)?;

    let req = Request {
        model: &model,
        name: &name,
        sidecar: sidecar.as_deref(),
        board: &a.board,
        replay: replay.as_deref(),
        force: a.force,
        interpreter: a.interpreter,
        input: input.as_deref(),
        stamp,
    };
    let mut progress = |s: Step| eprintln!("export: {s}...");
    let result = export::export(&req, &mut progress).map_err(|e| match &e {
        export::ExportError::Wav(_) => anyhow::anyhow!(
            "{}: {e}",
            a.replay.as_deref().unwrap_or(Path::new("")).display()
        ),
        export::ExportError::Sidecar(_) => anyhow::anyhow!(
            "{}: {e}",
            sidecar_path.as_deref().unwrap_or(Path::new("")).display()
        ),
        export::ExportError::Settings(s)
            if sidecar_path.is_some() && !matches!(s, SetupError::NotAudioModel(_)) =>
        {
            anyhow::anyhow!(
                "{}: {e}",
                sidecar_path.as_deref().unwrap_or(Path::new("")).display()
            )
        }
        export::ExportError::Input(_) => anyhow::anyhow!(
            "{}: {e}",
            a.input.as_deref().unwrap_or(Path::new("")).display()
        ),
        export::ExportError::Model(m) => anyhow::anyhow!(
            "{}: the model cannot run on mote-engine: {}",
            a.model.display(),
            mote_exporter::report::explain(&model, m)
        ),
        _ => anyhow::anyhow!("{}: {e}", a.model.display()),
    })?;
    if !result.fit.fits() {
        for line in result.fit.overflows() {
            eprintln!("warning (--force): {line}");
        }
    }
    for w in &result.warnings {
        eprintln!(
            "warning: {}: {w}",
            a.replay.as_deref().unwrap_or(Path::new("")).display()
        );
    }
    out.write_all(&result.zip)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    out.commit()?;
    let f = &result.fit;
    if a.json {
        println!("{}", serde_json::to_string_pretty(&result)?);
    } else {
        eprintln!(
            "export: wrote {} ({} bytes, {} files in {}/): flash {} / {} B, RAM {} / {} B on {}",
            a.output.display(),
            result.zip.len(),
            result.files.len(),
            result.dir,
            f.flash_total(),
            f.flash_limit,
            f.ram_total(),
            f.ram_limit,
            f.board_name
        );
    }
    Ok(())
}

/// The zip entries' time: `SOURCE_DATE_EPOCH` (reproducible-builds.org: seconds since 1970,
/// shown in UTC) when set, else now in the local time zone.
fn zip_stamp() -> Result<zip::Stamp> {
    match std::env::var("SOURCE_DATE_EPOCH") {
        Ok(v) => match v.trim().parse::<i64>() {
            Ok(secs) => Ok(zip::Stamp::new(secs, 0)),
            Err(_) => bail!(
                "SOURCE_DATE_EPOCH={v:?} is not a whole number of seconds since 1970 \
                 (unset it to date the zip's files now)"
            ),
        },
        Err(std::env::VarError::NotUnicode(v)) => {
            bail!("SOURCE_DATE_EPOCH={v:?} is not a whole number of seconds since 1970")
        }
        Err(std::env::VarError::NotPresent) => {
            let now = chrono::Local::now();
            Ok(zip::Stamp::new(
                now.timestamp(),
                now.offset().local_minus_utc(),
            ))
        }
    }
}
