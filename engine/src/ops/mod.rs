//! Operators: one file per TFLite builtin, each with `prepare` (validate, precompute) and
//! `eval` (compute only), dispatched by one exhaustive `match` on the builtin code.
//!
//! `prepare` sees the operator's tensors through [`PrepareCtx`] and returns a small `Copy`
//! `Params` struct; anything per-channel goes into persistent `i32` words it allocates through
//! the context (the interpreter keeps those words in the arena). `eval` receives only raw byte
//! slices (inputs, outputs) and the words: shapes it needs were copied into `Params`.

pub mod common;
pub mod dsp;
pub mod literal;
pub mod stored;

pub mod add;
pub mod assign_variable;
pub mod average_pool_2d;
pub mod concatenation;
pub mod conv_2d;
pub mod depthwise_conv_2d;
pub mod dequantize;
pub mod fully_connected;
pub mod logistic;
pub mod max_pool_2d;
pub mod mean;
pub mod mul;
pub mod pad;
pub mod quantize;
pub mod read_variable;
pub mod relu;
pub mod relu6;
pub mod softmax;
pub mod split;
pub mod split_v;
pub mod strided_slice;
pub mod sub;
pub mod tanh;

use crate::error::Error;
use crate::model::{BuiltinOp, Options, Tensor};
use stored::{load, store, NoUninit, Stored};

/// The most inputs an operator may have (CONCATENATION is the widest in practice).
pub const MAX_INPUTS: usize = 16;
/// The most outputs an operator may have (SPLIT / SPLIT_V).
pub const MAX_OUTPUTS: usize = 16;

/// A range of persistent words allocated at prepare time.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Span {
    /// First word.
    pub start: u32,
    /// Number of words.
    pub len: u32,
}

/// Persistent `i32` words being handed out during prepare.
///
/// In *measure* mode (planning without an arena) `buf` is `None`: allocations are counted and
/// writes are dropped, so the same `prepare` code sizes and fills the arena.
pub struct WordAlloc<'w> {
    buf: Option<&'w mut [i32]>,
    used: usize,
}

impl<'w> WordAlloc<'w> {
    /// Count words only.
    pub fn measure() -> Self {
        WordAlloc { buf: None, used: 0 }
    }
    /// Hand out words from `buf`.
    pub fn new(buf: &'w mut [i32]) -> Self {
        WordAlloc {
            buf: Some(buf),
            used: 0,
        }
    }
    /// Words handed out so far.
    pub fn used(&self) -> usize {
        self.used
    }
    pub(crate) fn alloc(&mut self, n: usize) -> Result<(Span, WordsMut<'_>), Error> {
        let start = self.used;
        let end = start.checked_add(n).ok_or(Error::LimitExceeded {
            what: "persistent words",
            limit: u32::MAX,
        })?;
        let span = Span {
            start: start as u32,
            len: n as u32,
        };
        self.used = end;
        let words = match self.buf.as_deref_mut() {
            None => None,
            Some(b) => {
                let avail = b.len();
                Some(b.get_mut(start..end).ok_or(Error::ArenaTooSmall {
                    needed: (end * 4) as u32,
                    available: (avail * 4) as u32,
                })?)
            }
        };
        Ok((span, WordsMut(words)))
    }
}

/// Words just allocated; writes are dropped in measure mode.
pub struct WordsMut<'a>(pub(crate) Option<&'a mut [i32]>);
impl WordsMut<'_> {
    /// Store `v` at word `i` of the allocation (ignored if out of range or measuring).
    #[inline]
    pub fn set(&mut self, i: usize, v: i32) {
        if let Some(w) = self.0.as_deref_mut().and_then(|b| b.get_mut(i)) {
            *w = v;
        }
    }
}

/// What an operator's `prepare` can see.
pub struct PrepareCtx<'p, 'm, 'w> {
    /// The builtin operator.
    pub op: BuiltinOp,
    /// Its version.
    pub version: i32,
    /// Its builtin options table.
    pub options: Options<'m>,
    /// Inputs as (tensor index, tensor); `None` for an absent optional input (-1).
    pub inputs: &'p [Option<(i32, Tensor<'m>)>],
    /// Outputs as (tensor index, tensor).
    pub outputs: &'p [(i32, Tensor<'m>)],
    /// Persistent words for per-channel data.
    pub words: &'p mut WordAlloc<'w>,
}

impl<'m> PrepareCtx<'_, 'm, '_> {
    /// Input `i`, which must be present.
    pub fn input(&self, i: usize) -> Result<Tensor<'m>, Error> {
        match self.inputs.get(i) {
            Some(Some((_, t))) => Ok(*t),
            _ => Err(Error::InvalidGraph {
                what: "missing operator input",
                index: i as i32,
            }),
        }
    }
    /// Input `i` if present (optional inputs such as a bias).
    pub fn optional_input(&self, i: usize) -> Option<Tensor<'m>> {
        self.inputs.get(i).copied().flatten().map(|(_, t)| t)
    }
    /// The model's tensor index of input `i` (-1 if absent), for error messages.
    pub fn input_index(&self, i: usize) -> i32 {
        self.inputs.get(i).copied().flatten().map_or(-1, |(k, _)| k)
    }
    /// Output `i`.
    pub fn output(&self, i: usize) -> Result<Tensor<'m>, Error> {
        self.outputs
            .get(i)
            .map(|(_, t)| *t)
            .ok_or(Error::InvalidGraph {
                what: "missing operator output",
                index: i as i32,
            })
    }
    /// The model's tensor index of output `i`.
    pub fn output_index(&self, i: usize) -> i32 {
        self.outputs.get(i).map_or(-1, |(k, _)| *k)
    }
    /// Allocate `n` persistent words.
    pub fn alloc_words(&mut self, n: usize) -> Result<(Span, WordsMut<'_>), Error> {
        self.words.alloc(n)
    }
    /// `UnsupportedType` naming input `i`.
    pub fn bad_input_type(&self, i: usize) -> Error {
        let dtype = self
            .inputs
            .get(i)
            .copied()
            .flatten()
            .map_or(0, |(_, t)| t.dtype.code());
        Error::UnsupportedType {
            op: self.op,
            tensor: self.input_index(i),
            dtype,
        }
    }
    /// `UnsupportedType` naming output `i`.
    pub fn bad_output_type(&self, i: usize) -> Error {
        let dtype = self.outputs.get(i).map_or(0, |(_, t)| t.dtype.code());
        Error::UnsupportedType {
            op: self.op,
            tensor: self.output_index(i),
            dtype,
        }
    }
    /// `ShapeMismatch` naming model tensor `tensor`.
    pub fn shape_mismatch(&self, tensor: i32) -> Error {
        Error::ShapeMismatch {
            op: self.op,
            tensor,
        }
    }
    /// `UnsupportedQuantization` naming model tensor `tensor`.
    pub fn bad_quant(&self, tensor: i32) -> Error {
        Error::UnsupportedQuantization {
            op: self.op,
            tensor,
        }
    }
    /// `InfiniteMultiplier` naming output 0.
    pub fn infinite_multiplier(&self) -> Error {
        Error::InfiniteMultiplier {
            op: self.op,
            tensor: self.output_index(0),
        }
    }
    /// `UnsupportedOption`.
    pub fn bad_option(&self, what: &'static str) -> Error {
        Error::UnsupportedOption { op: self.op, what }
    }
    /// `UnsupportedOp` for this operator and version.
    pub fn unsupported(&self) -> Error {
        Error::UnsupportedOp {
            op: self.op,
            version: self.version,
        }
    }
}

/// What an operator's `eval` gets: data only.
///
/// `inputs[i]` is the bytes of input `i` (empty for an absent optional input); `outputs[i]` the
/// bytes of output `i`. The interpreter guarantees their lengths equal the tensors' byte sizes
/// validated at prepare time, and that no output overlaps any input or other output.
pub struct EvalCtx<'a, 'b> {
    /// Input tensor bytes, by operator input position.
    pub inputs: &'a [&'b [u8]],
    /// Output tensor bytes, by operator output position.
    pub outputs: &'a mut [&'b mut [u8]],
    /// All persistent words; index with a [`Span`] from prepare.
    pub words: &'b [i32],
    /// The resource-variable state buffer (only READ/ASSIGN_VARIABLE use it).
    pub state: &'a mut [u8],
}

impl<'b> EvalCtx<'_, 'b> {
    /// The words of `span` (empty if out of range, which prepare makes impossible).
    #[inline]
    pub fn words(&self, span: Span) -> &'b [i32] {
        let s = span.start as usize;
        self.words.get(s..s + span.len as usize).unwrap_or(&[])
    }
    /// Input `i`'s bytes.
    #[inline]
    pub fn input(&self, i: usize) -> &'b [u8] {
        self.inputs.get(i).copied().unwrap_or(&[])
    }
}

/// Input 0 and output 0 of an operator that runs *in place*: their bytes may overlap, so the
/// kernel gets one exclusive view of both and where each starts in it (never a `&` and a
/// `&mut` over the same bytes). Only kernels with an `eval_in_place` take one; the planner lets
/// the two overlap only as far as [`in_place_gap`] allows.
pub struct InPlace<'a> {
    /// Every byte of input 0 and output 0 (and possibly bytes between them).
    pub bytes: &'a mut [u8],
    /// Offset of input 0 in `bytes`.
    pub input: usize,
    /// Offset of output 0 in `bytes`.
    pub output: usize,
}

/// Prepared state of one operator: which kernel and its parameters.
#[allow(missing_docs)] // one variant per builtin, named after it
#[derive(Clone, Copy, Debug)]
pub enum Kernel {
    /// RESHAPE, SQUEEZE, EXPAND_DIMS: the output aliases the input; nothing to compute.
    Alias,
    /// VAR_HANDLE: resolved statically at prepare time; nothing to compute.
    VarHandle,
    /// CALL_ONCE: the interpreter runs subgraph `subgraph` on the first invoke only.
    CallOnce {
        /// The init subgraph.
        subgraph: u32,
    },
    Add(Stored<add::Params>),
    AssignVariable(assign_variable::Params),
    AveragePool2D(Stored<average_pool_2d::Params>),
    Concatenation(Stored<concatenation::Params>),
    Conv2D(Stored<conv_2d::Params>),
    DepthwiseConv2D(Stored<depthwise_conv_2d::Params>),
    Dequantize(Stored<dequantize::Params>),
    FullyConnected(Stored<fully_connected::Params>),
    Logistic(Stored<logistic::Params>),
    MaxPool2D(Stored<max_pool_2d::Params>),
    Mean(Stored<mean::Params>),
    Mul(Stored<mul::Params>),
    Pad(Stored<pad::Params>),
    Quantize(Stored<quantize::Params>),
    ReadVariable(read_variable::Params),
    Relu(Stored<relu::Params>),
    Relu6(Stored<relu6::Params>),
    Softmax(Stored<softmax::Params>),
    Split(Stored<split::Params>),
    SplitV(Stored<split_v::Params>),
    StridedSlice(Stored<strided_slice::Params>),
    Sub(Stored<sub::Params>),
    Tanh(Stored<tanh::Params>),
}

/// A [`Kernel`] as the interpreter keeps it in the caller's arena: three words, every byte
/// initialised (an enum with payloads would leave padding and unused payload bytes
/// uninitialised in memory the caller owns). Only [`Kernel::slot`] writes one.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[repr(C)]
pub struct KernelSlot {
    /// Bits 0..8: the kind (see `kind!` below); bit 8: `Stored::written`; bits 16..24:
    /// ASSIGN_VARIABLE's default byte.
    tag: u32,
    /// Span start, subgraph, or variable offset.
    a: u32,
    /// Span length or variable length.
    b: u32,
}
stored::no_uninit!(KernelSlot {
    tag: u32,
    a: u32,
    b: u32
});

/// Maps each [`Kernel`] kind to its slot tag and back, once, so the two cannot disagree.
macro_rules! kernel_slots {
    ($($tag:literal => $variant:ident),* $(,)?) => {
        impl Kernel {
            /// This kernel as a slot.
            pub fn slot(self) -> KernelSlot {
                let (tag, a, b) = match self {
                    Kernel::Alias => (0, 0, 0),
                    Kernel::VarHandle => (1, 0, 0),
                    Kernel::CallOnce { subgraph } => (2, subgraph, 0),
                    Kernel::AssignVariable(p) => (3 | (p.default as u32) << 16, p.offset, p.len),
                    Kernel::ReadVariable(p) => (4, p.offset, p.len),
                    $(Kernel::$variant(p) => ($tag | (p.written as u32) << 8, p.span.start, p.span.len),)*
                };
                KernelSlot { tag, a, b }
            }
        }
        impl KernelSlot {
            /// The kernel this slot holds.
            pub fn kernel(self) -> Kernel {
                let KernelSlot { tag, a, b } = self;
                let span = Span { start: a, len: b };
                let written = tag & 0x100 != 0;
                match tag & 0xFF {
                    1 => Kernel::VarHandle,
                    2 => Kernel::CallOnce { subgraph: a },
                    3 => Kernel::AssignVariable(assign_variable::Params {
                        offset: a,
                        len: b,
                        default: (tag >> 16) as u8,
                    }),
                    4 => Kernel::ReadVariable(read_variable::Params { offset: a, len: b }),
                    $($tag => Kernel::$variant(Stored::from_parts(span, written)),)*
                    // 0, and nothing else: only `Kernel::slot` writes slots.
                    _ => Kernel::Alias,
                }
            }
        }
    };
}
kernel_slots! {
    5 => Add, 6 => AveragePool2D, 7 => Concatenation, 8 => Conv2D, 9 => DepthwiseConv2D,
    10 => Dequantize, 11 => FullyConnected, 12 => Logistic, 13 => MaxPool2D, 14 => Mean,
    15 => Mul, 16 => Pad, 17 => Quantize, 18 => Relu, 19 => Relu6, 20 => Softmax, 21 => Split,
    22 => SplitV, 23 => StridedSlice, 24 => Sub, 25 => Tanh,
}

/// Whether operator `$name` (a builtin name) is linked in: always, unless the build selected
/// a subset with `MOTE_OPS` (see the engine's build script). A constant, so the match arms of
/// unselected operators — and their kernels — are compiled out.
macro_rules! linked {
    ($($name:literal),+) => {
        cfg!(any(not(mote_ops_selected), $(mote_op = $name),+))
    };
}

/// Prepare the kernel for one operator (everything except the ops the interpreter resolves
/// structurally: RESHAPE/SQUEEZE/EXPAND_DIMS, VAR_HANDLE, CALL_ONCE).
pub fn prepare(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Kernel, Error> {
    use BuiltinOp as B;
    Ok(match ctx.op {
        B::ADD if linked!("ADD") => Kernel::Add(prep(ctx, add::prepare)?),
        B::ASSIGN_VARIABLE if linked!("ASSIGN_VARIABLE") => {
            Kernel::AssignVariable(assign_variable::prepare(ctx)?)
        }
        B::AVERAGE_POOL_2D if linked!("AVERAGE_POOL_2D") => {
            Kernel::AveragePool2D(prep(ctx, average_pool_2d::prepare)?)
        }
        B::CONCATENATION if linked!("CONCATENATION") => {
            Kernel::Concatenation(prep(ctx, concatenation::prepare)?)
        }
        B::CONV_2D if linked!("CONV_2D") => Kernel::Conv2D(prep(ctx, conv_2d::prepare)?),
        B::DEPTHWISE_CONV_2D if linked!("DEPTHWISE_CONV_2D") => {
            Kernel::DepthwiseConv2D(prep(ctx, depthwise_conv_2d::prepare)?)
        }
        B::DEQUANTIZE if linked!("DEQUANTIZE") => {
            Kernel::Dequantize(prep(ctx, dequantize::prepare)?)
        }
        B::FULLY_CONNECTED if linked!("FULLY_CONNECTED") => {
            Kernel::FullyConnected(prep(ctx, fully_connected::prepare)?)
        }
        B::LOGISTIC if linked!("LOGISTIC") => Kernel::Logistic(prep(ctx, logistic::prepare)?),
        B::MAX_POOL_2D if linked!("MAX_POOL_2D") => {
            Kernel::MaxPool2D(prep(ctx, max_pool_2d::prepare)?)
        }
        B::MEAN if linked!("MEAN") => Kernel::Mean(prep(ctx, mean::prepare)?),
        B::MUL if linked!("MUL") => Kernel::Mul(prep(ctx, mul::prepare)?),
        B::PAD | B::PADV2 if linked!("PAD", "PADV2") => Kernel::Pad(prep(ctx, pad::prepare)?),
        B::QUANTIZE if linked!("QUANTIZE") => Kernel::Quantize(prep(ctx, quantize::prepare)?),
        B::READ_VARIABLE if linked!("READ_VARIABLE") => {
            Kernel::ReadVariable(read_variable::prepare(ctx)?)
        }
        B::RELU if linked!("RELU") => Kernel::Relu(prep(ctx, relu::prepare)?),
        B::RELU6 if linked!("RELU6") => Kernel::Relu6(prep(ctx, relu6::prepare)?),
        B::SOFTMAX if linked!("SOFTMAX") => Kernel::Softmax(prep(ctx, softmax::prepare)?),
        B::SPLIT if linked!("SPLIT") => Kernel::Split(prep(ctx, split::prepare)?),
        B::SPLIT_V if linked!("SPLIT_V") => Kernel::SplitV(prep(ctx, split_v::prepare)?),
        B::STRIDED_SLICE if linked!("STRIDED_SLICE") => {
            Kernel::StridedSlice(prep(ctx, strided_slice::prepare)?)
        }
        B::SUB if linked!("SUB") => Kernel::Sub(prep(ctx, sub::prepare)?),
        B::TANH if linked!("TANH") => Kernel::Tanh(prep(ctx, tanh::prepare)?),
        _ => return Err(ctx.unsupported()),
    })
}

/// Whether this build of the engine runs `op` (the builtins [`prepare`] dispatches, plus the
/// ones the interpreter resolves structurally), for listing every unsupported operator at once.
// One arm per builtin, as in `prepare`; `linked!` is a constant per build, hence the lint.
#[allow(clippy::match_like_matches_macro)]
pub fn supported(op: BuiltinOp) -> bool {
    use BuiltinOp as B;
    match op {
        B::RESHAPE | B::SQUEEZE | B::EXPAND_DIMS | B::CALL_ONCE | B::VAR_HANDLE => true,
        B::ADD => linked!("ADD"),
        B::ASSIGN_VARIABLE => linked!("ASSIGN_VARIABLE"),
        B::AVERAGE_POOL_2D => linked!("AVERAGE_POOL_2D"),
        B::CONCATENATION => linked!("CONCATENATION"),
        B::CONV_2D => linked!("CONV_2D"),
        B::DEPTHWISE_CONV_2D => linked!("DEPTHWISE_CONV_2D"),
        B::DEQUANTIZE => linked!("DEQUANTIZE"),
        B::FULLY_CONNECTED => linked!("FULLY_CONNECTED"),
        B::LOGISTIC => linked!("LOGISTIC"),
        B::MAX_POOL_2D => linked!("MAX_POOL_2D"),
        B::MEAN => linked!("MEAN"),
        B::MUL => linked!("MUL"),
        B::PAD | B::PADV2 => linked!("PAD", "PADV2"),
        B::QUANTIZE => linked!("QUANTIZE"),
        B::READ_VARIABLE => linked!("READ_VARIABLE"),
        B::RELU => linked!("RELU"),
        B::RELU6 => linked!("RELU6"),
        B::SOFTMAX => linked!("SOFTMAX"),
        B::SPLIT => linked!("SPLIT"),
        B::SPLIT_V => linked!("SPLIT_V"),
        B::STRIDED_SLICE => linked!("STRIDED_SLICE"),
        B::SUB => linked!("SUB"),
        B::TANH => linked!("TANH"),
        _ => false,
    }
}

/// Run one prepared kernel. Crate-private: only the interpreter holds the words its kernels'
/// [`Stored`] parameters point into.
pub(crate) fn eval(kernel: &Kernel, ctx: &mut EvalCtx<'_, '_>) -> Result<(), Error> {
    match kernel {
        Kernel::Alias | Kernel::VarHandle | Kernel::CallOnce { .. } => Ok(()),
        Kernel::Add(p) if linked!("ADD") => add::eval(&load(ctx.words, *p)?, ctx),
        Kernel::AssignVariable(p) => assign_variable::eval(p, ctx),
        Kernel::AveragePool2D(p) if linked!("AVERAGE_POOL_2D") => {
            average_pool_2d::eval(&load(ctx.words, *p)?, ctx)
        }
        Kernel::Concatenation(p) if linked!("CONCATENATION") => {
            concatenation::eval(&load(ctx.words, *p)?, ctx)
        }
        Kernel::Conv2D(p) if linked!("CONV_2D") => conv_2d::eval(&load(ctx.words, *p)?, ctx),
        Kernel::DepthwiseConv2D(p) if linked!("DEPTHWISE_CONV_2D") => {
            depthwise_conv_2d::eval(&load(ctx.words, *p)?, ctx)
        }
        Kernel::Dequantize(p) if linked!("DEQUANTIZE") => {
            dequantize::eval(&load(ctx.words, *p)?, ctx)
        }
        Kernel::FullyConnected(p) if linked!("FULLY_CONNECTED") => {
            fully_connected::eval(&load(ctx.words, *p)?, ctx)
        }
        Kernel::Logistic(p) if linked!("LOGISTIC") => logistic::eval(&load(ctx.words, *p)?, ctx),
        Kernel::MaxPool2D(p) if linked!("MAX_POOL_2D") => {
            max_pool_2d::eval(&load(ctx.words, *p)?, ctx)
        }
        Kernel::Mean(p) if linked!("MEAN") => mean::eval(&load(ctx.words, *p)?, ctx),
        Kernel::Mul(p) if linked!("MUL") => mul::eval(&load(ctx.words, *p)?, ctx),
        Kernel::Pad(p) if linked!("PAD", "PADV2") => pad::eval(&load(ctx.words, *p)?, ctx),
        Kernel::Quantize(p) if linked!("QUANTIZE") => quantize::eval(&load(ctx.words, *p)?, ctx),
        Kernel::ReadVariable(p) => read_variable::eval(p, ctx),
        Kernel::Relu(p) if linked!("RELU") => relu::eval(&load(ctx.words, *p)?, ctx),
        Kernel::Relu6(p) if linked!("RELU6") => relu6::eval(&load(ctx.words, *p)?, ctx),
        Kernel::Softmax(p) if linked!("SOFTMAX") => softmax::eval(&load(ctx.words, *p)?, ctx),
        Kernel::Split(p) if linked!("SPLIT") => split::eval(&load(ctx.words, *p)?, ctx),
        Kernel::SplitV(p) if linked!("SPLIT_V") => split_v::eval(&load(ctx.words, *p)?, ctx),
        Kernel::StridedSlice(p) if linked!("STRIDED_SLICE") => {
            strided_slice::eval(&load(ctx.words, *p)?, ctx)
        }
        Kernel::Sub(p) if linked!("SUB") => sub::eval(&load(ctx.words, *p)?, ctx),
        Kernel::Tanh(p) if linked!("TANH") => tanh::eval(&load(ctx.words, *p)?, ctx),
        // Only reachable for an operator compiled out, whose prepare already failed.
        _ => Err(Error::UnsupportedOp {
            op: BuiltinOp(-1),
            version: 0,
        }),
    }
}

/// Multiply-accumulates one prepared kernel performs per invoke (for the report).
pub(crate) fn macs(kernel: &Kernel, words: &[i32]) -> u64 {
    match kernel {
        Kernel::Conv2D(p) => load(words, *p).map_or(0, |p| p.macs()),
        Kernel::DepthwiseConv2D(p) => load(words, *p).map_or(0, |p| p.macs()),
        Kernel::FullyConnected(p) => load(words, *p).map_or(0, |p| p.macs()),
        _ => 0,
    }
}

/// Whether operator `op` has an in-place evaluation ([`eval_in_place`]) in this build.
// `linked!` is a constant per build, hence the lint (as in `supported`).
#[allow(clippy::match_like_matches_macro)]
pub(crate) fn may_run_in_place(op: BuiltinOp) -> bool {
    match op {
        BuiltinOp::CONV_2D => linked!("CONV_2D"),
        BuiltinOp::DEPTHWISE_CONV_2D => linked!("DEPTHWISE_CONV_2D"),
        _ => false,
    }
}

/// [`in_place_gap`] at prepare time, before the kernel's `Params` are stored: `ctx` should
/// count words only (its allocations are thrown away).
pub(crate) fn prepare_in_place_gap(ctx: &mut PrepareCtx<'_, '_, '_>) -> Result<Option<i32>, Error> {
    Ok(match ctx.op {
        BuiltinOp::CONV_2D if linked!("CONV_2D") => conv_2d::in_place_gap(&conv_2d::prepare(ctx)?),
        BuiltinOp::DEPTHWISE_CONV_2D if linked!("DEPTHWISE_CONV_2D") => {
            depthwise_conv_2d::in_place_gap(&depthwise_conv_2d::prepare(ctx)?)
        }
        _ => None,
    })
}

/// How far input 0 of `kernel` may overlap its output 0: the input may start at or above
/// `output offset + gap` bytes (`gap` may be negative), or anywhere disjoint. `None`: the
/// kernel has no in-place evaluation, or it would never let the two overlap.
pub fn in_place_gap(kernel: &Kernel, words: &[i32]) -> Option<i32> {
    match kernel {
        Kernel::Conv2D(p) if linked!("CONV_2D") => conv_2d::in_place_gap(&load(words, *p).ok()?),
        Kernel::DepthwiseConv2D(p) if linked!("DEPTHWISE_CONV_2D") => {
            depthwise_conv_2d::in_place_gap(&load(words, *p).ok()?)
        }
        _ => None,
    }
}

/// Run a prepared kernel whose input 0 and output 0 share `io` (`ctx.inputs[0]` and
/// `ctx.outputs[0]` are unused). Only kernels with an [`in_place_gap`] accept this.
pub(crate) fn eval_in_place(
    kernel: &Kernel,
    ctx: &mut EvalCtx<'_, '_>,
    io: InPlace<'_>,
) -> Result<(), Error> {
    match kernel {
        Kernel::Conv2D(p) if linked!("CONV_2D") => {
            conv_2d::eval_in_place(&load(ctx.words, *p)?, ctx, io)
        }
        Kernel::DepthwiseConv2D(p) if linked!("DEPTHWISE_CONV_2D") => {
            depthwise_conv_2d::eval_in_place(&load(ctx.words, *p)?, ctx, io)
        }
        _ => Err(Error::InvalidGraph {
            what: "operator cannot run in place",
            index: -1,
        }),
    }
}

/// Run an op's `prepare` and keep its `Params` in the words.
fn prep<'m, T: NoUninit>(
    ctx: &mut PrepareCtx<'_, 'm, '_>,
    f: fn(&mut PrepareCtx<'_, 'm, '_>) -> Result<T, Error>,
) -> Result<Stored<T>, Error> {
    let v = f(ctx)?;
    store(ctx.words, v)
}
