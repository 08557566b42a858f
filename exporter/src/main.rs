//! `mote`: inspect and run INT8 TFLite models exactly as the microcontroller will.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use mote_engine::interpreter::InterpreterOptions;
use mote_engine::Model;
use mote_exporter::{io, report};

mod bench;

/// Mote: run keyword-spotting and other small INT8 models bit-exactly as TensorFlow Lite Micro
/// does on a Cortex-M4, and see what they cost.
#[derive(Parser)]
#[command(name = "mote", version, about, long_about = None, after_help = EXAMPLES)]
struct Cli {
    #[command(subcommand)]
    cmd: Cmd,
}

const EXAMPLES: &str = "Examples:
  mote inspect model.tflite                 operators, tensors, arena/state/weights bytes, MACs
  mote inspect model.tflite --json | jq .arena_bytes
  mote infer model.tflite --input in.bin --output out.bin --invocations 50
  mote bench model.tflite --invocations 2000 --json";

#[derive(Subcommand)]
enum Cmd {
    /// Show a model's operators, tensors, quantization and every byte of memory it needs.
    ///
    /// The arena figure is what `Interpreter::new` needs on the device: per-tensor records,
    /// prepared kernels and per-channel multipliers (persistent), plus the planned activations.
    /// Resource variables (streaming state) live in a separate state buffer.
    Inspect {
        /// The .tflite model.
        model: PathBuf,
        /// Print JSON (top-level integers: arena_bytes, state_bytes, weights_bytes, macs).
        #[arg(long)]
        json: bool,
    },
    /// Run a model on raw input tensors and write the raw output tensors.
    ///
    /// IN holds N invocations back to back; each invocation is every model input in order, in
    /// its exact dtype bytes (int8 = 1 byte per value). OUT receives every model output of each
    /// invocation, back to back. Streaming state (resource variables) carries over between
    /// invocations, as on the device.
    Infer {
        /// The .tflite model.
        model: PathBuf,
        /// Raw input tensors (N invocations back to back).
        #[arg(long)]
        input: PathBuf,
        /// Where to write the raw output tensors.
        #[arg(long)]
        output: PathBuf,
        /// Number of invocations (default: as many as the input holds).
        #[arg(long)]
        invocations: Option<usize>,
    },
    /// Time the model's invocation on this machine (median of N after a warm-up).
    ///
    /// Inputs are a fixed pattern (byte i = (7*i + 3) mod 256, as the firmware's bench mode),
    /// or frames replayed from --input. Streaming state carries over, as on the device.
    Bench {
        /// The .tflite model.
        model: PathBuf,
        /// Timed invocations.
        #[arg(long, default_value_t = 1000)]
        invocations: usize,
        /// Untimed invocations first.
        #[arg(long, default_value_t = 20)]
        warmup: usize,
        /// Raw input frames to replay (as for `mote infer`).
        #[arg(long)]
        input: Option<PathBuf>,
        /// Print JSON (median_us, mean_us, min_us, p90_us, arena_bytes, state_bytes, macs, ...).
        #[arg(long)]
        json: bool,
    },
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn read_model(path: &Path) -> Result<Vec<u8>> {
    std::fs::read(path).with_context(|| format!("cannot read model {}", path.display()))
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Inspect { model, json } => inspect(&model, json),
        Cmd::Infer {
            model,
            input,
            output,
            invocations,
        } => infer(&model, &input, &output, invocations),
        Cmd::Bench {
            model,
            invocations,
            warmup,
            input,
            json,
        } => {
            let r = bench::run(&model, invocations, warmup, input.as_deref())?;
            if json {
                println!("{}", serde_json::to_string_pretty(&r)?);
            } else {
                bench::print(&r);
            }
            Ok(())
        }
    }
}

fn inspect(path: &Path, json: bool) -> Result<()> {
    let bytes = read_model(path)?;
    let r = report::report(&bytes)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}", path.display()))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&r)?);
        return Ok(());
    }
    println!("{}  ({} bytes)", path.display(), r.model_bytes);
    println!();
    println!("operators (execution order)");
    println!(
        "  {:>4}  {:>3}  {:<22} {:>3}  {:>10}  inputs -> outputs",
        "step", "sg", "op", "v", "MACs"
    );
    for o in &r.ops {
        println!(
            "  {:>4}  {:>3}  {:<22} {:>3}  {:>10}  {:?} -> {:?}",
            o.step, o.subgraph, o.op, o.version, o.macs, o.inputs, o.outputs
        );
    }
    println!();
    println!("tensors");
    println!(
        "  {:>2} {:>4}  {:<8} {:<18} {:>8}  {:<9} {:>8}  {:<9}  {}",
        "sg", "idx", "dtype", "shape", "bytes", "kind", "offset", "life", "quant / name"
    );
    for t in &r.tensors {
        let life = match (t.first_step, t.last_step) {
            (Some(a), Some(b)) => format!("{a}..{b}"),
            _ => "-".into(),
        };
        let q = match (t.scale, t.zero_point) {
            (Some(s), Some(z)) if t.scales > 1 => {
                format!("per-channel x{} (s0 {s:.6}, zp {z})", t.scales)
            }
            (Some(s), Some(z)) => format!("scale {s:.6} zp {z}"),
            _ => String::new(),
        };
        println!(
            "  {:>2} {:>4}  {:<8} {:<18} {:>8}  {:<9} {:>8}  {:<9}  {} {}",
            t.subgraph,
            t.index,
            t.dtype,
            format!("{:?}", t.shape),
            t.bytes,
            t.kind,
            t.offset.map_or("-".into(), |o| o.to_string()),
            life,
            q,
            t.name
        );
    }
    let m = &r.memory;
    println!();
    println!("memory");
    println!(
        "  arena            {:>9} B   (caller provides; peak at step {})",
        m.arena_bytes, r.peak_step
    );
    println!(
        "    tensors        {:>9} B   planned activations (greedy by size)",
        m.tensor_bytes
    );
    println!(
        "    persistent     {:>9} B   = kernels {} + tensor table {} + words {} (+ alignment)",
        m.persistent_bytes, m.kernel_bytes, m.tensor_table_bytes, m.word_bytes
    );
    println!("    scratch        {:>9} B", m.scratch_bytes);
    println!(
        "  state            {:>9} B   resource variables (streaming state)",
        m.state_bytes
    );
    println!(
        "  weights          {:>9} B   constant data in flash",
        m.weights_bytes
    );
    println!("  MACs / invoke    {:>9}", r.macs);
    Ok(())
}

fn infer(model_path: &Path, input: &Path, output: &Path, invocations: Option<usize>) -> Result<()> {
    let bytes = read_model(model_path)?;
    let model = Model::parse(&bytes)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}", model_path.display()))?;
    let data =
        std::fs::read(input).with_context(|| format!("cannot read input {}", input.display()))?;
    let out = report::with_interpreter(&model, InterpreterOptions::default(), |interp| {
        Ok(io::run_raw(interp, &data, invocations))
    })
    .map_err(anyhow::Error::msg)
    .with_context(|| format!("{}", model_path.display()))??;
    std::fs::write(output, &out)
        .with_context(|| format!("cannot write output {}", output.display()))?;
    Ok(())
}
