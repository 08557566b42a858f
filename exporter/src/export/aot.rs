//! Ahead-of-time compilation: the model as Rust source (`mote/aot/model.rs` +
//! `mote/aot/weights.bin`), for firmware with no interpreter on the chip.
//!
//! The model is prepared here, on the host, by the engine's interpreter (the same `prepare` and
//! planner the chip would run); the generated code is what it decided, spelled out:
//! - the constant tensors the operators read, packed into one 16-byte-aligned `static`
//!   (`weights.bin`, included with `include_bytes!`), each at a 16-byte-aligned offset;
//! - each operator's `Params` as a `static` struct literal (`mote_engine::ops::literal`), and its
//!   per-channel words (if any) as a `static [i32; n]`;
//! - one function per subgraph that calls `mote_engine::ops::<op>::eval` for each operator in
//!   order, through `mote_engine::aot::run`, at arena offsets fixed here (CALL_ONCE: a call
//!   guarded by a bit, as the interpreter does);
//! - `MODEL: mote_engine::aot::CompiledModel`: arena and state bytes, input/output offsets.
//!
//! The arena is only the planned tensor region: no kernel table, placement table or operand
//! lists are needed on the chip.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use mote_engine::interpreter::{InterpreterOptions, Operand};
use mote_engine::model::DType;
use mote_engine::ops::literal::{kernel_literal, Lit};
use mote_engine::ops::Kernel;
use mote_engine::plan::Place;
use mote_engine::{Error, Interpreter, Model};

use crate::report;

/// Alignment of each constant tensor in `weights.bin` (and of the blob), in bytes.
const WEIGHT_ALIGN: usize = 16;

/// Generated source for one model.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Generated {
    /// `model.rs`: include it in a module; it defines `pub static MODEL`.
    pub model_rs: String,
    /// `weights.bin`, next to `model.rs`.
    pub weights: Vec<u8>,
    /// Arena bytes the generated `invoke` needs.
    pub arena_bytes: u32,
    /// State bytes (resource variables).
    pub state_bytes: u32,
    /// Operators evaluated per invoke (aliases and handles excluded).
    pub kernels: usize,
}

/// Generate the Rust source for `model_bytes`.
pub fn generate(model_bytes: &[u8]) -> Result<Generated, Error> {
    let model = Model::parse(model_bytes)?;
    report::with_interpreter(&model, InterpreterOptions::default(), |interp| {
        Gen::new(model_bytes).run(interp)
    })
}

struct Gen<'b> {
    model: &'b [u8],
    /// (model offset, len) → offset in `weights`.
    consts: BTreeMap<(u32, u32), usize>,
    weights: Vec<u8>,
    statics: String,
    kernels: usize,
    /// State slots already reset (several ASSIGN_VARIABLEs may write one variable).
    resets: std::collections::BTreeSet<(u32, u32)>,
    /// Whether some operator runs in place (`run_in_place` is then imported).
    in_place: bool,
}

impl<'b> Gen<'b> {
    fn new(model: &'b [u8]) -> Self {
        Gen {
            model,
            consts: BTreeMap::new(),
            weights: Vec::new(),
            statics: String::new(),
            kernels: 0,
            resets: Default::default(),
            in_place: false,
        }
    }

    /// Offset in `weights` of the model's bytes `[offset, offset + len)`, added on first use.
    fn weight(&mut self, offset: u32, len: u32) -> Result<usize, Error> {
        if let Some(&at) = self.consts.get(&(offset, len)) {
            return Ok(at);
        }
        let bytes = self
            .model
            .get(offset as usize..offset as usize + len as usize)
            .ok_or(Error::InvalidGraph {
                what: "constant outside the model",
                index: offset as i32,
            })?;
        let at = self.weights.len().next_multiple_of(WEIGHT_ALIGN);
        self.weights.resize(at, 0);
        self.weights.extend_from_slice(bytes);
        self.consts.insert((offset, len), at);
        Ok(at)
    }

    fn run(mut self, interp: &mut Interpreter<'_, '_>) -> Result<Generated, Error> {
        let model = *interp.model();
        let mem = interp.memory();
        let mut body = String::new();
        let mut resets = String::new();
        for s in 0..model.subgraph_count() {
            let _ = writeln!(
                body,
                "\n#[allow(unused_variables)]\nfn subgraph_{s}(arena: &mut [u8; ARENA_BYTES], state: &mut [u8], once: &mut u32) -> Result<(), Error> {{"
            );
            for k in 0..interp.operator_count(s) {
                self.op(interp, &model, s, k, &mut body, &mut resets)?;
            }
            body.push_str("    Ok(())\n}\n");
        }
        let io = |list: &mut dyn Iterator<Item = i32>| -> Result<String, Error> {
            let mut out = String::new();
            for t in list {
                let p = interp.placement(0, t as usize).ok_or(Error::InvalidGraph {
                    what: "model input or output",
                    index: t,
                })?;
                let Place::Arena(o) = p.place else {
                    return Err(Error::InvalidGraph {
                        what: "model input or output not in the arena",
                        index: t,
                    });
                };
                let _ = write!(out, "({o}, {}), ", p.bytes);
            }
            Ok(out)
        };
        let sg0 = model.subgraph(0).ok_or(Error::InvalidGraph {
            what: "subgraph",
            index: 0,
        })?;
        let model_io = model_io(&model)?;
        let inputs = io(&mut sg0.inputs().iter())?;
        let outputs = io(&mut sg0.outputs().iter())?;
        let weights_len = self.weights.len().next_multiple_of(WEIGHT_ALIGN);
        self.weights.resize(weights_len, 0);

        let mut src = String::new();
        let _ = write!(
            src,
            "// @generated by `mote export` (ahead-of-time mode): the model prepared and planned at\n\
             // export time. Do not edit; export again instead.\n\
             //\n\
             // {kernels} kernels, arena {arena} bytes, state {state} bytes, weights {weights_len} bytes.\n\
             \n\
             use mote_engine::aot::{{{run}Aligned, CompiledModel, In}};\n\
             use mote_engine::ops;\n\
             use mote_engine::Error;\n\
             \n\
             /// Arena bytes `invoke` needs (the planned tensor region).\n\
             pub const ARENA_BYTES: usize = {arena};\n\
             /// Resource-variable state bytes.\n\
             pub const STATE_BYTES: usize = {state};\n\
             \n\
             /// The model: sizes, input/output offsets, `invoke`.\n\
             pub static MODEL: CompiledModel = CompiledModel {{\n    \
                 arena_bytes: ARENA_BYTES,\n    \
                 state_bytes: STATE_BYTES,\n    \
                 inputs: &[{inputs}],\n    \
                 outputs: &[{outputs}],\n    \
                 invoke,\n    \
                 reset,\n\
             }};\n\
             \n\
             /// Runs the model: the arena as an array of its planned length, so the operand checks in\n\
             /// `run` fold away at compile time.\n\
             fn invoke(arena: &mut [u8], state: &mut [u8], once: &mut u32) -> Result<(), Error> {{\n    \
                 let available = arena.len() as u32;\n    \
                 let arena: &mut [u8; ARENA_BYTES] = arena\n        \
                     .get_mut(..ARENA_BYTES)\n        \
                     .and_then(|a| a.try_into().ok())\n        \
                     .ok_or(Error::ArenaTooSmall {{ needed: ARENA_BYTES as u32, available }})?;\n    \
                 subgraph_0(arena, state, once)\n\
             }}\n\
             \n\
             /// Constant tensors, each at a {WEIGHT_ALIGN}-byte-aligned offset.\n\
             static WEIGHTS: Aligned<[u8; {weights_len}]> = Aligned(*include_bytes!(\"weights.bin\"));\n\
             \n\
             /// `len` bytes of [`WEIGHTS`] at `at` (constant arguments: the check folds away).\n\
             #[inline(always)]\n\
             fn w(at: usize, len: usize) -> In {{\n    \
                 In::Const(WEIGHTS.0.get(at..at + len).unwrap_or(&[]))\n\
             }}\n\
             \n\
             /// Resource variables to their initial values.\n\
             #[allow(unused_variables)]\n\
             fn reset(state: &mut [u8]) {{\n{resets}}}\n",
            kernels = self.kernels,
            run = if self.in_place { "run, run_in_place, " } else { "run, " },
            arena = mem.tensor_bytes,
            state = mem.state_bytes,
        );
        src.push_str(&model_io);
        src.push_str(&self.statics);
        src.push_str(&body);
        Ok(Generated {
            model_rs: src,
            weights: self.weights,
            arena_bytes: mem.tensor_bytes,
            state_bytes: mem.state_bytes,
            kernels: self.kernels,
        })
    }

    fn op(
        &mut self,
        interp: &Interpreter<'_, '_>,
        model: &Model<'_>,
        s: usize,
        k: usize,
        body: &mut String,
        resets: &mut String,
    ) -> Result<(), Error> {
        let p = interp.prepared_op(s, k)?;
        let name = model
            .subgraph(s)
            .and_then(|sg| sg.operator(k))
            .and_then(|o| model.opcode(o.opcode_index as usize))
            .map_or("?", |c| c.builtin.name());
        match p.kernel {
            Kernel::CallOnce { subgraph } => {
                let _ = writeln!(
                    body,
                    "    // {s}.{k} {name}\n    if *once & (1 << {subgraph}) == 0 {{\n        \
                     subgraph_{subgraph}(arena, state, once)?;\n        *once |= 1 << {subgraph};\n    }}"
                );
                return Ok(());
            }
            Kernel::AssignVariable(v) if self.resets.insert((v.offset, v.len)) => {
                let _ = writeln!(
                    resets,
                    "    if let Some(s) = state.get_mut({}..{}) {{\n        s.fill({});\n    }}",
                    v.offset,
                    v.offset + v.len,
                    v.default
                );
            }
            _ => {}
        }
        let mut lit_text = String::new();
        let mut lit = Lit::new(&mut lit_text);
        let Some(module) = kernel_literal(&p.kernel, interp.words(), &mut lit)? else {
            return Ok(()); // alias or handle: nothing runs
        };
        let words = lit.words;
        let id = self.kernels;
        self.kernels += 1;
        let _ = writeln!(
            self.statics,
            "\n/// {s}.{k} {name}\nstatic P{id}: ops::{module}::Params = {lit_text};"
        );
        let words_arg = match words {
            Some(span) if span.len > 0 => {
                let all = interp.words();
                let w = all
                    .get(span.start as usize..(span.start + span.len) as usize)
                    .ok_or(Error::InvalidGraph {
                        what: "kernel words",
                        index: k as i32,
                    })?;
                let list: Vec<String> = w.iter().map(|v| v.to_string()).collect();
                let _ = writeln!(
                    self.statics,
                    "static Q{id}: [i32; {}] = [{}];",
                    w.len(),
                    list.join(", ")
                );
                format!("&Q{id}")
            }
            _ => "&[]".into(),
        };
        let mut ins = Vec::new();
        for x in &p.inputs[..p.n_in] {
            ins.push(match *x {
                Operand::Absent => "In::Absent".to_string(),
                Operand::Arena { offset, len } => format!("In::Arena({offset}, {len})"),
                Operand::Const { offset, len } => {
                    format!("w({}, {len})", self.weight(offset, len)?)
                }
            });
        }
        let mut outs = Vec::new();
        for x in &p.outputs[..p.n_out] {
            outs.push(match *x {
                Operand::Arena { offset, len } => format!("({offset}, {len})"),
                _ => {
                    return Err(Error::InvalidGraph {
                        what: "operator output not in the arena",
                        index: k as i32,
                    })
                }
            });
        }
        // Input 0 and output 0 sharing bytes: the planner let this kernel run in place.
        let in_place = match (p.inputs.first(), p.outputs.first()) {
            (
                Some(&Operand::Arena { offset: i, len: n }),
                Some(&Operand::Arena { offset: o, len: m }),
            ) => p.n_in > 0 && p.n_out > 0 && i < o + m && o < i + n,
            _ => false,
        };
        self.in_place |= in_place;
        let call = if in_place {
            format!("run_in_place(arena, state, [{}], [{}], {words_arg}, |c, io| ops::{module}::eval_in_place(&P{id}, c, io))", ins.join(", "), outs.join(", "))
        } else {
            format!(
                "run(arena, state, [{}], [{}], {words_arg}, |c| ops::{module}::eval(&P{id}, c))",
                ins.join(", "),
                outs.join(", ")
            )
        };
        let _ = writeln!(body, "    // {s}.{k} {name}\n    {call}?;");
        Ok(())
    }
}

/// `pub const IO`: what the pipeline reads from the model (input 0, output 0), so the firmware
/// derives its configuration without the flatbuffer (`PipelineConfig::for_io`). Empty for a
/// model without inputs or outputs (not an audio model; `IO` is then not needed).
fn model_io(model: &Model<'_>) -> Result<String, Error> {
    let Some(sg) = model.subgraph(0) else {
        return Ok(String::new());
    };
    let (Some(i), Some(o)) = (sg.inputs().get(0), sg.outputs().get(0)) else {
        return Ok(String::new());
    };
    let bad = |index| Error::InvalidGraph {
        what: "tensor",
        index,
    };
    let input = sg.tensor(i as usize).ok_or(bad(i))?;
    let output = sg.tensor(o as usize).ok_or(bad(o))?;
    let out_type = match output.dtype {
        DType::U8 => "Some(OutputType::Uint8)",
        DType::I8 => "Some(OutputType::Int8)",
        _ => "None",
    };
    Ok(format!(
        "\n/// The model's input 0 and output 0, for `PipelineConfig::for_io`.\n\
         pub const IO: mote_engine::pipeline::ModelIo<'static> = mote_engine::pipeline::ModelIo {{\n    \
             input_index: {i},\n    \
             input_dims: &{:?},\n    \
             input_int8: {},\n    \
             input_scale: f32::from_bits({:#010x}),\n    \
             input_zero_point: {},\n    \
             output_index: {o},\n    \
             output: {out_type},\n    \
             output_elements: {},\n\
         }};\n\
         use mote_engine::detector::OutputType;\n",
        input.shape.dims(),
        input.dtype == DType::I8,
        input.quant.scale().to_bits(),
        input.quant.zero_point(),
        output.shape.elements().unwrap_or(0),
    ))
}

/// Put the generated code in an exported project: `mote/aot/model.rs` and
/// `mote/aot/weights.bin`, and the firmware's `aot` feature on by default.
pub fn add_to_project(files: &mut Vec<super::project::File>, g: &Generated) {
    for f in files.iter_mut().filter(|f| f.path == "Cargo.toml") {
        let text = String::from_utf8_lossy(&f.data).into_owned();
        // The default-features line `project::firmware_manifest` wrote: `default = [...]`.
        let out: Vec<String> = text
            .lines()
            .map(|l| {
                match l
                    .strip_prefix("default = [")
                    .and_then(|r| r.strip_suffix(']'))
                {
                    Some(list) => format!("default = [{list}, \"aot\"]"),
                    None => l.to_string(),
                }
            })
            .collect();
        f.data = (out.join("\n") + "\n").into_bytes();
    }
    for (path, data) in [
        ("mote/aot/model.rs", g.model_rs.as_bytes().to_vec()),
        ("mote/aot/weights.bin", g.weights.clone()),
    ] {
        files.push(super::project::File {
            path: path.into(),
            data,
            mode: 0o644,
        });
    }
    files.sort_by(|a, b| a.path.cmp(&b.path));
}
