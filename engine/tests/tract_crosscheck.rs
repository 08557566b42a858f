//! Cross-check of our .tflite reader against an independent one: tract-tflite's.
//!
//! For every model (the golden op models always; the reference models when present), two levels:
//! - **Schema level**, every tensor of every subgraph: tract's generated FlatBuffer accessors
//!   (`tract_tflite::tflite`, verified by the `flatbuffers` crate's verifier) against
//!   `mote_engine::Model`: shape, dtype, every scale (bit-exact), every zero point, the
//!   per-channel axis, `is_variable`, name, constant data length; plus the graph structure
//!   (subgraph inputs/outputs, operator codes/versions, operator inputs/outputs).
//!   This level reads any model, including the streaming ones with CALL_ONCE and resource
//!   variables.
//! - **Graph level**, where tract can build a `TypedModel` from the file: the facts tract
//!   derives for subgraph 0's inputs, outputs and constants (shape, dtype, per-tensor zero point
//!   and scale) against our tensors. tract refuses models with ops it lacks (CALL_ONCE,
//!   VAR_HANDLE, READ/ASSIGN_VARIABLE, ...): such models are listed as schema-level only.

mod common;

use std::path::{Path, PathBuf};

use mote_engine::model::DType;
use mote_engine::Model;
use tract_tflite::internal::DatumType;
use tract_tflite::prelude::{Framework, QParams};
use tract_tflite::tflite as fb;

/// One tensor as a reader sees it.
#[derive(Debug, PartialEq)]
struct View {
    name: String,
    shape: Vec<i32>,
    dtype: u8,
    /// Scales as bits (so NaN compares and -0.0 ≠ 0.0).
    scales: Vec<u32>,
    zero_points: Vec<i64>,
    axis: i32,
    is_variable: bool,
    /// Constant data length (None: no data).
    data: Option<usize>,
}

/// A whole model's structure as a reader sees it.
#[derive(Debug, PartialEq)]
struct Graph {
    /// (builtin code, version) per operator code.
    opcodes: Vec<(i32, i32)>,
    subgraphs: Vec<SubgraphView>,
}

#[derive(Debug, PartialEq)]
struct SubgraphView {
    inputs: Vec<i32>,
    outputs: Vec<i32>,
    /// (opcode index, inputs, outputs) per operator.
    operators: Vec<(u32, Vec<i32>, Vec<i32>)>,
    tensors: Vec<View>,
}

fn ours(model: &Model<'_>) -> Graph {
    let opcodes = (0..model.opcode_count())
        .map(|i| {
            let c = model.opcode(i).expect("validated opcode");
            (c.builtin.0, c.version)
        })
        .collect();
    let subgraphs = (0..model.subgraph_count())
        .map(|s| {
            let sg = model.subgraph(s).expect("validated subgraph");
            let tensors = (0..sg.tensor_count())
                .map(|t| {
                    let t = sg.tensor(t).expect("validated tensor");
                    let q = t.quant;
                    View {
                        name: t.name.to_string(),
                        shape: t.shape.dims().to_vec(),
                        dtype: t.dtype.code(),
                        scales: (0..q.scales.len())
                            .map(|k| q.scales.get(k).unwrap().to_bits())
                            .collect(),
                        zero_points: (0..q.zero_points.len())
                            .map(|k| q.zero_points.get(k).unwrap())
                            .collect(),
                        axis: q.axis,
                        is_variable: t.is_variable,
                        data: t.data.map(|d| d.len()),
                    }
                })
                .collect();
            let operators = (0..sg.operator_count())
                .map(|k| {
                    let o = sg.operator(k).expect("validated operator");
                    (
                        o.opcode_index,
                        o.inputs.iter().collect(),
                        o.outputs.iter().collect(),
                    )
                })
                .collect();
            SubgraphView {
                inputs: sg.inputs().iter().collect(),
                outputs: sg.outputs().iter().collect(),
                operators,
                tensors,
            }
        })
        .collect();
    Graph { opcodes, subgraphs }
}

fn theirs(bytes: &[u8]) -> Graph {
    try_theirs(bytes).expect("tract's FlatBuffer verifier rejects the model")
}

/// The model as tract's schema accessors read it; `None` if its verifier refuses the file.
fn try_theirs(bytes: &[u8]) -> Option<Graph> {
    let m = fb::root_as_model(bytes).ok()?;
    let buffers = m.buffers();
    let opcodes = m
        .operator_codes()
        .map(|v| {
            v.iter()
                .map(|c| {
                    // tract's rule (registry.rs): the deprecated byte unless it is the
                    // "greater op codes" placeholder (127).
                    let code = if c.deprecated_builtin_code() == 127 {
                        c.builtin_code().0
                    } else {
                        c.deprecated_builtin_code() as i32
                    };
                    (code, c.version())
                })
                .collect()
        })
        .unwrap_or_default();
    let subgraphs = m
        .subgraphs()?
        .iter()
        .map(|sg| {
            let tensors = sg
                .tensors()
                .map(|ts| {
                    ts.iter()
                        .map(|t| {
                            let q = t.quantization();
                            let data = (t.buffer() != 0)
                                .then(|| {
                                    buffers
                                        .filter(|b| (t.buffer() as usize) < b.len())
                                        .and_then(|b| b.get(t.buffer() as usize).data())
                                        .map(|d| d.len())
                                })
                                .flatten()
                                .filter(|&n| n > 0);
                            View {
                                name: t.name().unwrap_or("").to_string(),
                                shape: t.shape().map(|s| s.iter().collect()).unwrap_or_default(),
                                dtype: t.type_().0 as u8,
                                scales: q
                                    .and_then(|q| q.scale())
                                    .map(|s| s.iter().map(f32::to_bits).collect())
                                    .unwrap_or_default(),
                                zero_points: q
                                    .and_then(|q| q.zero_point())
                                    .map(|z| z.iter().collect())
                                    .unwrap_or_default(),
                                axis: q.map_or(0, |q| q.quantized_dimension()),
                                is_variable: t.is_variable(),
                                data,
                            }
                        })
                        .collect()
                })
                .unwrap_or_default();
            let operators = sg
                .operators()
                .map(|ops| {
                    ops.iter()
                        .map(|o| {
                            (
                                o.opcode_index(),
                                o.inputs().map(|v| v.iter().collect()).unwrap_or_default(),
                                o.outputs().map(|v| v.iter().collect()).unwrap_or_default(),
                            )
                        })
                        .collect()
                })
                .unwrap_or_default();
            SubgraphView {
                inputs: sg.inputs().map(|v| v.iter().collect()).unwrap_or_default(),
                outputs: sg.outputs().map(|v| v.iter().collect()).unwrap_or_default(),
                operators,
                tensors,
            }
        })
        .collect();
    Some(Graph { opcodes, subgraphs })
}

/// What a tract fact says about a tensor, in our terms.
fn fact_matches(
    what: &str,
    fact: &tract_tflite::internal::TypedFact,
    t: &View,
) -> Result<(), String> {
    let shape: Option<Vec<i32>> = fact
        .shape
        .as_concrete()
        .map(|s| s.iter().map(|&d| d as i32).collect());
    if shape.as_deref() != Some(&t.shape[..]) {
        return Err(format!(
            "{what}: shape ours {:?}, tract {:?}",
            t.shape, fact.shape
        ));
    }
    let dt: DatumType = fact.datum_type;
    let code = fb::TensorType::try_from(dt.unquantized())
        .map(|c| c.0 as u8)
        .map_err(|e| format!("{what}: {e}"))?;
    if code != t.dtype {
        return Err(format!(
            "{what}: dtype ours {}, tract {dt:?}",
            DType::from_schema(t.dtype).name()
        ));
    }
    // tract keeps the first (zero point, scale) of a quantized tensor; only when both vectors exist.
    let want = match (t.scales.first(), t.zero_points.first()) {
        (Some(&s), Some(&z)) => Some((z as i32, f32::from_bits(s))),
        _ => None,
    };
    let got = match dt.qparams() {
        Some(QParams::ZpScale { zero_point, scale }) => Some((zero_point, scale)),
        Some(other) => return Err(format!("{what}: tract has {other:?}")),
        None => None,
    };
    if want.map(|(z, s)| (z, s.to_bits())) != got.map(|(z, s)| (z, s.to_bits())) {
        return Err(format!(
            "{what}: (zero point, scale) ours {want:?}, tract {got:?}"
        ));
    }
    Ok(())
}

#[derive(Default)]
struct Counts {
    models: usize,
    tensors: usize,
    quantized: usize,
    per_channel: usize,
    operators: usize,
    graph_models: usize,
    graph_facts: usize,
    schema_only: Vec<String>,
    /// Outputs whose quantization or shape tract infers differently from the file's declaration.
    inferred_differs: Vec<String>,
}

/// Compare one model; mismatches are pushed to `errors`.
fn crosscheck(name: &str, bytes: &[u8], counts: &mut Counts, errors: &mut Vec<String>) {
    let model = Model::parse(bytes).unwrap_or_else(|e| panic!("{name}: our reader: {e}"));
    let (a, b) = (ours(&model), theirs(bytes));
    counts.models += 1;
    if a.opcodes != b.opcodes {
        errors.push(format!(
            "{name}: operator codes ours {:?}, tract {:?}",
            a.opcodes, b.opcodes
        ));
    }
    if a.subgraphs.len() != b.subgraphs.len() {
        errors.push(format!(
            "{name}: {} subgraphs, tract {}",
            a.subgraphs.len(),
            b.subgraphs.len()
        ));
    }
    for (s, (x, y)) in a.subgraphs.iter().zip(&b.subgraphs).enumerate() {
        if (&x.inputs, &x.outputs) != (&y.inputs, &y.outputs) {
            errors.push(format!("{name}: subgraph {s} inputs/outputs differ"));
        }
        if x.operators != y.operators {
            errors.push(format!("{name}: subgraph {s} operators differ"));
        }
        counts.operators += x.operators.len();
        if x.tensors.len() != y.tensors.len() {
            errors.push(format!(
                "{name}: subgraph {s}: {} tensors, tract {}",
                x.tensors.len(),
                y.tensors.len()
            ));
        }
        for (i, (t, u)) in x.tensors.iter().zip(&y.tensors).enumerate() {
            counts.tensors += 1;
            counts.quantized += !t.scales.is_empty() as usize;
            counts.per_channel += (t.scales.len() > 1) as usize;
            if t != u {
                errors.push(format!(
                    "{name}: subgraph {s} tensor {i}:\n  ours  {t:?}\n  tract {u:?}"
                ));
            }
        }
    }

    // Graph level: tract's own model loading.
    let tract = tract_tflite::tflite();
    // tract's loader panics on some valid models (an absent optional input, index -1, is looked
    // up as a tensor): caught here, since it is tract's failure, not ours.
    let hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let loaded = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tract.model_for_read(&mut &bytes[..])
    }));
    std::panic::set_hook(hook);
    let typed = match loaded {
        Err(_) => {
            counts
                .schema_only
                .push(format!("{name} (tract's loader panicked)"));
            return;
        }
        Ok(Ok(m)) => m,
        Ok(Err(e)) => {
            let why = e.root_cause().to_string();
            let why: String = why.lines().next().unwrap_or("").chars().take(80).collect();
            counts.schema_only.push(format!("{name} ({why})"));
            return;
        }
    };
    counts.graph_models += 1;
    let sg = &a.subgraphs[0];
    let mut check = |what: String, outlet: tract_tflite::internal::OutletId, t: i32| {
        let fact = typed.outlet_fact(outlet).expect("outlet fact");
        match fact_matches(&what, fact, &sg.tensors[t as usize]) {
            Ok(()) => counts.graph_facts += 1,
            Err(e) => errors.push(format!("{name}: {e}")),
        }
    };
    // tract skips per-axis-quantized inputs; compare the ones it has, by name.
    for (i, &t) in sg.inputs.iter().enumerate() {
        let tname = &sg.tensors[t as usize].name;
        if let Some(o) = typed
            .input_outlets()
            .unwrap()
            .iter()
            .find(|o| typed.node(o.node).name == *tname)
        {
            check(format!("input {i} (tensor {t})"), *o, t);
        }
    }
    // Constants tract added under the tensor's own name.
    for (t, view) in sg.tensors.iter().enumerate() {
        if view.data.is_none() || view.name.is_empty() {
            continue;
        }
        let Some(node) = typed.nodes().iter().find(|n| {
            n.name == view.name
                && n.op_is::<tract_tflite::internal::tract_core::ops::konst::Const>()
        }) else {
            continue;
        };
        check(
            format!("constant tensor {t}"),
            tract_tflite::internal::OutletId::new(node.id, 0),
            t as i32,
        );
    }
    // Outputs: tract's facts there are its own inference through its ops (e.g. its RELU keeps
    // the input's quantization, its SQUEEZE with no axes keeps the shape), not what it read from
    // the file, so only the element type is compared; other differences are listed.
    for (i, &t) in sg.outputs.iter().enumerate() {
        if let Some(&o) = typed.output_outlets().unwrap().get(i) {
            let fact = typed.outlet_fact(o).expect("outlet fact");
            let view = &sg.tensors[t as usize];
            let code = fb::TensorType::try_from(fact.datum_type.unquantized()).map(|c| c.0 as u8);
            if code.as_ref().ok() != Some(&view.dtype) {
                errors.push(format!(
                    "{name}: output {i} (tensor {t}): dtype ours {}, tract {:?}",
                    view.dtype, fact.datum_type
                ));
            } else {
                counts.graph_facts += 1;
                if let Err(e) = fact_matches(&format!("output {i} (tensor {t})"), fact, view) {
                    counts.inferred_differs.push(format!("{name}: {e}"));
                }
            }
        }
    }
}

fn models() -> Vec<(String, PathBuf)> {
    let ops = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/golden/ops");
    let mut v: Vec<(String, PathBuf)> = std::fs::read_dir(&ops)
        .expect("tests/golden/ops")
        .filter_map(|e| e.ok().map(|e| e.path().join("model.tflite")))
        .filter(|p| p.exists())
        .map(|p| {
            (
                format!(
                    "ops/{}",
                    p.parent().unwrap().file_name().unwrap().to_string_lossy()
                ),
                p,
            )
        })
        .collect();
    v.sort();
    for &r in common::REFERENCE_MODELS {
        if let Some(p) = common::resolve(Path::new("."), r) {
            v.push((r.to_string(), p));
        }
    }
    v
}

#[test]
fn reader_agrees_with_tract_tflite() {
    let mut counts = Counts::default();
    let mut errors = vec![];
    for (name, path) in models() {
        crosscheck(&name, &common::read(&path), &mut counts, &mut errors);
    }
    println!(
        "tract cross-check: {} models, {} operators, {} tensors compared at schema level \
         ({} quantized, {} per-channel); {} models loaded by tract as graphs, {} tensor facts compared",
        counts.models, counts.operators, counts.tensors, counts.quantized, counts.per_channel, counts.graph_models, counts.graph_facts
    );
    for s in &counts.schema_only {
        println!("  schema level only (tract cannot build a graph): {s}");
    }
    for d in &counts.inferred_differs {
        println!("  (tract's inferred output fact differs from the declared tensor: {d})");
    }
    for e in &errors {
        println!("MISMATCH {e}");
    }
    assert!(
        counts.models > 100 && counts.tensors > 300,
        "too few models found"
    );
    assert!(
        errors.is_empty(),
        "{} mismatches between our reader and tract-tflite",
        errors.len()
    );
}

/// Differential check on mutated op models: whenever both readers accept a mutant, they must
/// read the same tensors (shape, dtype, scales, zero points, axis, name, `is_variable`) and the
/// same graph. Operator codes are left out (for inconsistent `deprecated_builtin_code` /
/// `builtin_code` pairs we take the larger, as TFLM's `GetBuiltinCode` does; tract prefers the
/// deprecated byte), and so is constant data length (tract's schema has no external buffers).
mod differential {
    use super::*;
    use proptest::prelude::*;
    use proptest::sample::Index;

    fn op_models() -> &'static [(String, Vec<u8>)] {
        static M: std::sync::OnceLock<Vec<(String, Vec<u8>)>> = std::sync::OnceLock::new();
        M.get_or_init(|| {
            models()
                .into_iter()
                .filter(|(n, _)| n.starts_with("ops/"))
                .map(|(n, p)| (n, common::read(&p)))
                .collect()
        })
    }

    fn same(a: &Graph, b: &Graph) -> Result<(), String> {
        if a.subgraphs.len() != b.subgraphs.len() {
            return Err("subgraph count".into());
        }
        for (x, y) in a.subgraphs.iter().zip(&b.subgraphs) {
            if (&x.inputs, &x.outputs, &x.operators) != (&y.inputs, &y.outputs, &y.operators) {
                return Err("graph structure".into());
            }
            if x.tensors.len() != y.tensors.len() {
                return Err("tensor count".into());
            }
            for (i, (t, u)) in x.tensors.iter().zip(&y.tensors).enumerate() {
                let key = |v: &View| {
                    (
                        v.name.clone(),
                        v.shape.clone(),
                        v.dtype,
                        v.scales.clone(),
                        v.zero_points.clone(),
                        v.axis,
                        v.is_variable,
                    )
                };
                if key(t) != key(u) {
                    return Err(format!("tensor {i}:\n  ours  {t:?}\n  tract {u:?}"));
                }
            }
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 20_000, failure_persistence: None, ..ProptestConfig::default() })]
        #[test]
        fn readers_agree_on_mutants(model in any::<Index>(), edits in prop::collection::vec((any::<Index>(), any::<u8>(), 0u8..4), 1..6)) {
            let (name, orig) = model.get(op_models());
            let mut b = orig.clone();
            for (at, v, kind) in &edits {
                let p = at.index(b.len());
                match kind {
                    0 => b[p] ^= v | 1,
                    1 => b[p] = *v,
                    // Small 32-bit values, where offsets, indices, lengths and dims live.
                    _ => {
                        let p = p & !3;
                        if p + 4 <= b.len() {
                            b[p..p + 4].copy_from_slice(&(*v as u32).to_le_bytes());
                        }
                    }
                }
            }
            if let (Ok(m), Some(t)) = (Model::parse(&b), try_theirs(&b)) {
                if let Err(e) = same(&ours(&m), &t) {
                    prop_assert!(false, "{name} mutant read differently: {e}");
                }
            }
        }
    }
}
