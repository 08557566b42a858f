//! Test scaffolding shared by the ops-elem kernels: tensors, contexts and one-op runs.

use super::super::{EvalCtx, PrepareCtx, WordAlloc};
use crate::error::Error;
use crate::model::{BuiltinOp, DType, F32s, I64s, Options, Quant, Shape, Tensor};
use std::boxed::Box;
use std::vec::Vec;

/// A tensor with per-tensor quantization (leaked so it lives for the test).
pub fn qt(dtype: DType, dims: &[i32], scale: f32, zp: i64) -> Tensor<'static> {
    let s: &'static [u8] = Box::leak(scale.to_le_bytes().to_vec().into_boxed_slice());
    let z: &'static [u8] = Box::leak(zp.to_le_bytes().to_vec().into_boxed_slice());
    Tensor {
        name: "",
        dtype,
        shape: Shape::new(dims).unwrap(),
        quant: Quant {
            scales: F32s(s),
            zero_points: I64s(z),
            axis: 0,
        },
        data: None,
        buffer: 0,
        is_variable: false,
    }
}

/// An unquantized tensor.
pub fn t(dtype: DType, dims: &[i32]) -> Tensor<'static> {
    Tensor {
        name: "",
        dtype,
        shape: Shape::new(dims).unwrap(),
        quant: Quant::default(),
        data: None,
        buffer: 0,
        is_variable: false,
    }
}

/// A constant int32 tensor.
pub fn ci32(dims: &[i32], vals: &[i32]) -> Tensor<'static> {
    let bytes: Vec<u8> = vals.iter().flat_map(|v| v.to_le_bytes()).collect();
    let mut x = t(DType::I32, dims);
    x.data = Some(Box::leak(bytes.into_boxed_slice()));
    x
}

/// Build a prepare context for one operator (input tensor indices 0.., outputs 100..) and
/// hand it to `f` (usually an op's `prepare_with`, so tests can pass options directly).
pub fn with_ctx<R>(
    op: BuiltinOp,
    ins: &[Tensor<'static>],
    outs: &[Tensor<'static>],
    f: impl FnOnce(&mut PrepareCtx<'_, 'static, '_>) -> R,
) -> R {
    let inputs: Vec<Option<(i32, Tensor<'static>)>> = ins
        .iter()
        .enumerate()
        .map(|(i, t)| Some((i as i32, *t)))
        .collect();
    let outputs: Vec<(i32, Tensor<'static>)> = outs
        .iter()
        .enumerate()
        .map(|(i, t)| ((100 + i) as i32, *t))
        .collect();
    let mut words = WordAlloc::measure();
    let mut ctx = PrepareCtx {
        op,
        version: 1,
        options: Options::default(),
        inputs: &inputs,
        outputs: &outputs,
        words: &mut words,
    };
    f(&mut ctx)
}

/// Prepare a two-input int8 op from `(dims, scale, zero point)` triples with `f` (usually its
/// `prepare_with`).
pub fn binary<P>(
    op: BuiltinOp,
    a: (&[i32], f32, i64),
    b: (&[i32], f32, i64),
    o: (&[i32], f32, i64),
    f: impl FnOnce(&mut PrepareCtx<'_, 'static, '_>) -> Result<P, crate::error::Error>,
) -> Result<P, crate::error::Error> {
    let ins = [qt(DType::I8, a.0, a.1, a.2), qt(DType::I8, b.0, b.1, b.2)];
    let outs = [qt(DType::I8, o.0, o.1, o.2)];
    with_ctx(op, &ins, &outs, f)
}

/// Run an op's `eval` on raw input bytes; returns each output's bytes (pre-filled with 0xA5).
pub fn run<P>(
    p: &P,
    ev: fn(&P, &mut EvalCtx<'_, '_>) -> Result<(), Error>,
    ins: &[&[u8]],
    out_sizes: &[usize],
) -> Result<Vec<Vec<u8>>, Error> {
    let mut bufs: Vec<Vec<u8>> = out_sizes.iter().map(|&n| std::vec![0xA5u8; n]).collect();
    {
        let mut outs: Vec<&mut [u8]> = bufs.iter_mut().map(|b| b.as_mut_slice()).collect();
        let mut state = [0u8; 0];
        let mut ctx = EvalCtx {
            inputs: ins,
            outputs: &mut outs,
            words: &[],
            state: &mut state,
        };
        ev(p, &mut ctx)?;
    }
    Ok(bufs)
}

/// int8 values as bytes.
pub fn i8b(v: &[i8]) -> Vec<u8> {
    v.iter().map(|&x| x as u8).collect()
}

/// bytes as int8 values.
pub fn b_i8(v: &[u8]) -> Vec<i8> {
    v.iter().map(|&x| x as i8).collect()
}

/// int32 values as little-endian bytes.
pub fn i32b(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}
