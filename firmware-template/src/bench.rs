//! Bench mode: invoke the model `BENCH_RUNS` times on a fixed input, each invocation between
//! `cost_start` and `cost_stop` (an instruction counter's markers: `scripts/m4bench.sh`), then
//! print output 0. `MOTE_INPUT` may hold several invocations back to back (a golden's input
//! file): run k then reads chunk k (cycling) and every run's output is printed, so the device's
//! results can be compared byte for byte with the goldens (`scripts/bench.sh --verify-only`).
//! The stack's high-water mark goes to semihosting stderr at the end (`bench_done`), the figure
//! behind `build.rs`'s bench-mode stack reserve.
//! With `MOTE_BENCH_PER_OP=1` one more invocation follows with the markers around each
//! operator instead, each region followed by an `{"event":"op",...}` line naming it
//! (`scripts/op-costs.sh`).

use mote_engine::aot::Net;
use mote_engine::model::{DType, Model};

use crate::log::{self, JsonStr};
use crate::stack::{paint_stack, stack_top, stack_used};
use crate::{build, cost_start, cost_stop, say, Fail};

/// Runs the bench.
pub fn run() -> Result<(), Fail> {
    let floor = paint_stack();
    let model = Model::parse(&build::MODEL.0[..])?;
    let sg = model.subgraph(0);
    say!(
        "{{\"event\":\"model\",\"board\":\"{}\",\"bytes\":{},\"subgraphs\":{},\"opcodes\":{},\"operators\":{},\"tensors\":{},\"arena\":{},\"state\":{}}}",
        JsonStr(build::BOARD),
        build::MODEL_LEN,
        model.subgraph_count(),
        model.opcode_count(),
        sg.map_or(0, |s| s.operator_count()),
        sg.map_or(0, |s| s.tensor_count()),
        build::ARENA_BYTES,
        build::STATE_BYTES,
    );
    let (arena, state) = crate::buffers()?;
    #[cfg(not(feature = "aot"))]
    let mut interp = mote_engine::Interpreter::new(&model, arena, state)?;
    // The same model compiled ahead of time (the flatbuffer above only names the output type).
    #[cfg(feature = "aot")]
    let mut interp = mote_engine::aot::Compiled::new(&crate::aot_model::MODEL, arena, state)?;

    let n = interp.input_mut(0)?.len();
    let per_run = build::INPUT.filter(|b| n > 0 && b.len() > n && b.len() % n == 0);
    if let Some(bytes) = build::INPUT {
        if per_run.is_none() && bytes.len() != n {
            let tensor = model
                .subgraph(0)
                .and_then(|sg| sg.inputs().get(0))
                .unwrap_or(-1);
            return Err(Fail::Engine(mote_engine::Error::WrongBufferSize {
                tensor,
                expected: u32::try_from(n).unwrap_or(u32::MAX),
                got: u32::try_from(bytes.len()).unwrap_or(u32::MAX),
            }));
        }
    }

    for run in 0..build::BENCH_RUNS as usize {
        // The input is written before *every* run: the planner (like TFLM's) may reuse the
        // input tensor's bytes for a later tensor once its last reader has run, so after one
        // invoke the input buffer no longer holds the input.
        write_input(interp.input_mut(0)?, per_run, run);
        cost_start();
        let r = interp.invoke();
        cost_stop();
        r?;
        if per_run.is_some() {
            print_output(&model, &interp, run)?;
        }
    }
    if per_run.is_none() {
        print_output(&model, &interp, build::BENCH_RUNS as usize - 1)?;
    }
    #[cfg(feature = "aot")]
    if build::BENCH_PER_OP {
        return Err(Fail::Msg(
            "per-operator bench needs the interpreter (build without `aot`)",
        ));
    }
    #[cfg(not(feature = "aot"))]
    if build::BENCH_PER_OP {
        // Same input as the last run, so the kernels take the same paths.
        write_input(
            interp.input_mut(0)?,
            per_run,
            build::BENCH_RUNS as usize - 1,
        );
        interp.invoke_observed(|e| {
            if e.done {
                cost_stop();
                say!(
                    "{{\"event\":\"op\",\"subgraph\":{},\"op\":{}}}",
                    e.subgraph,
                    e.op
                );
            } else {
                cost_start();
            }
        })?;
    }
    log::note(format_args!(
        "{{\"event\":\"bench_done\",\"runs\":{},\"stack_bytes\":{}}}",
        build::BENCH_RUNS,
        stack_used(floor, stack_top())
    ));
    Ok(())
}

/// Writes run `run`'s input: chunk `run` (cycling) of `per_run`, else all of `MOTE_INPUT`
/// (its length was checked against the tensor's), else the fixed pattern.
fn write_input(input: &mut [u8], per_run: Option<&[u8]>, run: usize) {
    let n = input.len();
    match (per_run, build::INPUT) {
        (Some(all), _) => {
            // `per_run` is only `Some` when n > 0 and n divides its length.
            let k = run % (all.len() / n);
            input.copy_from_slice(&all[k * n..(k + 1) * n]);
        }
        (None, Some(bytes)) => input.copy_from_slice(bytes),
        // Fixed pattern, reproducible on the host: byte i = (7 * i + 3) mod 256.
        (None, None) => {
            for (i, b) in input.iter_mut().enumerate() {
                *b = (i.wrapping_mul(7).wrapping_add(3) & 0xFF) as u8;
            }
        }
    }
}

/// One `{"event":"output",...}` line with output 0 of run `run` (int8 printed signed).
fn print_output(model: &Model<'_>, interp: &impl Net, run: usize) -> Result<(), Fail> {
    let dtype = model
        .subgraph(0)
        .and_then(|sg| sg.outputs().get(0))
        .and_then(|t| model.subgraph(0)?.tensor(usize::try_from(t).ok()?))
        .map(|t| t.dtype);
    let out = interp.output(0)?;
    let mut line = log::Line::new();
    {
        use core::fmt::Write as _;
        let _ = write!(
            line,
            "{{\"event\":\"output\",\"runs\":{},\"run\":{},\"dtype\":\"{}\",\"output\":[",
            build::BENCH_RUNS,
            run,
            dtype.map_or("unknown", DType::name)
        );
        for (i, &b) in out.iter().enumerate() {
            let sep = if i == 0 { "" } else { "," };
            let _ = match dtype {
                Some(DType::I8) => write!(line, "{sep}{}", b as i8),
                _ => write!(line, "{sep}{b}"),
            };
        }
        let _ = line.write_str("]}\n");
    }
    Ok(())
}
