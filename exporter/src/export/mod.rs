//! `mote export`: a model → a self-contained, deterministic firmware project (a ZIP) for an
//! STM32L4 board, which builds with `cargo build --release` and flashes with `cargo run --release`.
//!
//! The zip holds one directory, `<model>-<board>/`, with:
//! - the firmware template (`firmware-template/` of this repo, embedded at compile time), its
//!   `Cargo.toml` and `.cargo/config.toml` set to the board,
//! - the engine sources (`engine/`, embedded likewise) with a standalone manifest,
//! - `mote/`: what this export generates — `model.tflite`, `config.rs` (`// @generated`: exact
//!   arena and state sizes from the planner, labels, detector thresholds, front-end preset),
//!   `report.md` / `report.json` (flash and RAM breakdown, MACs per layer), and with
//!   `--replay`, `replay.pcm` (the WAV converted to 16 kHz mono int16, the samples the firmware
//!   feeds its pipeline instead of the microphone).
//!
//! Everything here is a pure function of its inputs (no clock, no file system, no hash-map
//! order), so the same inputs give the same bytes, natively and in wasm32 (the playground's
//! Export button calls [`export`] too).

pub mod any;
pub mod aot;
pub mod bin;
pub mod board;
/// `mote/build.json`'s struct, shared with the firmware template's build.rs.
#[path = "../../../firmware-template/build_settings.rs"]
pub mod build_settings;
pub mod config;
pub mod fit;
pub mod project;
pub mod strip;
pub mod wav;
pub mod zip;

use std::fmt;

use mote_engine::Model;
use serde::Serialize;

pub use board::{Board, BOARDS};
pub use fit::Fit;

use crate::report::{self, ModelReport};

/// What to export.
#[derive(Clone, Debug)]
pub struct Request<'a> {
    /// The `.tflite` bytes.
    pub model: &'a [u8],
    /// Name for the project directory and reports (usually the model's file stem).
    pub name: &'a str,
    /// The model's sidecar JSON text (microWakeWord `.json`, optionally with `labels`).
    pub sidecar: Option<&'a str>,
    /// Board id (see [`BOARDS`]).
    pub board: &'a str,
    /// A WAV file to replay from flash instead of listening to the microphone.
    pub replay: Option<&'a [u8]>,
    /// Export even if the estimate says the firmware does not fit the board.
    pub force: bool,
    /// Interpret `mote/model.tflite` on the chip instead of compiling the model ahead of time
    /// (`mote/aot/`, the default).
    pub interpreter: bool,
    /// Infer mode (a model that is not a keyword model): raw bytes of one invocation's inputs,
    /// baked into flash as `mote/input.bin` (`None`: zeros). Ignored for keyword models.
    pub input: Option<&'a [u8]>,
    /// The time every zip entry carries: the export's (see [`zip`] for why not a fixed date);
    /// [`zip::Stamp::FIXED`] or `SOURCE_DATE_EPOCH`'s for byte-reproducible archives.
    pub stamp: zip::Stamp,
}

/// A long step of [`export`], reported before it starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Step {
    /// Parsing and planning the model, checking the audio pipeline accepts it.
    Plan,
    /// Converting the replay WAV to 16 kHz.
    Audio,
    /// Checking the firmware fits the board.
    Fit,
    /// Compressing the project into the zip (`files` entries).
    Compress {
        /// Number of files.
        files: usize,
    },
}

impl fmt::Display for Step {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Step::Plan => f.write_str("planning the model"),
            Step::Audio => f.write_str("converting the replay audio to 16 kHz"),
            Step::Fit => f.write_str("checking the firmware fits the board"),
            Step::Compress { files } => write!(f, "compressing {files} files"),
        }
    }
}

/// Why an export failed. Every variant's message says what to change.
#[derive(Debug)]
pub enum ExportError {
    /// `--board` names no supported board.
    UnknownBoard(String),
    /// The name cannot be used as a directory name.
    BadName(String),
    /// The engine cannot read, plan or run the model (unsupported op, bad file, ...).
    Model(mote_engine::Error),
    /// The sidecar is not JSON in microWakeWord's format.
    Sidecar(crate::sidecar::SidecarError),
    /// The model does not fit the audio pipeline, or the sidecar's values do not fit the model
    /// (the error names the sidecar field).
    Settings(crate::detect::SetupError),
    /// The replay WAV cannot be read or converted to 16 kHz.
    Wav(String),
    /// The firmware would not fit the board (the breakdown says by how much).
    DoesNotFit(Box<Fit>),
    /// The archive would exceed the ZIP format's 4 GiB limits.
    TooLarge,
    /// The `--input` bytes do not fit the model's inputs.
    Input(String),
    /// The firmware sources are neither embedded nor provided (`project::provide_sources`).
    NoSources,
}

impl fmt::Display for ExportError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ExportError::UnknownBoard(b) => {
                write!(
                    f,
                    "unknown board {b:?}: supported boards are {}",
                    board::ids()
                )
            }
            ExportError::BadName(n) => write!(
                f,
                "cannot name the project {n:?}: use letters, digits, '-', '_' or '.'"
            ),
            ExportError::Model(e) => write!(f, "the model cannot run on mote-engine: {e}"),
            ExportError::Sidecar(e) => write!(f, "bad sidecar JSON: {e}"),
            ExportError::Settings(e @ crate::detect::SetupError::NotAudioModel(_)) => {
                write!(f, "the model cannot be exported: {e}")
            }
            ExportError::Settings(e) => write!(f, "{e}"),
            ExportError::Wav(m) => write!(f, "bad replay WAV: {m}"),
            ExportError::DoesNotFit(fit) => write_does_not_fit(
                f,
                format_args!("the firmware does not fit the {}", fit.board_name),
                &fit.overflows(),
                "use a smaller model or another board; --force exports anyway",
            ),
            ExportError::TooLarge => {
                f.write_str("the project exceeds the ZIP format's 4 GiB limit")
            }
            ExportError::Input(m) => write!(f, "bad --input: {m}"),
            ExportError::NoSources => f.write_str(
                "the firmware sources are not loaded (the page fetches them before exporting)",
            ),
        }
    }
}

/// The message of a model too large for a board: `what`, one indented line per exceeded limit
/// (`overflows`), then the `advice` in parentheses.
pub(crate) fn write_does_not_fit(
    f: &mut fmt::Formatter<'_>,
    what: fmt::Arguments<'_>,
    overflows: &[String],
    advice: &str,
) -> fmt::Result {
    write!(f, "{what}:")?;
    for line in overflows {
        write!(f, "\n  {line}")?;
    }
    write!(f, "\n({advice})")
}

impl std::error::Error for ExportError {}

impl From<mote_engine::Error> for ExportError {
    fn from(e: mote_engine::Error) -> Self {
        ExportError::Model(e)
    }
}

/// A finished export.
#[derive(Clone, Debug, Serialize)]
pub struct Exported {
    /// The zip bytes.
    #[serde(skip)]
    pub zip: Vec<u8>,
    /// Top-level directory inside the zip.
    pub dir: String,
    /// Paths inside the zip (below `dir`), in archive order.
    pub files: Vec<String>,
    /// The flash/RAM estimate against the board.
    pub fit: Fit,
    /// The model report (as in `report.json`).
    #[serde(skip)]
    pub report: ModelReport,
    /// The generated `mote/config.rs`.
    #[serde(skip)]
    pub config_rs: String,
    /// What the replay WAV's reading noticed (truncated data, NaN samples), for people.
    pub warnings: Vec<String>,
}

/// Builds the project zip for `req`, calling `progress` before each long step.
pub fn export(req: &Request<'_>, progress: &mut dyn FnMut(Step)) -> Result<Exported, ExportError> {
    let board =
        board::find(req.board).ok_or_else(|| ExportError::UnknownBoard(req.board.into()))?;
    let name = project_name(req.name)?;
    if !project::sources_ready() {
        return Err(ExportError::NoSources);
    }

    progress(Step::Plan);
    let model = Model::parse(req.model)?;
    let rep = report::report(req.model)?;
    let settings = match config::Settings::for_model(&model, req.sidecar) {
        Ok(s) => s,
        // Not a keyword model: a project that runs it on a baked-in input (`any`).
        Err(ExportError::Settings(crate::detect::SetupError::NotAudioModel(_)))
            if req.replay.is_none() =>
        {
            return any::export_any(req, board, &name, &model, &rep, progress);
        }
        Err(e) => return Err(e),
    };

    let replay = match req.replay {
        Some(wav) => {
            progress(Step::Audio);
            Some(wav::read_16k(wav).map_err(ExportError::Wav)?)
        }
        None => None,
    };

    progress(Step::Fit);
    let fit = fit::estimate_for(
        board,
        &rep,
        &settings,
        replay.as_ref().map_or(0, |r| r.samples.len()),
        if req.interpreter {
            fit::Engine::Interpreter
        } else {
            fit::Engine::Aot
        },
    );
    if !fit.fits() && !req.force {
        return Err(ExportError::DoesNotFit(Box::new(fit)));
    }

    let config_inputs = config::Inputs {
        name: &name,
        board,
        report: &rep,
        settings: &settings,
        replay: replay.as_ref(),
        fit: &fit,
    };
    let config_rs = config::render(&config_inputs)?;
    let build = config::build_settings(&config_inputs);
    let mut files = project::files(&project::Inputs {
        name: &name,
        board,
        model: req.model,
        sidecar_text: req.sidecar,
        report: &rep,
        settings: &settings,
        replay: replay.as_ref(),
        fit: &fit,
        config_rs: &config_rs,
        build: &build,
    });
    if !req.interpreter {
        aot::add_to_project(&mut files, &aot::generate(req.model)?);
    }
    let warnings = replay.map(|r| r.warnings).unwrap_or_default();
    let project = Project {
        name,
        board: board.id,
        files,
        fit,
        report: rep,
        config_rs,
    };
    let mut done = zip_project(project, req.stamp, progress)?;
    done.warnings = warnings;
    Ok(done)
}

/// A project's files and what was estimated for it, before zipping.
struct Project {
    name: String,
    board: &'static str,
    files: Vec<project::File>,
    fit: Fit,
    report: ModelReport,
    config_rs: String,
}

/// Zip the project's files under `<name>-<board>/`, every entry dated `stamp`.
fn zip_project(
    p: Project,
    stamp: zip::Stamp,
    progress: &mut dyn FnMut(Step),
) -> Result<Exported, ExportError> {
    progress(Step::Compress {
        files: p.files.len(),
    });
    let dir = format!("{}-{}", p.name, p.board);
    let paths: Vec<String> = p
        .files
        .iter()
        .map(|f| format!("{dir}/{}", f.path))
        .collect();
    let entries: Vec<zip::Entry<'_>> = p
        .files
        .iter()
        .zip(&paths)
        .map(|(f, path)| zip::Entry {
            name: path,
            data: &f.data,
            mode: f.mode,
        })
        .collect();
    let zip = zip::write(&entries, stamp).map_err(|_| ExportError::TooLarge)?;
    Ok(Exported {
        zip,
        dir,
        files: p.files.into_iter().map(|f| f.path).collect(),
        fit: p.fit,
        report: p.report,
        config_rs: p.config_rs,
        warnings: Vec::new(),
    })
}

/// A file name stem as a name [`export`] accepts (what `mote export` and the page use): other
/// characters than `[A-Za-z0-9._-]` become `_`, at most 64 of them, leading dots dropped;
/// `model` if nothing is left.
pub fn sanitize_name(stem: &str) -> String {
    let s: String = stem
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') {
                c
            } else {
                '_'
            }
        })
        .take(64)
        .collect();
    let s = s.trim_start_matches('.');
    if s.is_empty() {
        "model".into()
    } else {
        s.to_string()
    }
}

/// The project name: `name` with anything but `[A-Za-z0-9._-]` refused (it becomes a directory
/// and a Cargo-visible path).
fn project_name(name: &str) -> Result<String, ExportError> {
    let ok = !name.is_empty()
        && name.len() <= 64
        && !name.starts_with('.')
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(name.to_string())
    } else {
        Err(ExportError::BadName(name.into()))
    }
}
