//! Rust source for prepared kernels: each operator's `Params` as a constant expression, for the
//! ahead-of-time code generator (`mote export`, AOT mode).
//!
//! [`kernel_literal`] writes one prepared [`Kernel`]'s `Params` as a struct literal with full
//! paths (`mote_engine::ops::conv_2d::Params { … }`) and says which `ops::<op>::eval` runs it.
//! Floats are written as `f32::from_bits(…)`, so the constant has the exact bits `prepare`
//! computed. The persistent words a kernel reads (per-channel multipliers) are not inlined: the
//! kernel's one [`Span`] is rebased to start at word 0 and reported in [`Lit::words`], so the
//! generator emits exactly those words next to the constant.
//!
//! The field lists below are exhaustive destructurings: adding a field to a `Params` without
//! adding it here does not compile.

use core::fmt::{self, Write};

use super::common::{Broadcast, ChannelQuant, PoolParams, Window2D};
use super::stored::load;
use super::{Kernel, Span};
use crate::error::Error;

/// Where a literal is written, and what it referenced.
pub struct Lit<'w> {
    out: &'w mut dyn Write,
    /// The persistent words the literal's [`Span`] pointed at (its start rebased to 0).
    pub words: Option<Span>,
}

impl<'w> Lit<'w> {
    /// A writer into `out`.
    pub fn new(out: &'w mut dyn Write) -> Self {
        Lit { out, words: None }
    }
    fn s(&mut self, s: &str) -> fmt::Result {
        self.out.write_str(s)
    }
}

/// A value that can be written as a Rust constant expression.
pub trait RustLiteral {
    /// Write `self` as a constant expression.
    fn write_rust(&self, w: &mut Lit<'_>) -> fmt::Result;
}

macro_rules! display_literal {
    ($($t:ty),*) => {$(
        impl RustLiteral for $t {
            fn write_rust(&self, w: &mut Lit<'_>) -> fmt::Result {
                write!(w.out, "{}", self)
            }
        }
    )*};
}
display_literal!(u8, u16, u32, i32, bool);

impl RustLiteral for f32 {
    fn write_rust(&self, w: &mut Lit<'_>) -> fmt::Result {
        write!(w.out, "f32::from_bits({:#010x})", self.to_bits())
    }
}

impl<T: RustLiteral, const N: usize> RustLiteral for [T; N] {
    fn write_rust(&self, w: &mut Lit<'_>) -> fmt::Result {
        w.s("[")?;
        for (i, v) in self.iter().enumerate() {
            if i > 0 {
                w.s(", ")?;
            }
            v.write_rust(w)?;
        }
        w.s("]")
    }
}

impl RustLiteral for Span {
    fn write_rust(&self, w: &mut Lit<'_>) -> fmt::Result {
        w.words = Some(*self);
        write!(
            w.out,
            "mote_engine::ops::Span {{ start: 0, len: {} }}",
            self.len
        )
    }
}

/// `literal!("public::path" => Type { field, … })`: a struct literal writer.
macro_rules! literal {
    ($path:literal => $t:path { $($f:ident),* $(,)? }) => {
        impl RustLiteral for $t {
            fn write_rust(&self, w: &mut Lit<'_>) -> fmt::Result {
                #[allow(clippy::unneeded_field_pattern)]
                let $t { $($f),* } = self;
                w.s(concat!("mote_engine::", $path, " {"))?;
                $(
                    w.s(concat!(" ", stringify!($f), ": "))?;
                    $f.write_rust(w)?;
                    w.s(",")?;
                )*
                w.s(" }")
            }
        }
    };
    ($path:literal => $t:path [ pool ]) => {
        impl RustLiteral for $t {
            fn write_rust(&self, w: &mut Lit<'_>) -> fmt::Result {
                w.s(concat!("mote_engine::", $path, "("))?;
                self.0.write_rust(w)?;
                w.s(")")
            }
        }
    };
}

literal!("ops::common::Window2D" => Window2D {
    batches, in_h, in_w, out_h, out_w, filter_h, filter_w, stride_h, stride_w, dilation_h,
    dilation_w, pad_h, pad_w,
});
literal!("ops::common::ChannelQuant" => ChannelQuant { span, multiplier, shift });
literal!("ops::common::PoolParams" => PoolParams { win, channels, act_min, act_max });
literal!("ops::common::Broadcast" => Broadcast { dims, n, a_bcast, b_bcast, _pad });
literal!("ops::add::Params" => super::add::Params {
    bc, in1_offset, in2_offset, out_offset, left_shift, in1_mult, in1_shift, in2_mult,
    in2_shift, out_mult, out_shift, act_min, act_max, subtract, _pad,
});
literal!("ops::assign_variable::Params" => super::assign_variable::Params { offset, len, default });
literal!("ops::average_pool_2d::Params" => super::average_pool_2d::Params[pool]);
literal!("ops::concatenation::Params" => super::concatenation::Params { outer, n_inputs, _pad });
literal!("ops::conv_2d::Params" => super::conv_2d::Params {
    win, in_c, filter_in_c, out_c, groups, has_bias, _pad, input_offset, output_offset,
    act_min, act_max, quant,
});
literal!("ops::depthwise_conv_2d::Params" => super::depthwise_conv_2d::Params {
    win, in_c, out_c, depth_multiplier, has_bias, _pad, input_offset, output_offset, act_min,
    act_max, quant,
});
literal!("ops::dequantize::Params" => super::dequantize::Params {
    scale, zero_point, input_type, _pad,
});
literal!("ops::fully_connected::Params" => super::fully_connected::Params {
    batches, accum_depth, units, has_bias, _pad, input_offset, output_offset, act_min, act_max,
    quant,
});
literal!("ops::logistic::Params" => super::logistic::Params {
    input_zero_point, input_range_radius, input_multiplier, input_left_shift,
});
literal!("ops::max_pool_2d::Params" => super::max_pool_2d::Params[pool]);
literal!("ops::mean::Params" => super::mean::Params {
    dims, reduced, n_groups, int16, empty, count, in_zp, out_zp, mult, shift,
});
literal!("ops::mul::Params" => super::mul::Params {
    bc, in1_offset, in2_offset, out_offset, mult, shift, act_min, act_max,
});
literal!("ops::pad::Params" => super::pad::Params {
    in_dims, out_dims, before, fill, elem, fill_from_input, _pad,
});
literal!("ops::quantize::Params" => super::quantize::Params {
    mode, multiplier, shift, input_zero_point, output_zero_point, output_scale,
});
literal!("ops::read_variable::Params" => super::read_variable::Params { offset, len });
literal!("ops::relu::Params" => super::relu::Params {
    int16, _pad, input_offset, output_offset, multiplier, shift, act_min, act_max,
});
literal!("ops::relu6::Params" => super::relu6::Params { int16, _pad, zero, six });
literal!("ops::softmax::Params" => super::softmax::Params {
    input_multiplier, input_left_shift, diff_min, outer, depth, int16_output, _pad,
});
literal!("ops::split::Params" => super::split::Params { outer, n_outputs, _pad });
literal!("ops::strided_slice::Params" => super::strided_slice::Params {
    base, step, count, elem, _pad,
});

/// Write the `Params` of a prepared `kernel` (whose persistent words are `words`) as a constant
/// expression; returns the operator module whose `eval` runs it (`"conv_2d"` →
/// `mote_engine::ops::conv_2d::eval`), or `None` for the kernels with nothing to evaluate
/// (aliases, VAR_HANDLE, CALL_ONCE).
pub fn kernel_literal(
    kernel: &Kernel,
    words: &[i32],
    w: &mut Lit<'_>,
) -> Result<Option<&'static str>, Error> {
    fn put<T: RustLiteral>(
        w: &mut Lit<'_>,
        v: &T,
        m: &'static str,
    ) -> Result<Option<&'static str>, Error> {
        v.write_rust(w).map_err(|_| Error::LimitExceeded {
            what: "generated source (writer failed)",
            limit: 0,
        })?;
        Ok(Some(m))
    }
    match kernel {
        Kernel::Alias | Kernel::VarHandle | Kernel::CallOnce { .. } => Ok(None),
        Kernel::Add(p) => put(w, &load(words, *p)?, "add"),
        Kernel::AssignVariable(p) => put(w, p, "assign_variable"),
        Kernel::AveragePool2D(p) => put(w, &load(words, *p)?, "average_pool_2d"),
        Kernel::Concatenation(p) => put(w, &load(words, *p)?, "concatenation"),
        Kernel::Conv2D(p) => put(w, &load(words, *p)?, "conv_2d"),
        Kernel::DepthwiseConv2D(p) => put(w, &load(words, *p)?, "depthwise_conv_2d"),
        Kernel::Dequantize(p) => put(w, &load(words, *p)?, "dequantize"),
        Kernel::FullyConnected(p) => put(w, &load(words, *p)?, "fully_connected"),
        Kernel::Logistic(p) => put(w, &load(words, *p)?, "logistic"),
        Kernel::MaxPool2D(p) => put(w, &load(words, *p)?, "max_pool_2d"),
        Kernel::Mean(p) => put(w, &load(words, *p)?, "mean"),
        Kernel::Mul(p) => put(w, &load(words, *p)?, "mul"),
        Kernel::Pad(p) => put(w, &load(words, *p)?, "pad"),
        Kernel::Quantize(p) => put(w, &load(words, *p)?, "quantize"),
        Kernel::ReadVariable(p) => put(w, p, "read_variable"),
        Kernel::Relu(p) => put(w, &load(words, *p)?, "relu"),
        Kernel::Relu6(p) => put(w, &load(words, *p)?, "relu6"),
        Kernel::Softmax(p) => put(w, &load(words, *p)?, "softmax"),
        Kernel::Split(p) => put(w, &load(words, *p)?, "split"),
        Kernel::SplitV(p) => put(w, &load(words, *p)?, "split_v"),
        Kernel::StridedSlice(p) => put(w, &load(words, *p)?, "strided_slice"),
        Kernel::Sub(p) => put(w, &load(words, *p)?, "sub"),
        Kernel::Tanh(p) => put(w, &load(words, *p)?, "tanh"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::string::String;

    #[test]
    fn literals_are_exact() {
        let mut s = String::new();
        let mut w = Lit::new(&mut s);
        (-3i32).write_rust(&mut w).unwrap();
        w.s(" ").unwrap();
        0.1f32.write_rust(&mut w).unwrap();
        w.s(" ").unwrap();
        [1u16, 2].write_rust(&mut w).unwrap();
        w.s(" ").unwrap();
        ChannelQuant {
            span: Span { start: 9, len: 4 },
            multiplier: 5,
            shift: -1,
        }
        .write_rust(&mut w)
        .unwrap();
        assert_eq!(w.words, Some(Span { start: 9, len: 4 }));
        assert_eq!(
            s,
            "-3 f32::from_bits(0x3dcccccd) [1, 2] mote_engine::ops::common::ChannelQuant { span: \
             mote_engine::ops::Span { start: 0, len: 4 }, multiplier: 5, shift: -1, }"
        );
    }
}
