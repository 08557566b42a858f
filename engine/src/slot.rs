//! The model slot: a model and its pipeline settings at a fixed flash address, read by the
//! prebuilt runtime firmware at boot (written by `mote export --bin` and the playground).
//!
//! A slot is a 32-byte header followed by a payload:
//!
//! | offset | bytes | field                                                        |
//! |-------:|------:|--------------------------------------------------------------|
//! | 0      | 8     | magic `MOTESLOT`                                             |
//! | 8      | 2     | format version ([`VERSION`], little-endian like every field) |
//! | 10     | 1     | kind: 1 model, 2 replay audio (test only)                   |
//! | 11     | 1     | board code ([`Layout::code`])                               |
//! | 12     | 4     | payload bytes (after the header)                            |
//! | 16     | 4     | CRC-32 (IEEE 802.3, as zlib's `crc32`) of the payload       |
//! | 20     | 12    | zero                                                         |
//!
//! A model payload is the settings ([`SETTINGS_FIXED`] bytes, then the labels as a length
//! byte and UTF-8 each), zero padding, and the `.tflite` bytes at a 16-byte aligned offset from
//! the slot start (slots start 16-byte aligned, so the model is aligned as TFLM requires). A
//! replay payload is 16 kHz mono int16 little-endian samples.
//!
//! The settings carry what `mote detect` hands the engine: the sidecar values (each optional)
//! for `PipelineConfig::for_model`, the label names it prints, the front-end preset it derived
//! (the runtime checks it derives the same), and the planner's exact arena and state bytes.

use core::fmt;

use crate::detector::PresetKind;
use crate::pipeline::Sidecar;

/// The slot's first bytes.
pub const MAGIC: [u8; 8] = *b"MOTESLOT";
/// Format version written and accepted.
pub const VERSION: u16 = 1;
/// Header bytes.
pub const HEADER_LEN: usize = 32;
/// Fixed part of the model settings, before the labels.
pub const SETTINGS_FIXED: usize = 32;
/// Most labels a slot may carry.
pub const MAX_LABELS: usize = 32;
/// Alignment of the model bytes from the slot start.
pub const MODEL_ALIGN: usize = 16;

/// What a slot holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// A model and its settings.
    Model = 1,
    /// Audio replayed instead of the microphone (tests in QEMU).
    Replay = 2,
}

/// Where a board's runtime and slots live in flash (the runtime's `memory.x` and the exporter
/// agree through this table).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Layout {
    /// Board id, as `mote export --board` spells it.
    pub id: &'static str,
    /// Board code in slot headers (never 0 or 0xFF, the bytes of blank flash).
    pub code: u8,
    /// Flash address of the runtime (the image's first byte; also aliased at 0).
    pub flash_base: u32,
    /// Flash bytes on the chip.
    pub flash_bytes: u32,
    /// Offset of the model slot from `flash_base`: the runtime must end before it.
    pub model_slot: u32,
    /// Offset of the replay slot (test only): the model slot must end before it.
    pub replay_slot: u32,
    /// RAM bytes the runtime reserves for the model's tensor arena and variable state
    /// together (a static buffer; the rest of RAM is the pipeline, microphone and stack).
    pub model_memory: u32,
}

impl Layout {
    /// Bytes the runtime image may take.
    pub const fn runtime_max(&self) -> u32 {
        self.model_slot
    }

    /// Bytes the model slot may take (header, settings and model).
    pub const fn model_slot_max(&self) -> u32 {
        self.replay_slot - self.model_slot
    }

    /// Bytes the replay slot may take.
    pub const fn replay_slot_max(&self) -> u32 {
        self.flash_bytes - self.replay_slot
    }
}

const KB: u32 = 1024;

/// The three boards. 1 MB parts: 256 KB runtime (195 KB used), 512 KB model slot, 256 KB
/// replay slot; NUCLEO-L432KC (256 KB): 176 KB runtime (173 KB used, engine built for size),
/// 80 KB model slot, no replay slot. Offsets are 2 KB flash-page multiples.
pub const LAYOUTS: [Layout; 3] = [
    one_mb_part("b-l475e-iot01a", 1),
    one_mb_part("nucleo-l476rg", 2),
    Layout {
        id: "nucleo-l432kc",
        code: 3,
        flash_base: 0x0800_0000,
        flash_bytes: 256 * KB,
        model_slot: 176 * KB,
        replay_slot: 256 * KB,
        model_memory: 20 * KB,
    },
];

/// The layout every 1 MB part shares (the STM32L475 and L476: same flash and RAM).
const fn one_mb_part(id: &'static str, code: u8) -> Layout {
    Layout {
        id,
        code,
        flash_base: 0x0800_0000,
        flash_bytes: 1024 * KB,
        model_slot: 256 * KB,
        replay_slot: 768 * KB,
        model_memory: 48 * KB,
    }
}

/// The layout of the board with this id.
pub fn layout(id: &str) -> Option<&'static Layout> {
    LAYOUTS.iter().find(|l| l.id == id)
}

/// The layout of the board with this header code.
pub fn layout_by_code(code: u8) -> Option<&'static Layout> {
    LAYOUTS.iter().find(|l| l.code == code)
}

/// Why a slot cannot be used. Small and `Copy`, for the runtime's JSON error line.
#[allow(missing_docs)] // fields are named for what they hold
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SlotError {
    /// Blank flash (all 0xFF, or all 0 in QEMU): nothing was flashed there.
    Empty,
    /// The bytes do not start with `MOTESLOT`.
    BadMagic,
    /// Written by a newer or older exporter.
    Version { found: u16 },
    /// A slot of another kind (model where replay audio was expected, or the reverse).
    WrongKind { found: u8, expected: u8 },
    /// Made for another board.
    WrongBoard { found: u8, expected: u8 },
    /// The header declares more bytes than the slot region holds.
    Truncated { declared: u32, available: u32 },
    /// The payload's CRC-32 differs from the header's: a damaged or partly written file.
    Crc { stored: u32, computed: u32 },
    /// The settings are inconsistent (names the field).
    Settings { what: &'static str },
    /// The data does not fit the slot region or the output buffer.
    TooLarge { needed: u32, available: u32 },
}

impl fmt::Display for SlotError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            SlotError::Empty => f.write_str(
                "empty model slot: drop a .bin made by the playground or `mote export --bin` on the board's drive",
            ),
            SlotError::BadMagic => f.write_str("no model slot (bad magic): flash a .bin made for this runtime"),
            SlotError::Version { found } => write!(
                f,
                "slot format version {found}, this runtime reads {VERSION}: export the .bin again"
            ),
            SlotError::WrongKind { found, expected } => {
                write!(f, "slot kind {found}, expected {expected}")
            }
            SlotError::WrongBoard { found, expected } => {
                let name = |c| layout_by_code(c).map_or("an unknown board", |l| l.id);
                write!(
                    f,
                    "slot made for {} (code {found}), this runtime is for {} (code {expected}): export for this board",
                    name(found),
                    name(expected)
                )
            }
            SlotError::Truncated { declared, available } => write!(
                f,
                "slot truncated: header declares {declared} bytes, {available} available"
            ),
            SlotError::Crc { stored, computed } => write!(
                f,
                "slot CRC mismatch (stored {stored:#010x}, computed {computed:#010x}): the file is damaged, copy it again"
            ),
            SlotError::Settings { what } => write!(f, "bad slot settings: {what}"),
            SlotError::TooLarge { needed, available } => write!(
                f,
                "too large: {needed} bytes needed, {available} available"
            ),
        }
    }
}

/// CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, initial and final XOR 0xFFFFFFFF):
/// the value zlib's `crc32` and `cksum -a crc32b` print.
pub fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = !0u32;
    for &b in bytes {
        let i = usize::from((crc as u8) ^ b);
        crc = (crc >> 8) ^ CRC_TABLE[i];
    }
    !crc
}

/// Byte-at-a-time table for [`crc32`].
static CRC_TABLE: [u32; 256] = {
    let mut t = [0u32; 256];
    let mut i = 0;
    while i < 256 {
        let mut c = i as u32;
        let mut k = 0;
        while k < 8 {
            c = if c & 1 != 0 {
                0xEDB8_8320 ^ (c >> 1)
            } else {
                c >> 1
            };
            k += 1;
        }
        t[i] = c;
        i += 1;
    }
    t
};

/// The header for a payload.
pub fn header(kind: Kind, board_code: u8, payload: &[u8]) -> Result<[u8; HEADER_LEN], SlotError> {
    let len = u32::try_from(payload.len()).map_err(|_| SlotError::TooLarge {
        needed: u32::MAX,
        available: u32::MAX,
    })?;
    let mut h = [0u8; HEADER_LEN];
    h[..8].copy_from_slice(&MAGIC);
    h[8..10].copy_from_slice(&VERSION.to_le_bytes());
    h[10] = kind as u8;
    h[11] = board_code;
    h[12..16].copy_from_slice(&len.to_le_bytes());
    h[16..20].copy_from_slice(&crc32(payload).to_le_bytes());
    Ok(h)
}

fn u16_at(b: &[u8], at: usize) -> u16 {
    let mut v = [0u8; 2];
    if let Some(s) = b.get(at..at + 2) {
        v.copy_from_slice(s);
    }
    u16::from_le_bytes(v)
}

fn u32_at(b: &[u8], at: usize) -> u32 {
    let mut v = [0u8; 4];
    if let Some(s) = b.get(at..at + 4) {
        v.copy_from_slice(s);
    }
    u32::from_le_bytes(v)
}

fn u64_at(b: &[u8], at: usize) -> u64 {
    let mut v = [0u8; 8];
    if let Some(s) = b.get(at..at + 8) {
        v.copy_from_slice(s);
    }
    u64::from_le_bytes(v)
}

/// Checks the header of the slot region `region` (magic, version, kind, board, length, CRC)
/// and returns the payload.
pub fn payload(region: &[u8], kind: Kind, board_code: u8) -> Result<&[u8], SlotError> {
    let head = region.get(..HEADER_LEN).ok_or(SlotError::Truncated {
        declared: HEADER_LEN as u32,
        available: region.len() as u32,
    })?;
    if head.iter().all(|&b| b == 0xFF) || head.iter().all(|&b| b == 0) {
        return Err(SlotError::Empty);
    }
    if head[..8] != MAGIC {
        return Err(SlotError::BadMagic);
    }
    let version = u16_at(head, 8);
    if version != VERSION {
        return Err(SlotError::Version { found: version });
    }
    if head[10] != kind as u8 {
        return Err(SlotError::WrongKind {
            found: head[10],
            expected: kind as u8,
        });
    }
    if head[11] != board_code {
        return Err(SlotError::WrongBoard {
            found: head[11],
            expected: board_code,
        });
    }
    if head[20..].iter().any(|&b| b != 0) {
        return Err(SlotError::Settings {
            what: "reserved header bytes are not zero",
        });
    }
    let len = u32_at(head, 12);
    let available = (region.len() - HEADER_LEN) as u32;
    let body = region
        .get(HEADER_LEN..HEADER_LEN.saturating_add(len as usize))
        .ok_or(SlotError::Truncated {
            declared: len,
            available,
        })?;
    let (stored, computed) = (u32_at(head, 16), crc32(body));
    if stored != computed {
        return Err(SlotError::Crc { stored, computed });
    }
    Ok(body)
}

/// The model's settings, as stored in a model slot.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Settings<'a> {
    /// The front-end preset `mote detect` derived (the runtime checks it derives the same).
    pub preset: PresetKind,
    /// Whether `mote detect` handed the engine a sidecar at all.
    pub has_sidecar: bool,
    /// Sidecar `micro.probability_cutoff`.
    pub probability_cutoff: Option<f64>,
    /// Sidecar `micro.sliding_window_size`.
    pub sliding_window_size: Option<u8>,
    /// Sidecar `micro.feature_step_size`, ms.
    pub feature_step_size: Option<u16>,
    /// Whether the sidecar's `labels` are [`Settings::labels`].
    pub sidecar_labels: bool,
    /// Tensor arena bytes the planner needs.
    pub arena_bytes: u32,
    /// Variable-state bytes the planner needs.
    pub state_bytes: u32,
    labels: [&'a str; MAX_LABELS],
    n_labels: u8,
}

impl<'a> Settings<'a> {
    /// Settings with no labels and no sidecar.
    pub const fn new(preset: PresetKind, arena_bytes: u32, state_bytes: u32) -> Self {
        Settings {
            preset,
            has_sidecar: false,
            probability_cutoff: None,
            sliding_window_size: None,
            feature_step_size: None,
            sidecar_labels: false,
            arena_bytes,
            state_bytes,
            labels: [""; MAX_LABELS],
            n_labels: 0,
        }
    }

    /// Sets the label names (one per score), at most [`MAX_LABELS`] of at most 255 bytes.
    pub fn set_labels<'b>(
        &mut self,
        labels: impl IntoIterator<Item = &'b str>,
    ) -> Result<(), SlotError>
    where
        'b: 'a,
    {
        let mut n = 0usize;
        for l in labels {
            if l.len() > 255 {
                return Err(SlotError::Settings {
                    what: "a label is longer than 255 bytes",
                });
            }
            *self.labels.get_mut(n).ok_or(SlotError::Settings {
                what: "more than 32 labels",
            })? = l;
            n += 1;
        }
        self.n_labels = n as u8;
        Ok(())
    }

    /// The label names, one per score.
    pub fn labels(&self) -> &[&'a str] {
        self.labels.get(..usize::from(self.n_labels)).unwrap_or(&[])
    }

    /// The sidecar to hand `PipelineConfig::for_model`, as `mote detect` built it.
    pub fn sidecar(&self) -> Option<Sidecar<'_>> {
        self.has_sidecar.then(|| Sidecar {
            probability_cutoff: self.probability_cutoff,
            sliding_window_size: self.sliding_window_size,
            feature_step_size: self.feature_step_size,
            labels: if self.sidecar_labels {
                Some(self.labels())
            } else {
                None
            },
            // The slot carries no MFCC settings: an MFCC model runs with the defaults of its
            // input shape (MLPerf Tiny KWS); `export_bin` refuses a sidecar that sets them.
            mfcc: None,
        })
    }
}

/// The preset's code in the settings.
pub fn preset_code(kind: PresetKind) -> u8 {
    match kind {
        PresetKind::MicroSpeech => 0,
        PresetKind::MicroWakeWord => 1,
        PresetKind::Mfcc => 2,
    }
}

fn preset_of(code: u8) -> Option<PresetKind> {
    match code {
        0 => Some(PresetKind::MicroSpeech),
        1 => Some(PresetKind::MicroWakeWord),
        2 => Some(PresetKind::Mfcc),
        _ => None,
    }
}

const F_SIDECAR: u8 = 1;
const F_CUTOFF: u8 = 2;
const F_WINDOW: u8 = 4;
const F_STEP: u8 = 8;
const F_LABELS: u8 = 16;

/// Bytes of the model slot's payload before the model (settings and padding), so that the
/// model starts 16-byte aligned from the slot start.
pub fn model_offset(settings: &Settings<'_>) -> usize {
    let labels: usize = settings.labels().iter().map(|l| 1 + l.len()).sum();
    let end = HEADER_LEN + SETTINGS_FIXED + labels;
    end.div_ceil(MODEL_ALIGN) * MODEL_ALIGN
}

/// Writes a whole model slot (header, settings, padding, model) into `out`; returns the bytes
/// written.
pub fn write_model_slot(
    out: &mut [u8],
    board_code: u8,
    settings: &Settings<'_>,
    model: &[u8],
) -> Result<usize, SlotError> {
    let offset = model_offset(settings);
    let total = offset.saturating_add(model.len());
    let too_large = SlotError::TooLarge {
        needed: total as u32,
        available: out.len() as u32,
    };
    let slot = out.get_mut(..total).ok_or(too_large)?;
    slot.fill(0);
    let s = &mut slot[HEADER_LEN..];
    s[0] = preset_code(settings.preset);
    let mut flags = 0;
    if settings.has_sidecar {
        flags |= F_SIDECAR;
    }
    if settings.probability_cutoff.is_some() {
        flags |= F_CUTOFF;
    }
    if settings.sliding_window_size.is_some() {
        flags |= F_WINDOW;
    }
    if settings.feature_step_size.is_some() {
        flags |= F_STEP;
    }
    if settings.sidecar_labels {
        flags |= F_LABELS;
    }
    s[1] = flags;
    s[2] = settings.sliding_window_size.unwrap_or(0);
    s[3] = settings.n_labels;
    s[4..6].copy_from_slice(&settings.feature_step_size.unwrap_or(0).to_le_bytes());
    s[8..16].copy_from_slice(
        &settings
            .probability_cutoff
            .unwrap_or(0.0)
            .to_bits()
            .to_le_bytes(),
    );
    s[16..20].copy_from_slice(&settings.arena_bytes.to_le_bytes());
    s[20..24].copy_from_slice(&settings.state_bytes.to_le_bytes());
    s[24..28].copy_from_slice(&(offset as u32).to_le_bytes());
    s[28..32].copy_from_slice(&(model.len() as u32).to_le_bytes());
    let mut at = SETTINGS_FIXED;
    for l in settings.labels() {
        s[at] = l.len() as u8;
        s[at + 1..at + 1 + l.len()].copy_from_slice(l.as_bytes());
        at += 1 + l.len();
    }
    slot[offset..].copy_from_slice(model);
    let h = header(Kind::Model, board_code, &slot[HEADER_LEN..])?;
    slot[..HEADER_LEN].copy_from_slice(&h);
    Ok(total)
}

/// A checked model slot: its settings and the `.tflite` bytes (not yet parsed).
#[derive(Clone, Copy, Debug)]
pub struct ModelSlot<'a> {
    /// Pipeline settings and labels.
    pub settings: Settings<'a>,
    /// The `.tflite` bytes, 16-byte aligned if the region is.
    pub model: &'a [u8],
}

/// Reads the model slot in `region` (the whole slot region; bytes after the slot are ignored)
/// for the board with `board_code`.
pub fn read_model_slot(region: &[u8], board_code: u8) -> Result<ModelSlot<'_>, SlotError> {
    let body = payload(region, Kind::Model, board_code)?;
    let bad = |what| SlotError::Settings { what };
    let s = body
        .get(..SETTINGS_FIXED)
        .ok_or(bad("shorter than the fixed settings"))?;
    let preset = preset_of(s[0]).ok_or(bad("unknown front-end preset"))?;
    let flags = s[1];
    let n_labels = usize::from(s[3]);
    let mut settings = Settings::new(preset, u32_at(s, 16), u32_at(s, 20));
    settings.has_sidecar = flags & F_SIDECAR != 0;
    settings.probability_cutoff = (flags & F_CUTOFF != 0).then(|| f64::from_bits(u64_at(s, 8)));
    settings.sliding_window_size = (flags & F_WINDOW != 0).then_some(s[2]);
    settings.feature_step_size = (flags & F_STEP != 0).then(|| u16_at(s, 4));
    settings.sidecar_labels = flags & F_LABELS != 0;
    if n_labels > MAX_LABELS {
        return Err(bad("more than 32 labels"));
    }
    let mut at = SETTINGS_FIXED;
    for i in 0..n_labels {
        let len = usize::from(*body.get(at).ok_or(bad("labels run past the payload"))?);
        let bytes = body
            .get(at + 1..at + 1 + len)
            .ok_or(bad("labels run past the payload"))?;
        settings.labels[i] =
            core::str::from_utf8(bytes).map_err(|_| bad("a label is not UTF-8"))?;
        at += 1 + len;
    }
    settings.n_labels = n_labels as u8;
    let offset = u32_at(s, 24) as usize;
    let len = u32_at(s, 28) as usize;
    if !offset.is_multiple_of(MODEL_ALIGN) || offset < HEADER_LEN + at {
        return Err(bad(
            "model offset overlaps the settings or is not 16-byte aligned",
        ));
    }
    let model = body
        .get(offset - HEADER_LEN..)
        .and_then(|m| m.get(..len))
        .filter(|m| m.len() == body.len() + HEADER_LEN - offset)
        .ok_or(bad("model length does not match the payload"))?;
    Ok(ModelSlot { settings, model })
}

/// Writes a replay slot (16 kHz mono int16 samples) into `out`; returns the bytes written.
pub fn write_replay_slot(
    out: &mut [u8],
    board_code: u8,
    samples: &[i16],
) -> Result<usize, SlotError> {
    let total = HEADER_LEN + 2 * samples.len();
    let too_large = SlotError::TooLarge {
        needed: total as u32,
        available: out.len() as u32,
    };
    let slot = out.get_mut(..total).ok_or(too_large)?;
    for (d, s) in slot[HEADER_LEN..].chunks_exact_mut(2).zip(samples) {
        d.copy_from_slice(&s.to_le_bytes());
    }
    let h = header(Kind::Replay, board_code, &slot[HEADER_LEN..])?;
    slot[..HEADER_LEN].copy_from_slice(&h);
    Ok(total)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec;

    #[test]
    fn crc32_check_value() {
        assert_eq!(crc32(b"123456789"), 0xCBF4_3926);
        assert_eq!(crc32(b""), 0);
    }

    #[test]
    fn layouts_are_ordered_and_page_aligned() {
        for l in LAYOUTS {
            assert!(
                l.model_slot < l.replay_slot && l.replay_slot <= l.flash_bytes,
                "{l:?}"
            );
            assert_eq!(l.model_slot % 2048, 0);
            assert_eq!(l.replay_slot % 2048, 0);
            assert!(l.code != 0 && l.code != 0xFF);
            assert_eq!(layout(l.id), Some(&l));
            assert_eq!(layout_by_code(l.code), Some(&l));
        }
    }

    fn sample(model: &[u8]) -> vec::Vec<u8> {
        let mut s = Settings::new(PresetKind::MicroWakeWord, 1234, 56);
        s.has_sidecar = true;
        s.probability_cutoff = Some(0.97);
        s.sliding_window_size = Some(5);
        s.set_labels(["okay_nabu"]).unwrap();
        let mut out = vec![0xAAu8; 4096];
        let n = write_model_slot(&mut out, 1, &s, model).unwrap();
        out.truncate(n);
        out
    }

    #[test]
    fn model_slot_round_trips() {
        let model: vec::Vec<u8> = (0..100u8).collect();
        let slot = sample(&model);
        let mut region = slot.clone();
        region.resize(8192, 0xFF); // blank flash after the slot
        let m = read_model_slot(&region, 1).unwrap();
        assert_eq!(m.model, &model[..]);
        let s = m.settings;
        assert_eq!(s.preset, PresetKind::MicroWakeWord);
        assert_eq!((s.arena_bytes, s.state_bytes), (1234, 56));
        assert_eq!(s.labels(), &["okay_nabu"]);
        let sc = s.sidecar().unwrap();
        assert_eq!(sc.probability_cutoff, Some(0.97));
        assert_eq!(sc.sliding_window_size, Some(5));
        assert_eq!(sc.feature_step_size, None);
        assert_eq!(sc.labels, None);
        let off = model_offset(&s);
        assert_eq!(off % MODEL_ALIGN, 0);
        assert_eq!(&slot[off..], &model[..]);
    }

    #[test]
    fn damaged_slots_are_refused() {
        let model = [7u8; 64];
        let slot = sample(&model);
        assert_eq!(
            read_model_slot(&[0xFF; 64], 1).unwrap_err(),
            SlotError::Empty
        );
        assert_eq!(read_model_slot(&[0; 64], 1).unwrap_err(), SlotError::Empty);
        assert!(matches!(
            read_model_slot(&slot, 2).unwrap_err(),
            SlotError::WrongBoard {
                found: 1,
                expected: 2
            }
        ));
        assert!(matches!(
            read_model_slot(&slot[..slot.len() - 1], 1).unwrap_err(),
            SlotError::Truncated { .. }
        ));
        // Every single bit flip is caught (header fields or CRC).
        for byte in 0..slot.len() {
            for bit in 0..8 {
                let mut bad = slot.clone();
                bad[byte] ^= 1 << bit;
                assert!(read_model_slot(&bad, 1).is_err(), "flip {byte}.{bit}");
            }
        }
        assert!(matches!(
            payload(&slot, Kind::Replay, 1).unwrap_err(),
            SlotError::WrongKind {
                found: 1,
                expected: 2
            }
        ));
        // Never a panic on short input.
        for n in 0..slot.len() {
            let _ = read_model_slot(&slot[..n], 1);
        }
    }

    #[test]
    fn replay_slot_round_trips() {
        let samples = [0i16, -1, 32767, -32768, 5];
        let mut out = [0u8; 64];
        let n = write_replay_slot(&mut out, 3, &samples).unwrap();
        let body = payload(&out[..n], Kind::Replay, 3).unwrap();
        assert_eq!(body.len(), 10);
        assert_eq!(&body[6..8], &(-32768i16).to_le_bytes());
    }
}
