//! `mote export --bin` and the playground's ".bin" download: the prebuilt runtime firmware for
//! a board followed by a model slot (`mote_engine::slot`), one raw image for the ST-LINK USB
//! drive (which flashes a dropped `.bin` from 0x0800_0000) or `qemu-system-arm -kernel`.
//!
//! The image is: the runtime's bytes, 0xFF (erased flash) up to the model slot's offset, the
//! model slot; with a replay WAV (tests only), 0xFF up to the replay slot and that slot. A pure
//! function of its inputs, so the CLI and the wasm playground produce the same bytes.

use std::fmt;

use mote_engine::detector::PresetKind;
use mote_engine::slot::{self, Layout, SlotError};
use mote_engine::Model;
use serde::Serialize;

use super::{config, wav, Board, ExportError};
use crate::report;

/// Text every runtime image carries (`firmware-template/src/runtime.rs`), followed by the board
/// id and a NUL: how a runtime is told from any other `.bin`, and its board checked.
pub const RUNTIME_MARKER: &[u8] = b"MOTE-RUNTIME slot-v1 ";

/// What to put in the `.bin`.
#[derive(Clone, Debug)]
pub struct BinRequest<'a> {
    /// The `.tflite` bytes.
    pub model: &'a [u8],
    /// The model's sidecar JSON text.
    pub sidecar: Option<&'a str>,
    /// Board id.
    pub board: &'a str,
    /// The runtime image for that board (`target/runtimes/<board>.bin`, served with the page).
    pub runtime: &'a [u8],
    /// Test only: a WAV placed in the replay slot (the runtime then replays it and exits
    /// through semihosting, which stops a board without a debugger: never flash this).
    pub replay: Option<&'a [u8]>,
}

/// Does the model fit the runtime on the board: flash (runtime, slot) and RAM (arena + state
/// against the runtime's fixed model memory), in bytes.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct RuntimeFit {
    /// Board display name.
    pub board_name: &'static str,
    /// Runtime image bytes (0 when not known yet: the page checks before fetching it).
    pub runtime_bytes: u32,
    /// Flash the runtime may take (the model slot starts there).
    pub runtime_max: u32,
    /// Model slot bytes (header, settings, labels, padding, model).
    pub slot_bytes: u32,
    /// Model slot capacity.
    pub slot_max: u32,
    /// Arena + state the model needs, each rounded up to 16 bytes as the runtime places them.
    pub model_memory_needed: u32,
    /// RAM the runtime reserves for them.
    pub model_memory: u32,
}

impl RuntimeFit {
    /// Everything fits.
    pub fn fits(&self) -> bool {
        self.overflows().is_empty()
    }

    /// One line per limit exceeded, with the numbers.
    pub fn overflows(&self) -> Vec<String> {
        let mut v = Vec::new();
        if self.model_memory_needed > self.model_memory {
            v.push(format!(
                "RAM: the model needs {} B of arena + state, the {} runtime has {} B for them ({} B over)",
                self.model_memory_needed,
                self.board_name,
                self.model_memory,
                self.model_memory_needed - self.model_memory
            ));
        }
        if self.slot_bytes > self.slot_max {
            v.push(format!(
                "flash: the model slot needs {} B, the {} runtime's slot holds {} B ({} B over)",
                self.slot_bytes,
                self.board_name,
                self.slot_max,
                self.slot_bytes - self.slot_max
            ));
        }
        if self.runtime_bytes > self.runtime_max {
            v.push(format!(
                "flash: the runtime image is {} B, at most {} B fit before the model slot",
                self.runtime_bytes, self.runtime_max
            ));
        }
        v
    }
}

/// Why no `.bin` could be made.
#[derive(Debug)]
pub enum BinError {
    /// The model, sidecar or WAV (as for the zip export).
    Export(ExportError),
    /// The model does not fit the runtime (lines in [`RuntimeFit::overflows`]).
    DoesNotFit(Box<RuntimeFit>),
    /// The runtime image is not a Mote runtime for this board (names what it is).
    BadRuntime(String),
    /// The slot could not be written (too many or too long labels).
    Slot(SlotError),
}

impl fmt::Display for BinError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            BinError::Export(e) => e.fmt(f),
            BinError::DoesNotFit(fit) => super::write_does_not_fit(
                f,
                format_args!("the model does not fit the {} runtime", fit.board_name),
                &fit.overflows(),
                "use a smaller model, or export the project (.zip), which sizes everything for this model",
            ),
            BinError::BadRuntime(m) => write!(f, "bad runtime image: {m}"),
            BinError::Slot(e) => write!(f, "cannot write the model slot: {e}"),
        }
    }
}

impl std::error::Error for BinError {}

impl From<ExportError> for BinError {
    fn from(e: ExportError) -> Self {
        BinError::Export(e)
    }
}

impl From<mote_engine::Error> for BinError {
    fn from(e: mote_engine::Error) -> Self {
        BinError::Export(ExportError::Model(e))
    }
}

/// A finished `.bin`.
#[derive(Clone, Debug, Serialize)]
pub struct BinExported {
    /// The image bytes.
    #[serde(skip)]
    pub bin: Vec<u8>,
    /// Suggested file name.
    pub file_name: String,
    /// The USB drive the ST-LINK shows for this board (where to drop the file).
    pub drive: &'static str,
    /// The numbers of the fit check.
    pub fit: RuntimeFit,
    /// What reading the replay WAV noticed.
    pub warnings: Vec<String>,
}

/// The USB drive name ST-LINK/V2-1 shows for a board (`DIS_L4IOT` for the Discovery kit,
/// `NODE_<chip>` for NUCLEO boards).
pub fn drive_name(board_id: &str) -> &'static str {
    match board_id {
        "b-l475e-iot01a" => "DIS_L4IOT",
        "nucleo-l476rg" => "NODE_L476RG",
        "nucleo-l432kc" => "NODE_L432KC",
        _ => "the board's ST-LINK drive",
    }
}

fn layout_of(board: &Board) -> Result<&'static Layout, BinError> {
    slot::layout(board.id)
        .ok_or_else(|| BinError::BadRuntime(format!("no runtime layout for {}", board.id)))
}

/// The slot settings for a model, as `mote detect` configures the pipeline.
fn slot_settings<'a>(
    settings: &'a config::Settings,
    rep: &report::ModelReport,
) -> Result<slot::Settings<'a>, BinError> {
    let preset: PresetKind = settings.config().preset.kind;
    let mut s = slot::Settings::new(preset, rep.arena_bytes, rep.state_bytes);
    if let Some(sc) = &settings.sidecar {
        if sc.mfcc.is_some() {
            // The slot format carries the preset, not MFCC parameters: the runtime would use
            // the input shape's defaults, not the sidecar's, and differ from the page.
            return Err(BinError::Slot(SlotError::Settings {
                what: "the sidecar sets MFCC parameters, which the runtime's model slot cannot carry (export a project instead)",
            }));
        }
        s.has_sidecar = true;
        s.probability_cutoff = sc.probability_cutoff;
        s.sliding_window_size = sc.sliding_window_size;
        s.feature_step_size = sc.feature_step_size;
        if let Some(l) = &sc.labels {
            if *l != settings.labels {
                return Err(BinError::Slot(SlotError::Settings {
                    what: "the sidecar's labels differ from the labels printed",
                }));
            }
            s.sidecar_labels = true;
        }
    }
    s.set_labels(settings.labels.iter().map(String::as_str))
        .map_err(BinError::Slot)?;
    Ok(s)
}

/// The runtime fit for a model on a board, without the runtime image (`runtime_bytes` 0):
/// what the page can say before fetching anything.
pub fn fit(model: &[u8], sidecar: Option<&str>, board: &Board) -> Result<RuntimeFit, BinError> {
    let parsed = Model::parse(model)?;
    let rep = report::report(model)?;
    let settings = config::Settings::for_model(&parsed, sidecar)?;
    let s = slot_settings(&settings, &rep)?;
    Ok(fit_of(board, layout_of(board)?, &s, model.len(), 0))
}

fn fit_of(
    board: &Board,
    l: &Layout,
    s: &slot::Settings<'_>,
    model_len: usize,
    runtime_len: usize,
) -> RuntimeFit {
    let round = |n: u32| n.div_ceil(16).saturating_mul(16);
    RuntimeFit {
        board_name: board.name,
        runtime_bytes: runtime_len as u32,
        runtime_max: l.runtime_max(),
        slot_bytes: (slot::model_offset(s) + model_len) as u32,
        slot_max: l.model_slot_max(),
        model_memory_needed: round(s.arena_bytes).saturating_add(round(s.state_bytes)),
        model_memory: l.model_memory,
    }
}

/// Checks `runtime` is a Mote runtime image for `board` (its marker names the board).
pub fn check_runtime(runtime: &[u8], board: &Board) -> Result<(), BinError> {
    let at = runtime
        .windows(RUNTIME_MARKER.len())
        .position(|w| w == RUNTIME_MARKER)
        .ok_or_else(|| {
            BinError::BadRuntime(format!(
                "not a Mote runtime ({} bytes without the marker {:?}): build it with scripts/build-runtimes.sh",
                runtime.len(),
                String::from_utf8_lossy(RUNTIME_MARKER)
            ))
        })?;
    let rest = &runtime[at + RUNTIME_MARKER.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(0);
    let id = String::from_utf8_lossy(&rest[..end]);
    if id != board.id {
        return Err(BinError::BadRuntime(format!(
            "this runtime is for {id}, not {}",
            board.id
        )));
    }
    Ok(())
}

/// Builds the `.bin` for `req`.
pub fn export_bin(req: &BinRequest<'_>) -> Result<BinExported, BinError> {
    let board =
        super::board::find(req.board).ok_or_else(|| ExportError::UnknownBoard(req.board.into()))?;
    let l = layout_of(board)?;
    check_runtime(req.runtime, board)?;
    let model = Model::parse(req.model)?;
    let rep = report::report(req.model)?;
    let settings = config::Settings::for_model(&model, req.sidecar)?;
    let s = slot_settings(&settings, &rep)?;
    let fit = fit_of(board, l, &s, req.model.len(), req.runtime.len());
    if !fit.fits() {
        return Err(BinError::DoesNotFit(Box::new(fit)));
    }
    let model_slot = l.model_slot as usize;
    let mut bin = vec![0xFFu8; model_slot + fit.slot_bytes as usize];
    bin[..req.runtime.len()].copy_from_slice(req.runtime);
    slot::write_model_slot(&mut bin[model_slot..], l.code, &s, req.model)
        .map_err(BinError::Slot)?;
    let mut warnings = Vec::new();
    if let Some(w) = req.replay {
        let audio = wav::read_16k(w).map_err(ExportError::Wav)?;
        warnings = audio.warnings;
        let at = l.replay_slot as usize;
        let len = slot::HEADER_LEN + 2 * audio.samples.len();
        if len > l.replay_slot_max() as usize {
            return Err(BinError::Slot(SlotError::TooLarge {
                needed: len as u32,
                available: l.replay_slot_max(),
            }));
        }
        bin.resize(at + len, 0xFF);
        slot::write_replay_slot(&mut bin[at..], l.code, &audio.samples).map_err(BinError::Slot)?;
    }
    Ok(BinExported {
        bin,
        file_name: format!("mote-{}.bin", board.id),
        drive: drive_name(board.id),
        fit,
        warnings,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runtime_marker_is_checked() {
        let b = super::super::board::find("nucleo-l432kc").unwrap();
        let mut rt = vec![0u8; 64];
        assert!(matches!(
            check_runtime(&rt, b),
            Err(BinError::BadRuntime(_))
        ));
        rt.extend_from_slice(RUNTIME_MARKER);
        rt.extend_from_slice(b"b-l475e-iot01a\0");
        let e = check_runtime(&rt, b).unwrap_err().to_string();
        assert!(e.contains("for b-l475e-iot01a, not nucleo-l432kc"), "{e}");
        let good = super::super::board::find("b-l475e-iot01a").unwrap();
        check_runtime(&rt, good).unwrap();
    }

    #[test]
    fn overflow_lines_have_numbers() {
        let f = RuntimeFit {
            board_name: "NUCLEO-L432KC",
            runtime_bytes: 0,
            runtime_max: 100,
            slot_bytes: 300,
            slot_max: 200,
            model_memory_needed: 50_000,
            model_memory: 24_576,
        };
        let lines = f.overflows();
        assert_eq!(lines.len(), 2);
        assert!(lines[0].contains("50000 B") && lines[0].contains("24576 B"));
        assert!(lines[1].contains("300 B") && lines[1].contains("100 B over"));
    }
}
