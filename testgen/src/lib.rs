//! Seeded single-operator int8 `.tflite` cases for sweeping the engine's kernels.
//!
//! Case `i` of the sweep is a pure function of `i` ([`case`]): an operator (CONV_2D,
//! DEPTHWISE_CONV_2D, FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, ADD, MUL), its shapes,
//! options and quantization. [`write_model`] writes its model into a caller's buffer (a
//! minimal FlatBuffer writer, [`flatbuf`]), [`fill_input`] its input bytes, and [`run`] runs it
//! through `mote_engine` and returns an FNV-1a hash of the output. The same code runs on the
//! host (portable or emulated DSP kernels), in the sweep firmware on a Cortex-M4 in QEMU
//! (`testgen/firmware/`), and feeds the TFLM interpreter (`scripts/oracle/sweep_tflm.py`), so
//! their hashes compare case by case.
//!
//! No allocator, no floating-point library calls: scales are exact powers of two times a
//! 16-bit mantissa, so every target builds bit-identical models. Each case fits the QEMU
//! board's RAM: model ≤ [`MODEL_BYTES`], arena ≤ [`ARENA_BYTES`].
#![no_std]
#![forbid(unsafe_code)]
#![warn(missing_docs)]

pub mod flatbuf;

use core::fmt;

use flatbuf::{field, Writer};
use mote_engine::{Interpreter, Model};

/// Cases in the standard sweep (device, host, and the TFLM subset every [`TFLM_EVERY`]th).
pub const SWEEP_CASES: u32 = 9600;
/// The TFLM golden subset: cases whose index is a multiple of this.
pub const TFLM_EVERY: u32 = 15;
/// Bytes of the model buffer every case fits.
pub const MODEL_BYTES: usize = 24 * 1024;
/// Bytes of the tensor arena every case fits.
pub const ARENA_BYTES: usize = 40 * 1024;

/// Constant weights per case (filter bytes).
const MAX_WEIGHTS: usize = 16 * 1024;
/// Activation bytes per case (inputs + output).
const MAX_ACTIVATIONS: usize = 20 * 1024;
/// Multiply-accumulates (or output elements × window) per case, to bound QEMU time.
const MAX_MACS: usize = 120_000;
/// Mixed into every case's seed.
const SWEEP_SEED: u64 = 0x4d4f_5445_5357_4550; // "MOTESWEP"

/// Operators of the sweep.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OpKind {
    /// CONV_2D.
    Conv,
    /// DEPTHWISE_CONV_2D.
    Depthwise,
    /// FULLY_CONNECTED.
    FullyConnected,
    /// AVERAGE_POOL_2D.
    AvgPool,
    /// MAX_POOL_2D.
    MaxPool,
    /// ADD.
    Add,
    /// MUL.
    Mul,
}

impl OpKind {
    /// Every kind, in report order.
    pub const ALL: [OpKind; 7] = [
        OpKind::Conv,
        OpKind::Depthwise,
        OpKind::FullyConnected,
        OpKind::AvgPool,
        OpKind::MaxPool,
        OpKind::Add,
        OpKind::Mul,
    ];

    /// The TFLite builtin name.
    pub fn name(self) -> &'static str {
        match self {
            OpKind::Conv => "CONV_2D",
            OpKind::Depthwise => "DEPTHWISE_CONV_2D",
            OpKind::FullyConnected => "FULLY_CONNECTED",
            OpKind::AvgPool => "AVERAGE_POOL_2D",
            OpKind::MaxPool => "MAX_POOL_2D",
            OpKind::Add => "ADD",
            OpKind::Mul => "MUL",
        }
    }

    /// Schema `BuiltinOperator` code.
    fn builtin(self) -> u32 {
        match self {
            OpKind::Add => 0,
            OpKind::AvgPool => 1,
            OpKind::Conv => 3,
            OpKind::Depthwise => 4,
            OpKind::FullyConnected => 9,
            OpKind::MaxPool => 17,
            OpKind::Mul => 18,
        }
    }

    /// Schema `BuiltinOptions` union tag.
    fn options_type(self) -> u32 {
        match self {
            OpKind::Conv => 1,
            OpKind::Depthwise => 2,
            OpKind::AvgPool | OpKind::MaxPool => 5,
            OpKind::FullyConnected => 8,
            OpKind::Add => 11,
            OpKind::Mul => 21,
        }
    }

    /// Graph inputs (ADD and MUL take two).
    pub fn inputs(self) -> usize {
        match self {
            OpKind::Add | OpKind::Mul => 2,
            _ => 1,
        }
    }
}

/// One generated case. Shapes are NHWC; for FULLY_CONNECTED `in_c` is the accumulation depth
/// and `out_c` the units; for ADD/MUL `in_*` is input 1's shape and `in2` input 2's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Case {
    /// Index in the sweep.
    pub index: u32,
    /// The operator.
    pub op: OpKind,
    /// Seed of the case's weights, biases, per-channel scales and inputs.
    pub seed: u64,
    /// Batches.
    pub batch: u16,
    /// Input height.
    pub in_h: u16,
    /// Input width.
    pub in_w: u16,
    /// Input channels (FULLY_CONNECTED: accumulation depth).
    pub in_c: u16,
    /// Output channels (DEPTHWISE: `in_c * depth_mult`; FULLY_CONNECTED: units).
    pub out_c: u16,
    /// DEPTHWISE_CONV_2D depth multiplier.
    pub depth_mult: u8,
    /// CONV_2D channel groups (the filter sees `in_c / groups` channels).
    pub groups: u8,
    /// Filter (or pooling window) height.
    pub fh: u8,
    /// Filter (or pooling window) width.
    pub fw: u8,
    /// Stride along the height.
    pub sh: u8,
    /// Stride along the width.
    pub sw: u8,
    /// Dilation along the height.
    pub dh: u8,
    /// Dilation along the width.
    pub dw: u8,
    /// Padding VALID (else SAME).
    pub valid: bool,
    /// Fused activation (schema code: 0 NONE, 1 RELU, 3 RELU6).
    pub act: u8,
    /// Has a bias tensor.
    pub bias: bool,
    /// Per-channel filter scales (else one scale).
    pub per_channel: bool,
    /// Some per-channel scales are extreme (tiny: shifts below -31; large: left shifts).
    pub extreme_scales: bool,
    /// Input (1) zero point.
    pub in_zp: i8,
    /// Input 2 zero point (ADD, MUL).
    pub in2_zp: i8,
    /// Output zero point.
    pub out_zp: i8,
    /// Input (1) scale.
    pub in_scale: f32,
    /// Input 2 scale (ADD, MUL).
    pub in2_scale: f32,
    /// Output scale.
    pub out_scale: f32,
    /// Base filter scale (per-channel scales vary around it).
    pub filter_scale: f32,
    /// Input 2 shape (ADD, MUL; broadcast dims are 1).
    pub in2: [u16; 4],
    /// Rank of input 2 (ADD, MUL): its shape is the last `in2_rank` dims of `in2` (the
    /// others are 1), broadcast against input 1's rank 4 like numpy.
    pub in2_rank: u8,
    /// How input bytes are drawn: 0 uniform, 1 only -128/127, 2 near the zero point.
    pub input_style: u8,
    /// How weight bytes are drawn: 0 uniform, 1 only -128/-127/127.
    pub weight_style: u8,
    /// Bias magnitude: 0 small (2^12), 1 medium (2^18), 2 large (2^28).
    pub bias_style: u8,
}

/// SplitMix64: tiny, seedable, and the same on every target.
#[derive(Clone, Debug)]
pub struct Rng(u64);

impl Rng {
    /// A generator from a seed.
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `0..n` (`n > 0`; 0 for `n == 0`).
    pub fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * n as u64) >> 32) as u32
    }

    /// Uniform in `lo..=hi`.
    pub fn range(&mut self, lo: i32, hi: i32) -> i32 {
        lo + self.below((hi - lo + 1) as u32) as i32
    }

    /// True with probability `pct` percent.
    pub fn chance(&mut self, pct: u32) -> bool {
        self.below(100) < pct
    }

    /// `m * 2^e` with `m` in [1, 2) (16-bit mantissa) and `e` uniform in `lo..=hi` (exact).
    pub fn scale(&mut self, lo: i32, hi: i32) -> f32 {
        let m = 1.0 + self.below(1 << 16) as f32 / 65536.0;
        m * pow2(self.range(lo, hi))
    }

    fn byte(&mut self) -> u8 {
        (self.next_u64() >> 56) as u8
    }
}

/// `2^e` for `e` in -126..=127 (exact; clamped outside).
pub fn pow2(e: i32) -> f32 {
    f32::from_bits(((e.clamp(-126, 127) + 127) as u32) << 23)
}

fn isqrt(n: usize) -> usize {
    let mut r = 0usize;
    while (r + 1) * (r + 1) <= n {
        r += 1;
    }
    r
}

/// `(filter - 1) * dilation + 1`.
fn effective(f: u8, d: u8) -> usize {
    (f as usize - 1) * d as usize + 1
}

/// TFLM `ComputeOutSize`.
fn out_size(valid: bool, input: usize, f: u8, d: u8, stride: u8) -> usize {
    let s = stride as usize;
    if valid {
        (input + s).saturating_sub(effective(f, d)) / s
    } else {
        input.div_ceil(s)
    }
}

impl Case {
    /// Output height.
    pub fn out_h(&self) -> usize {
        match self.op {
            OpKind::FullyConnected => 1,
            OpKind::Add | OpKind::Mul => self.in_h.max(self.in2[1]) as usize,
            _ => out_size(self.valid, self.in_h as usize, self.fh, self.dh, self.sh),
        }
    }

    /// Output width.
    pub fn out_w(&self) -> usize {
        match self.op {
            OpKind::FullyConnected => 1,
            OpKind::Add | OpKind::Mul => self.in_w.max(self.in2[2]) as usize,
            _ => out_size(self.valid, self.in_w as usize, self.fw, self.dw, self.sw),
        }
    }

    /// Output batches.
    fn out_b(&self) -> usize {
        match self.op {
            OpKind::Add | OpKind::Mul => self.batch.max(self.in2[0]) as usize,
            _ => self.batch as usize,
        }
    }

    /// Output channels.
    fn out_ch(&self) -> usize {
        match self.op {
            OpKind::AvgPool | OpKind::MaxPool => self.in_c as usize,
            OpKind::Add | OpKind::Mul => self.in_c.max(self.in2[3]) as usize,
            _ => self.out_c as usize,
        }
    }

    /// Bytes of input `which`.
    pub fn input_len(&self, which: usize) -> usize {
        if which == 1 {
            return self.in2.iter().map(|&d| d as usize).product();
        }
        self.batch as usize * self.in_h as usize * self.in_w as usize * self.in_c as usize
    }

    /// Bytes of the output.
    pub fn output_len(&self) -> usize {
        self.out_b() * self.out_h() * self.out_w() * self.out_ch()
    }

    /// Filter bytes (0 for ops without weights).
    fn weights(&self) -> usize {
        let taps = self.fh as usize * self.fw as usize;
        match self.op {
            OpKind::Conv => self.out_c as usize * taps * self.filter_in_c(),
            OpKind::Depthwise => self.out_c as usize * taps,
            OpKind::FullyConnected => self.out_c as usize * self.in_c as usize,
            _ => 0,
        }
    }

    /// Multiply-accumulates (pooling: output elements × window; ADD/MUL: output elements).
    pub fn macs(&self) -> usize {
        let out = self.output_len();
        let taps = self.fh as usize * self.fw as usize;
        match self.op {
            OpKind::Conv => out * taps * self.filter_in_c(),
            OpKind::Depthwise | OpKind::AvgPool | OpKind::MaxPool => out * taps,
            OpKind::FullyConnected => out * self.in_c as usize,
            OpKind::Add | OpKind::Mul => out,
        }
    }

    /// Input channels each CONV_2D filter sees.
    pub fn filter_in_c(&self) -> usize {
        self.in_c as usize / self.groups.max(1) as usize
    }

    /// Upper bound of the model's bytes: weights, per channel a filter and a bias scale and
    /// zero point and a bias word (28 bytes), and 1 KB of tables.
    fn model_bound(&self) -> usize {
        self.weights() + 28 * self.out_c as usize + 1024
    }

    fn fits(&self) -> bool {
        let acts =
            self.input_len(0) + self.input_len(1) * (self.op.inputs() - 1) + self.output_len();
        self.weights() <= MAX_WEIGHTS
            && self.model_bound() <= MODEL_BYTES
            && acts <= MAX_ACTIVATIONS
            && self.macs() <= MAX_MACS
            && self.out_h() >= 1
            && self.out_w() >= 1
    }

    /// One step toward fitting: weights first, then batches, spatial size, channels.
    fn shrink(&mut self) {
        let min_h = if self.valid {
            effective(self.fh, self.dh)
        } else {
            1
        } as u16;
        let min_w = if self.valid {
            effective(self.fw, self.dw)
        } else {
            1
        } as u16;
        let halve = |v: u16, min: u16| (v / 2).max(min).max(1);
        if matches!(self.op, OpKind::Add | OpKind::Mul) {
            // Halve the largest output dimension in whichever inputs have it (not broadcast).
            let out = [self.out_b(), self.out_h(), self.out_w(), self.out_ch()];
            let k = (0..4).max_by_key(|&k| (out[k], k)).unwrap_or(0);
            let new = halve(out[k] as u16, 1);
            let mut a = [self.batch, self.in_h, self.in_w, self.in_c];
            for d in [&mut a[k], &mut self.in2[k]] {
                if *d != 1 {
                    *d = new;
                }
            }
            (self.batch, self.in_h, self.in_w, self.in_c) = (a[0], a[1], a[2], a[3]);
            return;
        }
        if self.groups > 1
            && (self.weights() > MAX_WEIGHTS || self.in_h <= min_h && self.in_w <= min_w)
        {
            // Ungroup (keeping the filter depth) before shrinking channels.
            self.in_c /= self.groups as u16;
            self.groups = 1;
        } else if self.weights() > MAX_WEIGHTS || self.model_bound() > MODEL_BYTES {
            match self.op {
                OpKind::Depthwise => self.shrink_depthwise(),
                // Output channels first: the receptive field (in_c) may be a chosen size.
                OpKind::Conv if self.out_c > 1 => self.out_c = halve(self.out_c, 1),
                _ if self.in_c >= self.out_c => self.in_c = halve(self.in_c, 1),
                _ => self.out_c = halve(self.out_c, 1),
            }
        } else if self.batch > 1 {
            self.batch = 1;
        } else if self.in_h > min_h || self.in_w > min_w {
            if self.in_h >= self.in_w && self.in_h > min_h || self.in_w <= min_w {
                self.in_h = halve(self.in_h, min_h);
            } else {
                self.in_w = halve(self.in_w, min_w);
            }
        } else {
            match self.op {
                OpKind::Depthwise => self.shrink_depthwise(),
                OpKind::Conv | OpKind::FullyConnected if self.out_c >= self.in_c => {
                    self.out_c = halve(self.out_c, 1)
                }
                _ => self.in_c = halve(self.in_c, 1),
            }
        }
    }

    fn shrink_depthwise(&mut self) {
        if self.in_c == 1 {
            self.depth_mult = (self.depth_mult / 2).max(1);
        }
        self.in_c = (self.in_c / 2).max(1);
        self.out_c = self.in_c * self.depth_mult as u16;
    }
}

fn zero_point(r: &mut Rng) -> i8 {
    match r.below(100) {
        0..=11 => -128,
        12..=23 => 127,
        _ => r.range(-128, 127) as i8,
    }
}

fn channels(r: &mut Rng, max: i32) -> u16 {
    (match r.below(100) {
        0..=34 => r.range(1, 8),
        35..=64 => r.range(9, 32),
        _ => r.range(33, 128),
    })
    .min(max) as u16
}

fn spatial(r: &mut Rng, max: i32) -> u16 {
    (match r.below(100) {
        0..=17 => 1,
        18..=27 => 2,
        _ => r.range(3, max),
    }) as u16
}

fn activation(r: &mut Rng) -> u8 {
    match r.below(4) {
        0 | 1 => 0,
        2 => 1,
        _ => 3,
    }
}

/// Window shape: heights 1..=10 and widths 1..=4 (sometimes transposed).
fn window(r: &mut Rng) -> (u8, u8) {
    let h = if r.chance(25) {
        1
    } else {
        r.range(1, 10) as u8
    };
    let w = r.range(1, 4) as u8;
    if r.chance(15) {
        (w, h)
    } else {
        (h, w)
    }
}

/// The operator of case `index`: 2/8 CONV_2D, 2/8 DEPTHWISE_CONV_2D, 1/8 each
/// FULLY_CONNECTED, AVERAGE_POOL_2D, MAX_POOL_2D, and ADD / MUL alternating in the last eighth.
pub fn op_of(index: u32) -> OpKind {
    match index % 8 {
        0 | 1 => OpKind::Conv,
        2 | 3 => OpKind::Depthwise,
        4 => OpKind::FullyConnected,
        5 => OpKind::AvgPool,
        6 => OpKind::MaxPool,
        _ if (index / 8).is_multiple_of(2) => OpKind::Add,
        _ => OpKind::Mul,
    }
}

/// Case `index` of the sweep (a pure function of `index`).
pub fn case(index: u32) -> Case {
    let mut r = Rng::new(SWEEP_SEED ^ (index as u64).wrapping_mul(0x2545_f491_4f6c_dd1d));
    let op = op_of(index);
    let mut c = Case {
        index,
        op,
        seed: r.next_u64(),
        batch: if r.chance(85) {
            1
        } else {
            r.range(2, 3) as u16
        },
        in_h: spatial(&mut r, 16),
        in_w: spatial(&mut r, 16),
        in_c: 1,
        out_c: 1,
        depth_mult: 1,
        groups: 1,
        fh: 1,
        fw: 1,
        sh: r.range(1, 2) as u8,
        sw: r.range(1, 2) as u8,
        dh: 1,
        dw: 1,
        valid: r.chance(40),
        act: activation(&mut r),
        bias: r.chance(80),
        per_channel: true,
        extreme_scales: r.chance(12),
        in_zp: zero_point(&mut r),
        in2_zp: zero_point(&mut r),
        out_zp: zero_point(&mut r),
        in_scale: r.scale(-8, -3),
        in2_scale: r.scale(-8, -3),
        out_scale: 1.0,
        filter_scale: r.scale(-9, -5),
        in2: [1; 4],
        in2_rank: 4,
        input_style: match r.below(100) {
            0..=69 => 0,
            70..=84 => 1,
            _ => 2,
        },
        weight_style: if r.chance(15) { 1 } else { 0 },
        bias_style: match r.below(100) {
            0..=74 => 0,
            75..=94 => 1,
            _ => 2,
        },
    };
    match op {
        OpKind::Conv | OpKind::Depthwise => {
            (c.fh, c.fw) = window(&mut r);
            if r.chance(25) {
                c.dh = r.range(1, 3) as u8;
                c.dw = r.range(1, 3) as u8;
            }
            if op == OpKind::Conv {
                c.in_c = channels(&mut r, 128);
                c.out_c = channels(&mut r, 128);
                c.per_channel = r.chance(85);
                match r.below(100) {
                    // The DSP patch path: a receptive field of at most 128 bytes.
                    0..=34 => {
                        c.in_c = r.range(1, 12) as u16;
                        while c.fh as usize * c.fw as usize * c.in_c as usize > 128 {
                            if c.fh > c.fw {
                                c.fh -= 1;
                            } else {
                                c.fw -= 1;
                            }
                        }
                    }
                    // Grouped convolution.
                    35..=44 => {
                        c.groups = r.range(2, 4) as u8;
                        c.in_c = c.groups as u16 * r.range(1, 16) as u16;
                        c.out_c = c.groups as u16 * r.range(1, 16) as u16;
                    }
                    // Full-width windows (DS-CNN's first layer): every window is one
                    // contiguous run of the input, the direct path.
                    45..=54 => {
                        c.in_w = c.fw as u16;
                        c.dw = 1;
                        c.valid = true;
                    }
                    // Receptive fields around the patch sizes the DSP paths switch at: 128
                    // bytes (gathered patches) and 2 x 128 + 3 (widened 1x1 / direct pixels).
                    55..=64 => {
                        let edge = if r.chance(50) { 128 } else { 258 };
                        let target = (edge + r.range(-4, 4)) as usize;
                        if r.chance(50) {
                            (c.fh, c.fw) = (1, 1);
                        }
                        let taps = c.fh as usize * c.fw as usize;
                        c.in_c = target.div_ceil(taps) as u16;
                    }
                    _ => {}
                }
            } else {
                c.in_c = if r.chance(15) {
                    1
                } else {
                    channels(&mut r, 64)
                };
                c.depth_mult = if r.chance(50) { 1 } else { r.range(2, 4) as u8 };
                if c.in_c == 1 && r.chance(50) {
                    // One input channel is a CONV_2D on the DSP path (micro_speech: 10x8 taps,
                    // multiplier 8); multipliers beyond 4 cross its 640-byte filter limit.
                    c.depth_mult = r.range(5, 40) as u8;
                } else if r.chance(10) {
                    // Larger multipliers: 8, 12, 16 take the four-lane path with a shared
                    // input channel, the others the scalar path.
                    c.depth_mult = r.range(5, 16) as u8;
                }
                c.out_c = c.in_c * c.depth_mult as u16;
            }
        }
        OpKind::FullyConnected => {
            c.in_h = 1;
            c.in_w = 1;
            c.batch = if r.chance(70) {
                1
            } else {
                r.range(2, 4) as u16
            };
            c.in_c = match r.below(100) {
                0..=29 => r.range(1, 16),
                30..=69 => r.range(17, 128),
                _ => r.range(129, 640),
            } as u16;
            c.out_c = channels(&mut r, 128);
            c.per_channel = r.chance(40);
        }
        OpKind::AvgPool | OpKind::MaxPool => {
            (c.fh, c.fw) = window(&mut r);
            if r.chance(10) {
                (c.fh, c.fw) = (c.in_h.min(10) as u8, c.in_w.min(10) as u8);
            }
            if r.chance(10) {
                (c.sh, c.sw) = (c.fh, c.fw);
            }
            c.in_c = channels(&mut r, 128);
            c.bias = false;
            c.out_zp = c.in_zp;
            c.out_scale = c.in_scale;
        }
        OpKind::Add | OpKind::Mul => {
            c.in_h = spatial(&mut r, 8);
            c.in_w = spatial(&mut r, 8);
            c.in_c = channels(&mut r, 64);
            c.bias = false;
            let full = [c.batch, c.in_h, c.in_w, c.in_c];
            c.in2 = match r.below(10) {
                0..=4 => full,
                5..=8 => {
                    let mut s = full;
                    for d in &mut s {
                        if r.chance(50) {
                            *d = 1;
                        }
                    }
                    s
                }
                _ => [1; 4],
            };
            if r.chance(30) {
                // Input 1 is the broadcast one.
                let s = c.in2;
                (c.batch, c.in_h, c.in_w, c.in_c) = (s[0], s[1], s[2], s[3]);
                c.in2 = full;
                core::mem::swap(&mut c.in_zp, &mut c.in2_zp);
            } else if r.chance(25) {
                c.in2_rank = r.range(1, 3) as u8;
                for d in &mut c.in2[..4 - c.in2_rank as usize] {
                    *d = 1;
                }
            }
        }
    }
    if c.valid {
        // VALID needs the (dilated) window inside the input; SAME windows may exceed it.
        let (eh, ew) = (effective(c.fh, c.dh) as u16, effective(c.fw, c.dw) as u16);
        if c.in_h < eh {
            c.in_h = eh + r.below(3) as u16;
        }
        if c.in_w < ew {
            c.in_w = ew + r.below(3) as u16;
        }
    }
    for _ in 0..64 {
        if c.fits() {
            break;
        }
        c.shrink();
    }
    // Output scale: typical outputs span a good part of int8, times 2^-3..2^3 (extreme cases:
    // up to 2^10 larger multipliers, so outputs saturate and shifts turn left).
    let spread = pow2(r.range(-3, 3))
        * if c.extreme_scales {
            pow2(r.range(0, 10))
        } else {
            1.0
        };
    match op {
        OpKind::Conv | OpKind::Depthwise | OpKind::FullyConnected => {
            let depth = match op {
                OpKind::Conv => c.fh as usize * c.fw as usize * c.filter_in_c(),
                OpKind::Depthwise => c.fh as usize * c.fw as usize,
                _ => c.in_c as usize,
            };
            let k = isqrt(depth).max(1) as f32;
            c.out_scale = c.in_scale * c.filter_scale * 75.0 * k / spread;
        }
        OpKind::Add => c.out_scale = c.in_scale.max(c.in2_scale) * pow2(r.range(-1, 2)),
        OpKind::Mul => c.out_scale = c.in_scale * c.in2_scale * 64.0 / spread,
        OpKind::AvgPool | OpKind::MaxPool => {}
    }
    c
}

/// Mixes a seed and a stream number into an independent seed.
fn stream(seed: u64, n: u64) -> u64 {
    Rng::new(seed ^ n.wrapping_mul(0x9e37_79b9_7f4a_7c15)).next_u64()
}

/// Per-channel filter scale `ch` (or the single scale for `ch == 0` per-tensor).
pub fn channel_scale(c: &Case, ch: usize) -> f32 {
    if !c.per_channel {
        return c.filter_scale;
    }
    let mut r = Rng::new(stream(c.seed, 100 + ch as u64));
    let base = c.filter_scale * r.scale(-2, 1) * 0.5;
    if c.extreme_scales && r.chance(30) {
        if r.chance(50) {
            base * pow2(r.range(-26, -18))
        } else {
            base * pow2(r.range(2, 6))
        }
    } else {
        base
    }
}

/// The input bytes of input `which` (0 or 1), written into `out` (its length decides how many).
pub fn fill_input(c: &Case, which: usize, out: &mut [u8]) {
    let mut r = Rng::new(stream(c.seed, 1 + which as u64));
    let zp = if which == 1 { c.in2_zp } else { c.in_zp };
    for b in out.iter_mut() {
        *b = match c.input_style {
            1 => {
                if r.chance(50) {
                    0x80
                } else {
                    0x7f
                }
            }
            2 => (zp as i32 + r.range(-3, 3)).clamp(-128, 127) as i8 as u8,
            _ => r.byte(),
        };
    }
}

fn weight(c: &Case, r: &mut Rng) -> u8 {
    match c.weight_style {
        1 => [0x80u8, 0x81, 0x7f][r.below(3) as usize],
        _ => r.byte(),
    }
}

fn bias_value(c: &Case, r: &mut Rng) -> i32 {
    let bits = [12, 18, 28][c.bias_style.min(2) as usize];
    r.range(-(1 << bits), 1 << bits)
}

/// Why a case could not run.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum RunError {
    /// The model did not fit the buffer.
    ModelTooLarge,
    /// The engine refused the model or failed running it.
    Engine(mote_engine::Error),
}

impl From<mote_engine::Error> for RunError {
    fn from(e: mote_engine::Error) -> Self {
        RunError::Engine(e)
    }
}

impl fmt::Display for RunError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RunError::ModelTooLarge => write!(f, "model larger than {MODEL_BYTES} bytes"),
            RunError::Engine(e) => e.fmt(f),
        }
    }
}

/// FNV-1a (32-bit) of `bytes`.
pub fn fnv1a(bytes: &[u8]) -> u32 {
    let mut h = 0x811c_9dc5u32;
    for &b in bytes {
        h ^= b as u32;
        h = h.wrapping_mul(0x0100_0193);
    }
    h
}

/// Runs case `c`: writes its model into `model_buf`, prepares it in `arena`, fills the inputs,
/// invokes, and returns the FNV-1a hash of the output bytes.
pub fn run(c: &Case, model_buf: &mut [u8], arena: &mut [u8]) -> Result<u32, RunError> {
    let n = write_model(c, model_buf).ok_or(RunError::ModelTooLarge)?;
    let model = Model::parse(&model_buf[..n])?;
    let mut state = [0u8; 0];
    let mut interp = Interpreter::new(&model, arena, &mut state)?;
    for which in 0..c.op.inputs() {
        fill_input(c, which, interp.input_mut(which)?);
    }
    interp.invoke()?;
    Ok(fnv1a(interp.output(0)?))
}

/// Schema `TensorType` codes.
const INT8: u32 = 9;
const INT32: u32 = 2;

/// Quantization of one tensor.
enum Quant {
    /// One scale and zero point.
    Tensor(f32, i8),
    /// Filter: `n` symmetric scales along `axis`.
    Filter { n: usize, axis: i32 },
    /// Bias: `n` scales `in_scale * filter_scale[c]`, zero points 0.
    Bias { n: usize },
}

struct TensorSpec {
    shape: [i32; 4],
    rank: usize,
    dtype: u32,
    buffer: u32,
    quant: Quant,
}

impl TensorSpec {
    /// An int8 activation tensor (no buffer) of `rank` dims, per-tensor `scale` and `zp`.
    fn activation(shape: [i32; 4], rank: usize, scale: f32, zp: i8) -> TensorSpec {
        TensorSpec {
            shape,
            rank,
            dtype: INT8,
            buffer: 0,
            quant: Quant::Tensor(scale, zp),
        }
    }
}

/// Writes case `c`'s model into `buf`; returns its length, or `None` if it does not fit.
pub fn write_model(c: &Case, buf: &mut [u8]) -> Option<usize> {
    let mut w = Writer::new(buf);
    let (b, h, wd, ch) = (c.batch as i32, c.in_h as i32, c.in_w as i32, c.in_c as i32);
    let (oh, ow, oc) = (c.out_h() as i32, c.out_w() as i32, c.out_ch() as i32);
    let ob = c.out_b() as i32;
    let input = TensorSpec::activation([b, h, wd, ch], 4, c.in_scale, c.in_zp);
    let output = TensorSpec::activation([ob, oh, ow, oc], 4, c.out_scale, c.out_zp);
    let scales = if c.per_channel { c.out_c as usize } else { 1 };
    let (fh, fw) = (c.fh as i32, c.fw as i32);
    // Tensors: 0 input, 1 output, then the weighted ops' filter (buffer 1) and bias (buffer 2),
    // or ADD/MUL's second input.
    let mut tensors: [Option<TensorSpec>; 4] = [Some(input), Some(output), None, None];
    let mut op_inputs = [0i32, 2, 3];
    let mut n_op_inputs = 1;
    match c.op {
        OpKind::Conv | OpKind::Depthwise | OpKind::FullyConnected => {
            let (shape, rank, axis) = match c.op {
                OpKind::Conv => ([c.out_c as i32, fh, fw, c.filter_in_c() as i32], 4, 0),
                OpKind::Depthwise => ([1, fh, fw, c.out_c as i32], 4, 3),
                _ => ([c.out_c as i32, ch, 0, 0], 2, 0),
            };
            tensors[2] = Some(TensorSpec {
                shape,
                rank,
                dtype: INT8,
                buffer: 1,
                quant: Quant::Filter { n: scales, axis },
            });
            n_op_inputs = 2;
            if c.bias {
                tensors[3] = Some(TensorSpec {
                    shape: [c.out_c as i32, 0, 0, 0],
                    rank: 1,
                    dtype: INT32,
                    buffer: 2,
                    quant: Quant::Bias { n: scales },
                });
                n_op_inputs = 3;
            } else if c.index.is_multiple_of(2) && c.op != OpKind::Depthwise {
                // Half of the bias-less cases name the absent bias as -1 (converter style).
                // Not DEPTHWISE_CONV_2D: TFLM's Python interpreter crashes (SIGSEGV in prepare)
                // on its -1 bias, while two inputs work.
                op_inputs[2] = -1;
                n_op_inputs = 3;
            }
            if let Some(t) = tensors[0]
                .as_mut()
                .filter(|_| c.op == OpKind::FullyConnected)
            {
                t.shape = [b, ch, 0, 0];
                t.rank = 2;
            }
            if let Some(t) = tensors[1]
                .as_mut()
                .filter(|_| c.op == OpKind::FullyConnected)
            {
                t.shape = [b, c.out_c as i32, 0, 0];
                t.rank = 2;
            }
        }
        OpKind::Add | OpKind::Mul => {
            let s = c.in2;
            let rank = c.in2_rank.clamp(1, 4) as usize;
            let mut shape = [0i32; 4];
            for (d, &v) in shape.iter_mut().zip(&s[4 - rank..]) {
                *d = v as i32;
            }
            tensors[2] = Some(TensorSpec::activation(shape, rank, c.in2_scale, c.in2_zp));
            n_op_inputs = 2;
        }
        OpKind::AvgPool | OpKind::MaxPool => {}
    }
    let n_tensors = tensors.iter().filter(|t| t.is_some()).count();

    let root = w.u32(0);
    w.bytes(b"TFL3");
    let model = w.table(&[(0, 3), (1, 0), (2, 0), (4, 0)]);
    w.patch(root, model);

    // operator_codes: one.
    let (v, slot) = w.vec_offsets(1);
    w.patch(field(model, 1), v);
    let code = c.op.builtin();
    let opcode = w.table(&[(0, code), (2, 1), (3, code)]);
    w.patch(slot, opcode);

    // subgraphs: one.
    let (v, slot) = w.vec_offsets(1);
    w.patch(field(model, 2), v);
    let sg = w.table(&[(0, 0), (1, 0), (2, 0), (3, 0)]);
    w.patch(slot, sg);
    let (v, first) = w.vec_offsets(n_tensors);
    w.patch(field(sg, 0), v);
    for (k, t) in tensors.iter().flatten().enumerate() {
        write_tensor(&mut w, first + 4 * k, t, c);
    }
    let graph_inputs: &[i32] = if c.op.inputs() == 2 { &[0, 2] } else { &[0] };
    let v = w.vec_i32(graph_inputs);
    w.patch(field(sg, 1), v);
    let v = w.vec_i32(&[1]);
    w.patch(field(sg, 2), v);
    let (v, slot) = w.vec_offsets(1);
    w.patch(field(sg, 3), v);
    let op = w.table(&[(0, 0), (1, 0), (2, 0), (3, c.op.options_type()), (4, 0)]);
    w.patch(slot, op);
    let v = w.vec_i32(&op_inputs[..n_op_inputs]);
    w.patch(field(op, 1), v);
    let v = w.vec_i32(&[1]);
    w.patch(field(op, 2), v);
    let padding = if c.valid { 1 } else { 0 };
    let (sw, sh, act) = (c.sw as u32, c.sh as u32, c.act as u32);
    let options = match c.op {
        OpKind::Conv => w.table(&[
            (0, padding),
            (1, sw),
            (2, sh),
            (3, act),
            (4, c.dw as u32),
            (5, c.dh as u32),
        ]),
        OpKind::Depthwise => w.table(&[
            (0, padding),
            (1, sw),
            (2, sh),
            (3, c.depth_mult as u32),
            (4, act),
            (5, c.dw as u32),
            (6, c.dh as u32),
        ]),
        OpKind::AvgPool | OpKind::MaxPool => w.table(&[
            (0, padding),
            (1, sw),
            (2, sh),
            (3, c.fw as u32),
            (4, c.fh as u32),
            (5, act),
        ]),
        OpKind::FullyConnected | OpKind::Add | OpKind::Mul => w.table(&[(0, act)]),
    };
    w.patch(field(op, 4), options);

    // buffers: 0 empty (the sentinel), 1 filter, 2 bias.
    let n_buffers = match c.op {
        OpKind::Conv | OpKind::Depthwise | OpKind::FullyConnected => 3,
        _ => 1,
    };
    let (v, first) = w.vec_offsets(n_buffers);
    w.patch(field(model, 3), v);
    let empty = w.table(&[]);
    w.patch(first, empty);
    if n_buffers == 3 {
        let buf = w.table(&[(0, 0)]);
        w.patch(first + 4, buf);
        let data = w.vector(c.weights(), 16);
        w.patch(field(buf, 0), data);
        let mut r = Rng::new(stream(c.seed, 10));
        for _ in 0..c.weights() {
            let b = weight(c, &mut r);
            w.byte(b);
        }
        // Buffer 2: the bias (empty when the case has none).
        if c.bias {
            let buf = w.table(&[(0, 0)]);
            w.patch(first + 8, buf);
            let data = w.vector(4 * c.out_c as usize, 16);
            w.patch(field(buf, 0), data);
            let mut r = Rng::new(stream(c.seed, 11));
            for _ in 0..c.out_c {
                let v = bias_value(c, &mut r);
                w.bytes(&v.to_le_bytes());
            }
        } else {
            let buf = w.table(&[]);
            w.patch(first + 8, buf);
        }
    }
    w.finish()
}

fn write_tensor(w: &mut Writer<'_>, slot: usize, t: &TensorSpec, c: &Case) {
    let table = w.table(&[(0, 0), (1, t.dtype), (2, t.buffer), (4, 0)]);
    w.patch(slot, table);
    let v = w.vec_i32(&t.shape[..t.rank]);
    w.patch(field(table, 0), v);
    let (n, axis) = match t.quant {
        Quant::Tensor(..) => (1, 0),
        Quant::Filter { n, axis } => (n, axis),
        Quant::Bias { n } => (n, 0),
    };
    let q = w.table(&[(2, 0), (3, 0), (6, axis as u32)]);
    w.patch(field(table, 3), q);
    let v = w.vector(n, 4);
    w.patch(field(q, 0), v);
    for k in 0..n {
        let s = match t.quant {
            Quant::Tensor(s, _) => s,
            Quant::Filter { .. } => channel_scale(c, k),
            Quant::Bias { .. } => c.in_scale * channel_scale(c, k),
        };
        w.bytes(&s.to_le_bytes());
    }
    let v = w.vector(n, 8);
    w.patch(field(q, 1), v);
    let zp = match t.quant {
        Quant::Tensor(_, zp) => zp as i64,
        _ => 0,
    };
    for _ in 0..n {
        w.bytes(&zp.to_le_bytes());
    }
}

/// Short name of a fused activation code.
fn act_name(a: u8) -> &'static str {
    match a {
        1 => "RELU",
        3 => "RELU6",
        _ => "NONE",
    }
}

impl fmt::Display for Case {
    /// One line with every parameter, for mismatch reports.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "case {} {}: in {}x{}x{}x{}",
            self.index,
            self.op.name(),
            self.batch,
            self.in_h,
            self.in_w,
            self.in_c
        )?;
        match self.op {
            OpKind::Add | OpKind::Mul => {
                write!(f, " in2")?;
                let rank = self.in2_rank.clamp(1, 4) as usize;
                for (k, d) in self.in2[4 - rank..].iter().enumerate() {
                    write!(f, "{}{d}", if k == 0 { " " } else { "x" })?;
                }
                write!(
                    f,
                    " zp {}/{} scale {:e}/{:e}",
                    self.in_zp, self.in2_zp, self.in_scale, self.in2_scale
                )?;
            }
            _ => write!(f, " zp {} scale {:e}", self.in_zp, self.in_scale)?,
        }
        write!(
            f,
            " -> out {}x{}x{}x{} zp {} scale {:e}",
            self.out_b(),
            self.out_h(),
            self.out_w(),
            self.out_ch(),
            self.out_zp,
            self.out_scale
        )?;
        match self.op {
            OpKind::Conv | OpKind::Depthwise | OpKind::AvgPool | OpKind::MaxPool => write!(
                f,
                " window {}x{} stride {}x{} dilation {}x{} {}",
                self.fh,
                self.fw,
                self.sh,
                self.sw,
                self.dh,
                self.dw,
                if self.valid { "VALID" } else { "SAME" }
            )?,
            _ => {}
        }
        if self.op == OpKind::Depthwise {
            write!(f, " multiplier {}", self.depth_mult)?;
        }
        if self.groups > 1 {
            write!(f, " groups {}", self.groups)?;
        }
        if matches!(
            self.op,
            OpKind::Conv | OpKind::Depthwise | OpKind::FullyConnected
        ) {
            write!(
                f,
                " filter scale {:e} {}{} bias {} weights/bias style {}/{}",
                self.filter_scale,
                if self.per_channel {
                    "per-channel"
                } else {
                    "per-tensor"
                },
                if self.extreme_scales { " extreme" } else { "" },
                self.bias,
                self.weight_style,
                self.bias_style
            )?;
        }
        write!(
            f,
            " act {} input style {} seed {:#x}",
            act_name(self.act),
            self.input_style,
            self.seed
        )
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;

    #[test]
    fn cases_are_deterministic_and_fit() {
        for i in 0..SWEEP_CASES {
            let c = case(i);
            assert_eq!(c, case(i));
            assert!(c.fits(), "{c}");
            assert_eq!(c.op, op_of(i));
        }
    }

    #[test]
    fn pow2_exact() {
        assert_eq!(pow2(0), 1.0);
        assert_eq!(pow2(-3), 0.125);
        assert_eq!(pow2(10), 1024.0);
    }

    #[test]
    fn models_parse() {
        let mut buf = std::vec![0u8; MODEL_BYTES];
        for i in 0..SWEEP_CASES {
            let c = case(i);
            let n = write_model(&c, &mut buf).unwrap_or_else(|| panic!("{c}: model too large"));
            Model::parse(&buf[..n]).unwrap_or_else(|e| panic!("{c}: {e}"));
        }
    }
}
