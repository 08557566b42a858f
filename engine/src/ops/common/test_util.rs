//! Test scaffolding shared by the kernels' unit tests: build tensors and run prepare + eval
//! (measure pass, then a real pass) the way the interpreter will.

use std::boxed::Box;
use std::vec;
use std::vec::Vec;

use crate::error::Error;
use crate::model::{BuiltinOp, DType, F32s, I64s, Options, Quant, Shape, Tensor};
use crate::ops::{EvalCtx, PrepareCtx, WordAlloc};

fn leak(v: Vec<u8>) -> &'static [u8] {
    Box::leak(v.into_boxed_slice())
}

/// A tensor with the given quantization (per channel along `axis` if several scales).
pub fn tensor(
    dtype: DType,
    dims: &[i32],
    scales: &[f32],
    zps: &[i64],
    axis: i32,
) -> Tensor<'static> {
    let s: Vec<u8> = scales.iter().flat_map(|v| v.to_le_bytes()).collect();
    let z: Vec<u8> = zps.iter().flat_map(|v| v.to_le_bytes()).collect();
    Tensor {
        name: "",
        dtype,
        shape: Shape::new(dims).unwrap(),
        quant: Quant {
            scales: F32s(leak(s)),
            zero_points: I64s(leak(z)),
            axis,
        },
        data: None,
        buffer: 0,
        is_variable: false,
    }
}

/// An int8 per-tensor tensor.
pub fn i8t(dims: &[i32], scale: f32, zp: i64) -> Tensor<'static> {
    tensor(DType::I8, dims, &[scale], &[zp], 0)
}

/// An int32 bias (unquantized: the int8 kernels never read its scale).
pub fn bias(n: i32) -> Tensor<'static> {
    tensor(DType::I32, &[n], &[], &[], 0)
}

/// Int8 values as raw bytes.
pub fn bytes(v: &[i8]) -> Vec<u8> {
    v.iter().map(|&x| x as u8).collect()
}

/// Int32 values as little-endian bytes.
pub fn bytes32(v: &[i32]) -> Vec<u8> {
    v.iter().flat_map(|x| x.to_le_bytes()).collect()
}

/// Prepare (measure, then for real) and eval one operator; returns output 0's bytes.
/// `inputs[i] = None` marks an absent optional input.
pub fn run<P>(
    op: BuiltinOp,
    inputs: &[Option<(Tensor<'static>, Vec<u8>)>],
    output: Tensor<'static>,
    mut prepare: impl FnMut(&mut PrepareCtx<'_, '_, '_>) -> Result<P, Error>,
    eval: impl Fn(&P, &mut EvalCtx<'_, '_>) -> Result<(), Error>,
) -> Result<Vec<u8>, Error> {
    let ins: Vec<Option<(i32, Tensor<'static>)>> = inputs
        .iter()
        .enumerate()
        .map(|(i, t)| t.as_ref().map(|(t, _)| (i as i32, *t)))
        .collect();
    let outs = [(100, output)];
    let mut measure = WordAlloc::measure();
    {
        let mut ctx = PrepareCtx {
            op,
            version: 1,
            options: Options::default(),
            inputs: &ins,
            outputs: &outs,
            words: &mut measure,
        };
        prepare(&mut ctx)?;
    }
    let mut buf = vec![0i32; measure.used()];
    let mut alloc = WordAlloc::new(&mut buf);
    let p = {
        let mut ctx = PrepareCtx {
            op,
            version: 1,
            options: Options::default(),
            inputs: &ins,
            outputs: &outs,
            words: &mut alloc,
        };
        prepare(&mut ctx)?
    };
    let in_bytes: Vec<&[u8]> = inputs
        .iter()
        .map(|t| t.as_ref().map_or(&[][..], |(_, b)| &b[..]))
        .collect();
    let mut out = vec![0xAAu8; output.bytes()];
    let mut state = [0u8; 0];
    {
        let mut outs: [&mut [u8]; 1] = [&mut out[..]];
        let mut ctx = EvalCtx {
            inputs: &in_bytes,
            outputs: &mut outs,
            words: &buf,
            state: &mut state,
        };
        eval(&p, &mut ctx)?;
    }
    Ok(out)
}
