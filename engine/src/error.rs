//! The engine's one error type: small, flat, `Copy`, and phrased so a person can act on it.

use core::fmt;

use crate::model::BuiltinOp;

/// Everything that can go wrong reading, planning or running a model.
///
/// Indices are the model's own (subgraph, tensor, operator, buffer), so a message can be
/// matched against `mote inspect` output or Netron.
#[allow(missing_docs)] // variant fields are named for what they hold
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Error {
    /// The file ends before a structure it declares (offset and length needed, bytes available).
    Truncated {
        offset: u32,
        needed: u32,
        available: u32,
    },
    /// The FlatBuffer file identifier is not `TFL3`.
    BadIdentifier,
    /// The schema version is not 3.
    UnsupportedSchemaVersion { version: u32 },
    /// A FlatBuffer offset, vtable or vector points outside the file or is misaligned.
    Malformed { what: &'static str, offset: u32 },
    /// A tensor's declaration is inconsistent (negative dimension, size overflow, buffer size
    /// different from its shape); names the tensor (subgraph-local index).
    BadTensor { tensor: i32, what: &'static str },
    /// A sparse tensor (TFLite `SparsityParameters`): valid, but not supported (TFLM's
    /// reference kernels do not run them either).
    UnsupportedSparsity { tensor: i32 },
    /// An index (tensor, buffer, operator code, subgraph) is out of range.
    IndexOutOfRange {
        what: &'static str,
        index: i32,
        len: u32,
    },
    /// The model uses an operator (or a version of one) this engine does not implement.
    UnsupportedOp { op: BuiltinOp, version: i32 },
    /// A custom (non-builtin) operator.
    UnsupportedCustomOp { op_index: u32 },
    /// A tensor type the operator does not support (e.g. float input to an int8 kernel).
    UnsupportedType {
        op: BuiltinOp,
        tensor: i32,
        dtype: u8,
    },
    /// Quantization the operator does not support (hybrid, missing scale, per-channel where per-tensor is required, ...).
    UnsupportedQuantization { op: BuiltinOp, tensor: i32 },
    /// Scales whose requantization multiplier (input [× filter] / output scale) is infinite or
    /// NaN, e.g. an output scale of 0: TFLM's `QuantizeMultiplier` has no defined result for it
    /// (it aborts at prepare where its float-to-int conversion saturates). Names the output
    /// tensor (its scale divides).
    InfiniteMultiplier { op: BuiltinOp, tensor: i32 },
    /// An operator option outside what the kernel supports (e.g. an unknown padding or activation).
    UnsupportedOption { op: BuiltinOp, what: &'static str },
    /// Operand shapes that do not agree.
    ShapeMismatch { op: BuiltinOp, tensor: i32 },
    /// A tensor has more dimensions than the engine supports.
    RankTooHigh { tensor: i32, rank: u32 },
    /// The model needs more arena than the caller provided.
    ArenaTooSmall { needed: u32, available: u32 },
    /// The model's resource variables need more state memory than the caller provided.
    StateTooSmall { needed: u32, available: u32 },
    /// An input/output buffer passed to the interpreter has the wrong length.
    WrongBufferSize {
        tensor: i32,
        expected: u32,
        got: u32,
    },
    /// The model is structurally valid but cannot be run (e.g. an operator reads a tensor nothing writes).
    InvalidGraph { what: &'static str, index: i32 },
    /// A fixed engine limit is exceeded (operator inputs, subgraph nesting, ...).
    LimitExceeded { what: &'static str, limit: u32 },
    /// An audio sample rate the resampler has no filter for (see `resample::SUPPORTED_RATES`).
    UnsupportedSampleRate { rate: u32 },
    /// The model's input/output is not a known keyword-spotting layout (and no sidecar or flags say otherwise).
    NotAnAudioModel { tensor: i32 },
}

impl Error {
    /// Writes the message [`Display`](fmt::Display) prints, without `core::fmt`'s formatting
    /// machinery ([`crate::text`]): a firmware prints its errors through this alone.
    pub fn write_message(&self, w: &mut dyn crate::text::Sink) -> fmt::Result {
        use crate::text::write_template as put;
        match *self {
            Error::Truncated { offset, needed, available } => put(w, &["file truncated: ", " bytes needed at offset ", ", but the file has ", " bytes"], &[needed.into(), offset.into(), available.into()]),
            Error::BadIdentifier => {
                w.put("not a TensorFlow Lite model: the file identifier is not \"TFL3\"")
            }
            Error::UnsupportedSchemaVersion { version } => put(w, &["unsupported .tflite schema version ", " (only version 3 is supported)"], &[version.into()]),
            Error::Malformed { what, offset } => {
                put(w, &["malformed model: bad ", " at byte offset "], &[what.into(), offset.into()])
            }
            Error::BadTensor { tensor, what } => {
                put(w, &["malformed model: tensor ", ": "], &[tensor.into(), what.into()])
            }
            Error::UnsupportedSparsity { tensor } => put(w, &["tensor ", " is sparse: sparse tensors are not supported (convert the model without sparsity)"], &[tensor.into()]),
            Error::IndexOutOfRange { what, index, len } => put(w, &["malformed model: ", " index ", " is out of range (there are ", ")"], &[what.into(), index.into(), len.into()]),
            Error::UnsupportedOp { op, version } => put(w, &["unsupported operator ", " (builtin code ", ") version "], &[op.name().into(), op.0.into(), version.into()]),
            Error::UnsupportedCustomOp { op_index } => put(w, &["unsupported custom operator (operator code ", ")"], &[op_index.into()]),
            Error::UnsupportedType { op, tensor, dtype } => put(w, &["", ": tensor ", " has type ", " which this kernel does not support"], &[op.name().into(), tensor.into(), crate::model::DType::name_of(dtype).into()]),
            Error::UnsupportedQuantization { op, tensor } => put(w, &["", ": tensor ", " has quantization this kernel does not support (only full-integer int8 models run)"], &[op.name().into(), tensor.into()]),
            Error::InfiniteMultiplier { op, tensor } => put(w, &["", ": the scales give an infinite rescaling multiplier (input x filter / output scale, output tensor ", "; is its scale 0?), which TFLM cannot quantize"], &[op.name().into(), tensor.into()]),
            Error::UnsupportedOption { op, what } => {
                put(w, &["", ": unsupported option "], &[op.name().into(), what.into()])
            }
            Error::ShapeMismatch { op, tensor } => put(w, &["", ": tensor ", " has a shape the operator cannot accept"], &[op.name().into(), tensor.into()]),
            Error::RankTooHigh { tensor, rank } => put(w, &["tensor ", " has ", " dimensions; at most ", " are supported"], &[tensor.into(), rank.into(), crate::model::MAX_RANK.into()]),
            Error::ArenaTooSmall { needed, available } => put(w, &["arena too small: the model needs ", " bytes, ", " were provided"], &[needed.into(), available.into()]),
            Error::StateTooSmall { needed, available } => put(w, &["state buffer too small: the model's variables need ", " bytes, ", " were provided"], &[needed.into(), available.into()]),
            Error::WrongBufferSize { tensor, expected, got } => put(w, &["tensor ", " takes exactly ", " bytes, ", " were given"], &[tensor.into(), expected.into(), got.into()]),
            Error::InvalidGraph { what, index } => {
                put(w, &["invalid graph: ", " (", ")"], &[what.into(), index.into()])
            }
            Error::LimitExceeded { what, limit } => {
                put(w, &["engine limit exceeded: at most ", " "], &[limit.into(), what.into()])
            }
            Error::NotAnAudioModel { tensor } => put(w, &["tensor ", " does not look like a keyword model's: expected int8 input 49x40 (micro_speech), [1, N, 40] (microWakeWord) or 49x10 MFCCs (MLPerf Tiny KWS; a sidecar with feature_type \"mfcc\" allows other frame counts) and an int8/uint8 score output"], &[tensor.into()]),
            Error::UnsupportedSampleRate { rate } => put(w, &["unsupported sample rate ", " Hz (supported: 8000, 16000, 22050, 24000, 32000, 44100, 48000, 88200, 96000)"], &[rate.into()]),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.write_message(f)
    }
}

impl core::error::Error for Error {}
