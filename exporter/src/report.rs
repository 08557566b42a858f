//! A model's report: operators, tensors, memory. Shared by `mote inspect`, the exporter and the
//! web playground's visualizer, so all three show the same numbers.

use mote_engine::interpreter::InterpreterOptions;
use mote_engine::model::{DType, Model};
use mote_engine::plan::{MemoryReport, Place};
use mote_engine::{Error, Interpreter};
use serde::Serialize;

/// One operator in execution order.
#[derive(Clone, Debug, Serialize)]
pub struct OpReport {
    /// Step in the timeline (CALL_ONCE subgraphs expanded in place).
    pub step: u32,
    /// Subgraph index.
    pub subgraph: usize,
    /// Operator index within the subgraph.
    pub index: usize,
    /// Builtin name, e.g. `CONV_2D`.
    pub op: String,
    /// Operator version.
    pub version: i32,
    /// Input tensor indices (-1 = absent).
    pub inputs: Vec<i32>,
    /// Output tensor indices.
    pub outputs: Vec<i32>,
    /// Multiply-accumulates per invoke.
    pub macs: u64,
}

/// One tensor.
#[derive(Clone, Debug, Serialize)]
pub struct TensorReport {
    /// Subgraph index.
    pub subgraph: usize,
    /// Tensor index.
    pub index: usize,
    /// Name in the model.
    pub name: String,
    /// Shape.
    pub shape: Vec<i32>,
    /// Element type.
    pub dtype: String,
    /// Bytes of data.
    pub bytes: u32,
    /// Per-tensor scale (first scale if per-channel); null if not quantized.
    pub scale: Option<f32>,
    /// Per-tensor zero point.
    pub zero_point: Option<i32>,
    /// Number of per-channel scales (1 = per tensor).
    pub scales: usize,
    /// `arena`, `constant`, `alias`, `resource`, or `unused`.
    pub kind: &'static str,
    /// Arena offset (for arena tensors and aliases of them).
    pub offset: Option<u32>,
    /// First step alive.
    pub first_step: Option<u16>,
    /// Last step alive.
    pub last_step: Option<u16>,
}

/// Everything `mote inspect` shows.
#[derive(Clone, Debug, Serialize)]
pub struct ModelReport {
    /// Arena bytes the model needs (persistent tables + planned tensors).
    pub arena_bytes: u32,
    /// Resource-variable state bytes (a separate buffer).
    pub state_bytes: u32,
    /// Constant bytes in the model (weights, biases, shapes).
    pub weights_bytes: u32,
    /// Multiply-accumulates per invoke.
    pub macs: u64,
    /// Model file size.
    pub model_bytes: usize,
    /// Memory breakdown.
    pub memory: MemoryReport,
    /// Operators in execution order.
    pub ops: Vec<OpReport>,
    /// Tensors of all subgraphs.
    pub tensors: Vec<TensorReport>,
    /// Step with the largest live tensor bytes.
    pub peak_step: u32,
}

/// Arena and state bytes `model` needs (arena with 16 bytes of slack for start alignment).
pub fn buffer_sizes(
    model: &Model<'_>,
    options: InterpreterOptions,
) -> Result<(usize, usize), Error> {
    let (mut arena_len, mut state_len) = (64 * 1024, 0);
    loop {
        let (mut arena, mut state) = (vec![0u8; arena_len], vec![0u8; state_len]);
        match Interpreter::with_options(model, &mut arena, &mut state, options) {
            Ok(_) => return Ok((arena_len, state_len)),
            // Persistent tables come first; 16 bytes cover any start alignment difference.
            Err(Error::ArenaTooSmall { needed, .. }) if needed as usize + 16 > arena_len => {
                arena_len = needed as usize + 16
            }
            Err(Error::StateTooSmall { needed, .. }) if needed as usize > state_len => {
                state_len = needed as usize
            }
            Err(e) => return Err(e),
        }
    }
}

/// Prepare `model` in heap buffers of the size it needs and run `f` on the interpreter.
pub fn with_interpreter<T>(
    model: &Model<'_>,
    options: InterpreterOptions,
    f: impl FnOnce(&mut Interpreter<'_, '_>) -> Result<T, Error>,
) -> Result<T, Error> {
    let (a, s) = buffer_sizes(model, options)?;
    let (mut arena, mut state) = (vec![0u8; a], vec![0u8; s]);
    let mut interp = Interpreter::with_options(model, &mut arena, &mut state, options)?;
    f(&mut interp)
}

/// Build the report.
pub fn report(model_bytes: &[u8]) -> Result<ModelReport, Error> {
    let model = Model::parse(model_bytes)?;
    with_interpreter(&model, InterpreterOptions::default(), |interp| {
        Ok(build(&model, interp))
    })
}

fn build(model: &Model<'_>, interp: &mut Interpreter<'_, '_>) -> ModelReport {
    let mut ops_out = Vec::new();
    let _ = interp.timeline(|st| {
        let sg = model.subgraph(st.subgraph);
        let op = sg.and_then(|s| s.operator(st.op));
        let code = op.and_then(|o| model.opcode(o.opcode_index as usize));
        ops_out.push(OpReport {
            step: st.step as u32,
            subgraph: st.subgraph,
            index: st.op,
            op: code.map_or("?".into(), |c| c.builtin.name().to_string()),
            version: code.map_or(0, |c| c.version),
            inputs: op.map_or(vec![], |o| o.inputs.iter().collect()),
            outputs: op.map_or(vec![], |o| o.outputs.iter().collect()),
            macs: interp.op_macs(st.subgraph, st.op),
        });
        Ok(())
    });
    let mut tensors = Vec::new();
    for s in 0..model.subgraph_count() {
        let Some(sg) = model.subgraph(s) else {
            continue;
        };
        for t in 0..sg.tensor_count() {
            let Some(tensor) = sg.tensor(t) else { continue };
            let p = interp.placement(s, t);
            let alias = p.is_some_and(|p| p.alias);
            let (kind, offset) = match p.map(|p| p.place) {
                Some(Place::Arena(o)) => (if alias { "alias" } else { "arena" }, Some(o)),
                Some(Place::Const(_)) => ("constant", None),
                Some(Place::Resource(_)) => ("resource", None),
                _ if tensor.data.is_some() => ("constant", None),
                _ if tensor.dtype == DType::Resource => ("resource", None),
                _ => ("unused", None),
            };
            tensors.push(TensorReport {
                subgraph: s,
                index: t,
                name: tensor.name.to_string(),
                shape: tensor.shape.dims().to_vec(),
                dtype: tensor.dtype.name().to_string(),
                bytes: tensor.bytes() as u32,
                scale: tensor.quant.is_quantized().then(|| tensor.quant.scale()),
                zero_point: tensor
                    .quant
                    .is_quantized()
                    .then(|| tensor.quant.zero_point()),
                scales: tensor.quant.scales.len(),
                kind,
                offset,
                first_step: p.and_then(|p| p.first_step),
                last_step: p.and_then(|p| p.last_step),
            });
        }
    }
    // Peak step: the step whose live arena tensors (roots only) sum highest.
    let mut peak_step = 0;
    let mut peak = 0u64;
    for st in 0..interp.memory().steps {
        let live: u64 = tensors
            .iter()
            .filter(|t| t.kind == "arena")
            .filter(|t| matches!((t.first_step, t.last_step), (Some(a), Some(b)) if a as u32 <= st && st <= b as u32))
            .map(|t| t.bytes as u64)
            .sum();
        if live > peak {
            peak = live;
            peak_step = st;
        }
    }
    let mem = interp.memory();
    ModelReport {
        arena_bytes: mem.arena_bytes,
        state_bytes: mem.state_bytes,
        weights_bytes: mem.weights_bytes,
        macs: ops_out.iter().map(|o| o.macs).sum(),
        model_bytes: model.bytes().len(),
        memory: mem,
        ops: ops_out,
        tensors,
        peak_step,
    }
}

/// Every operator of `model` the engine cannot run, one entry per distinct operator code, in
/// order of first use: `LEAKY_RELU v1 (2 uses)`, `"MyCustomOp" (custom, 1 use)`.
pub fn unsupported_ops(model: &Model<'_>) -> Vec<String> {
    use mote_engine::model::BuiltinOp;
    let mut seen: Vec<(u32, usize)> = Vec::new();
    for s in 0..model.subgraph_count() {
        let Some(sg) = model.subgraph(s) else {
            continue;
        };
        for k in 0..sg.operator_count() {
            let Some(op) = sg.operator(k) else { continue };
            let Some(code) = model.opcode(op.opcode_index as usize) else {
                continue;
            };
            if code.builtin != BuiltinOp::CUSTOM && mote_engine::ops::supported(code.builtin) {
                continue;
            }
            match seen.iter_mut().find(|(i, _)| *i == op.opcode_index) {
                Some((_, n)) => *n += 1,
                None => seen.push((op.opcode_index, 1)),
            }
        }
    }
    seen.iter()
        .filter_map(|&(i, n)| {
            let code = model.opcode(i as usize)?;
            let uses = if n == 1 {
                "1 use".to_string()
            } else {
                format!("{n} uses")
            };
            Some(if code.builtin == BuiltinOp::CUSTOM {
                format!("{:?} (custom, {uses})", code.custom.unwrap_or(""))
            } else {
                format!("{} v{} ({uses})", code.builtin.name(), code.version)
            })
        })
        .collect()
}

/// An engine error about `model_bytes` as a sentence: an unsupported operator lists every
/// operator the model uses that the engine lacks (custom ones by name), not just the first.
pub fn explain(model_bytes: &[u8], e: &Error) -> String {
    match e {
        Error::UnsupportedOp { .. } | Error::UnsupportedCustomOp { .. } => {
            match Model::parse(model_bytes).map(|m| unsupported_ops(&m)) {
                Ok(list) if list.len() == 1 => format!(
                    "unsupported operator {}: mote-engine does not implement it",
                    list.join("")
                ),
                Ok(list) if !list.is_empty() => format!(
                    "unsupported operators {}: mote-engine does not implement them",
                    list.join(", ")
                ),
                _ => e.to_string(),
            }
        }
        _ => e.to_string(),
    }
}
