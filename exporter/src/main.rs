//! `mote`: inspect and run INT8 TFLite models exactly as the microcontroller will.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Parser, Subcommand};
use mote_engine::interpreter::InterpreterOptions;
use mote_engine::Model;
use mote_exporter::export::config::Settings;
use mote_exporter::{audio, detect as det, energy, io, report, sidecar};

use crate::files::AtomicOut;

#[cfg(feature = "listen")]
mod listen;

#[path = "export/aot_cli.rs"]
mod compile_cmd;
/// `mote export` (kept beside the library's export module; the binary alone needs clap).
#[path = "export/cli.rs"]
mod export_cmd;

mod bench;
mod bin_cmd;
mod files;
mod mfcc_features;
mod train;

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
  mote inspect okay_nabu.tflite --board nucleo-l432kc --clock 26   (latency, current, battery)
  mote infer model.tflite --input in.bin --output out.bin --invocations 50
  mote features yes.wav --preset micro-speech --output yes.features
  mote detect okay_nabu.tflite recording.wav          (okay_nabu.json beside it is read)
  mote detect micro_speech.tflite yes.wav --json      (JSON Lines, as the firmware prints)
  mote listen okay_nabu.tflite                        (live microphone)
  mote export okay_nabu.tflite --json-sidecar okay_nabu.json --board nucleo-l476rg -o fw.zip
  mote export model.tflite --board b-l475e-iot01a --replay yes.wav -o fw.zip   (runs in QEMU)
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
        /// Also estimate latency, current and battery life on this board (an export target,
        /// or a compare-only chip id: nucleo-l4r5zi, nrf52840). The model's sidecar
        /// (`MODEL.json` beside it) sets the pipeline's schedule.
        #[arg(long)]
        board: Option<String>,
        /// Core clock for the estimate, MHz (default: 64, the exported firmware's clock);
        /// the table lists every clock the chip offers.
        #[arg(long, requires = "board")]
        clock: Option<u32>,
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
        /// Where to write the raw output tensors (optional with --json).
        #[arg(long, required_unless_present = "json")]
        output: Option<PathBuf>,
        /// Number of invocations, at least 1 (default: as many as the input holds).
        #[arg(long)]
        invocations: Option<usize>,
        /// Print every output of every invocation as a JSON line on stdout,
        /// {"output":0,"dtype":"int8","values":[…]}: what an exported firmware prints.
        #[arg(long)]
        json: bool,
    },
    /// Export a firmware project (zip) for an STM32L4 board: it builds with
    /// `cargo build --release` and flashes with `cargo run --release`.
    ///
    /// The zip is self-contained (firmware, engine sources, model, generated config and report)
    /// and deterministic (same inputs, same bytes). Without --replay the firmware listens to
    /// the board's microphone; with it, it runs the pipeline over the WAV from flash, prints
    /// the same JSON lines as `mote detect --json`, and exits (B-L475E-IOT01A runs in QEMU).
    ///
    /// With --bin: one .bin for the board's ST-LINK USB drive instead (the prebuilt runtime,
    /// scripts/build-runtimes.sh, plus this model in its flash slot): no toolchain to flash it.
    /// A model that is not a keyword model gets an infer-mode project: it runs the model on
    /// --input (else zeros) from flash and prints what `mote infer --json` prints.
    Export(export_cmd::ExportArgs),
    /// Compile a model ahead of time into Rust source (`model.rs` + `weights.bin`), as
    /// `mote export` does for its firmware: the firmware's `aot` feature builds it
    /// (`MOTE_AOT_DIR=DIR`), with no interpreter on the chip.
    Compile(compile_cmd::CompileArgs),
    /// Compute audio features exactly as the device does (TFLM micro-frontend, fixed point;
    /// or MLPerf Tiny KWS's MFCCs in f32).
    ///
    /// The WAV is converted to 16 kHz mono first (any 8–192 kHz WAV, 16-bit PCM or float).
    /// Output: one frame after another, 40 values each: little-endian uint16 log-mel features
    /// (`--format uint16`), or the int8 values the preset's model family is fed (`--format int8`).
    /// `--preset mfcc`: 10 MFCCs per 20 ms frame as little-endian f32 (`--format float32`), or
    /// int8 with `--model`'s input scale and zero point (`--format int8 --model kws.tflite`).
    Features {
        /// The audio file.
        wav: PathBuf,
        /// Front-end preset: micro-speech (30 ms window, 20 ms step), micro-wakeword (10 ms
        /// step) or mfcc (MLPerf Tiny KWS: 30/20 ms, 40 mel bins 20–4000 Hz, 10 MFCCs).
        #[arg(long, value_enum)]
        preset: Preset,
        /// MFCC int8 output: quantize with this model's input scale and zero point.
        #[arg(long)]
        model: Option<PathBuf>,
        /// Where to write the features.
        #[arg(long)]
        output: PathBuf,
        /// Output values.
        #[arg(long, value_enum, default_value = "uint16")]
        format: FeatureFormat,
    },
    /// Run front end + model + detector over a WAV file and report detections.
    ///
    /// Settings come from the model's sidecar (MODEL with .json, or --sidecar), else from the
    /// model's shapes (49x40 input = micro_speech, [1,N,40] = microWakeWord, 49x10 =
    /// MLPerf Tiny KWS MFCCs); flags override.
    /// With --json: JSON Lines, one record per invocation
    /// {"t_ms":…,"scores":[raw outputs],"label":…} and one per detection
    /// {"event":"detection","label":…,"t_ms":…,"score":…} — byte for byte what the firmware prints.
    Detect {
        /// The .tflite model.
        model: PathBuf,
        /// The audio file (8–192 kHz, mono or stereo, 16-bit PCM or 32-bit float).
        wav: PathBuf,
        /// Print JSON Lines.
        #[arg(long)]
        json: bool,
        #[command(flatten)]
        settings: DetectSettings,
    },
    /// Listen on the default microphone, with a live score bar and detections.
    #[cfg(feature = "listen")]
    Listen {
        /// The .tflite model.
        model: PathBuf,
        /// Stop after this many seconds (default: until Ctrl-C).
        #[arg(long)]
        seconds: Option<f64>,
        #[command(flatten)]
        settings: DetectSettings,
    },
    /// Train your own keyword model from WAV clips: DIR/<word>/*.wav, DIR/_background_/*.wav.
    ///
    /// Writes an int8 .tflite (micro_speech features, small DS-CNN) and its sidecar (labels,
    /// background first); then `mote detect MODEL clip.wav` classifies and `mote export` ships it.
    /// By default training starts from Mote's built-in base network (30 words, many synthetic
    /// voices built from real speakers): its first layers stay fixed and your clips train the
    /// top, so a model made from a few voices also hears other people (--from-scratch: not).
    Train(train::TrainArgs),
    /// Time the model's invocation on this machine (median of N after a warm-up).
    ///
    /// Inputs are a fixed pattern (byte i = (7*i + 3) mod 256, as the firmware's bench mode),
    /// or frames replayed from --input. Streaming state carries over, as on the device.
    Bench {
        /// The .tflite model.
        model: PathBuf,
        /// Timed invocations (1 to 10,000,000).
        #[arg(long, default_value_t = 1000)]
        invocations: usize,
        /// Untimed invocations first (at most 10,000,000).
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

/// Detection settings shared by `detect` and `listen`.
#[derive(clap::Args)]
struct DetectSettings {
    /// Sidecar JSON (default: the model's path with .json, if present).
    #[arg(long)]
    sidecar: Option<PathBuf>,
    /// Probability a smoothed score must exceed (overrides the sidecar).
    #[arg(long)]
    cutoff: Option<f64>,
    /// Invocations averaged (overrides the sidecar).
    #[arg(long)]
    window: Option<u8>,
    /// Class names, comma-separated (overrides the sidecar).
    #[arg(long, value_delimiter = ',')]
    labels: Option<Vec<String>>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum Preset {
    MicroSpeech,
    MicroWakeword,
    Mfcc,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum FeatureFormat {
    Uint16,
    Int8,
    Float32,
}

fn main() {
    if let Err(e) = run(Cli::parse()) {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

fn read_model(path: &Path) -> Result<Vec<u8>> {
    files::read_model(path)
}

fn run(cli: Cli) -> Result<()> {
    match cli.cmd {
        Cmd::Inspect {
            model,
            json,
            board,
            clock,
        } => inspect(&model, json, board.as_deref(), clock),
        Cmd::Infer {
            model,
            input,
            output,
            invocations,
            json,
        } => infer(&model, &input, output.as_deref(), invocations, json),
        Cmd::Export(args) => export_cmd::run(&args),
        Cmd::Train(args) => train::run(&args),
        Cmd::Compile(args) => compile_cmd::run(&args),
        Cmd::Features {
            wav,
            preset: Preset::Mfcc,
            model,
            output,
            format,
        } => mfcc_features::run(&wav, model.as_deref(), &output, format),
        Cmd::Features {
            wav,
            preset,
            output,
            format,
            model: _,
        } => features(&wav, preset, &output, format),
        Cmd::Detect {
            model,
            wav,
            json,
            settings,
        } => detect(&model, &wav, json, &settings),
        #[cfg(feature = "listen")]
        Cmd::Listen {
            model,
            seconds,
            settings,
        } => {
            let bytes = read_model(&model)?;
            let m = Model::parse(&bytes)
                .map_err(anyhow::Error::msg)
                .with_context(|| format!("{}", model.display()))?;
            let setup = detect_setup(&model, &m, &settings)?;
            listen::listen(&m, &setup, seconds)
        }
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

/// Latency and energy of the model at `path` on `board` (schedule from its sidecar).
fn energy_for(
    path: &Path,
    bytes: &[u8],
    r: &report::ModelReport,
    board: &str,
    clock: Option<u32>,
) -> Result<energy::Summary> {
    let model = Model::parse(bytes).map_err(anyhow::Error::msg)?;
    let sidecar_text = match sidecar::beside(path) {
        Some(p) => Some(
            std::fs::read_to_string(&p).with_context(|| format!("cannot read {}", p.display()))?,
        ),
        None => None,
    };
    let settings = Settings::for_model(&model, sidecar_text.as_deref())
        .map_err(|e| anyhow::anyhow!("no latency/energy estimate: {e}"))?;
    let mhz = clock.unwrap_or(energy::FIRMWARE_MHZ);
    energy::summary(r, energy::Schedule::from_settings(&settings), board, mhz).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown board {board:?}: expected one of {}",
            energy::CHIPS
                .iter()
                .flat_map(|c| c.boards.iter().copied())
                .collect::<Vec<_>>()
                .join(", ")
        )
    })
}

fn inspect(path: &Path, json: bool, board: Option<&str>, clock: Option<u32>) -> Result<()> {
    let bytes = read_model(path)?;
    let r = report::report(&bytes)
        .map_err(|e| anyhow::anyhow!("{}: {}", path.display(), report::explain(&bytes, &e)))?;
    let energy = match board {
        Some(b) => Some(energy_for(path, &bytes, &r, b, clock)?),
        None => None,
    };
    if let Some(e) = &energy {
        if let Some(mhz) = clock {
            if e.chosen.is_none() {
                anyhow::bail!(
                    "{} offers no {mhz} MHz setting (clocks: {})",
                    e.chip,
                    e.clocks
                        .iter()
                        .map(|c| c.mhz.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                );
            }
        }
    }
    if json {
        let mut v = serde_json::to_value(&r)?;
        if let (Some(e), Some(obj)) = (&energy, v.as_object_mut()) {
            obj.insert("energy".into(), serde_json::to_value(e)?);
        }
        println!("{}", serde_json::to_string_pretty(&v)?);
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
        "  {:>2} {:>4}  {:<8} {:<18} {:>8}  {:<9} {:>8}  {:<9}  quant / name",
        "sg", "idx", "dtype", "shape", "bytes", "kind", "offset", "life"
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
    println!(
        "  state            {:>9} B   resource variables (streaming state)",
        m.state_bytes
    );
    println!(
        "  weights          {:>9} B   constant data in flash",
        m.weights_bytes
    );
    println!("  MACs / invoke    {:>9}", r.macs);
    if let Some(e) = &energy {
        println!();
        print!("{}", energy::markdown(e));
    }
    Ok(())
}

fn infer(
    model_path: &Path,
    input: &Path,
    output: Option<&Path>,
    invocations: Option<usize>,
    json: bool,
) -> Result<()> {
    let bytes = read_model(model_path)?;
    let model = Model::parse(&bytes)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}", model_path.display()))?;
    let data = files::read_capped(input, files::RAW_INPUT_CAP, "input")?;
    // Claimed before the work (an unwritable path fails now); renamed into place only once
    // every byte is written.
    let mut out = output.map(AtomicOut::create).transpose()?;
    let mut raw = Vec::new();
    let text = report::with_interpreter(&model, InterpreterOptions::default(), |interp| {
        let sink: &mut dyn std::io::Write = match out.as_mut() {
            Some(o) if !json => o,
            _ => &mut raw,
        };
        Ok(io::run_raw(interp, &data, invocations, sink).map(|_| io::json_lines(interp, &raw)))
    })
    .map_err(anyhow::Error::msg)
    .with_context(|| format!("{}", model_path.display()))?
    .with_context(|| format!("{}", input.display()))?;
    if json {
        print!("{text}");
        if let Some(o) = out.as_mut() {
            std::io::Write::write_all(o, &raw)?;
        }
    }
    match out {
        Some(o) => o.commit(),
        None => Ok(()),
    }
}

fn features(wav: &Path, preset: Preset, output: &Path, format: FeatureFormat) -> Result<()> {
    use mote_engine::frontend::{Frontend, FrontendConfig};
    let cfg = match preset {
        Preset::MicroSpeech => FrontendConfig::micro_speech(),
        Preset::MicroWakeword => FrontendConfig::micro_wakeword(),
        Preset::Mfcc => anyhow::bail!("--preset mfcc is handled by mfcc_features"),
    };
    if matches!(format, FeatureFormat::Float32) {
        anyhow::bail!("--format float32 is for --preset mfcc; log-mel features are uint16 or int8");
    }
    let mut fe = Frontend::new(&cfg).map_err(anyhow::Error::msg)?;
    let n = fe.num_channels();
    mfcc_features::stream(wav, output, n, "features", |chunk, bytes| {
        fe.push(chunk, |f| match format {
            FeatureFormat::Uint16 => f
                .features
                .iter()
                .for_each(|v| bytes.extend_from_slice(&v.to_le_bytes())),
            FeatureFormat::Int8 => bytes.extend(f.int8.iter().map(|&v| v as u8)),
            FeatureFormat::Float32 => {}
        })
    })
}

fn detect_setup(model_path: &Path, model: &Model<'_>, s: &DetectSettings) -> Result<det::Setup> {
    let side_path = s.sidecar.clone().or_else(|| sidecar::beside(model_path));
    let side = match &side_path {
        Some(p) => {
            let text = files::read_text(p, files::SIDECAR_CAP, "sidecar")?;
            Some(
                sidecar::SidecarFile::parse(&text)
                    .with_context(|| format!("sidecar {}", p.display()))?,
            )
        }
        None => None,
    };
    let ov = det::Overrides {
        cutoff: s.cutoff,
        window: s.window,
        labels: s.labels.clone(),
    };
    det::setup(model, side.as_ref(), &ov).map_err(|e| match (&e, &side_path) {
        (det::SetupError::NotAudioModel(_), _) | (_, None) => {
            anyhow::anyhow!("{}: {e}", model_path.display())
        }
        (_, Some(p)) => anyhow::anyhow!("{} (sidecar {}): {e}", model_path.display(), p.display()),
    })
}

fn detect(model_path: &Path, wav: &Path, json: bool, s: &DetectSettings) -> Result<()> {
    let bytes = read_model(model_path)?;
    let model = Model::parse(&bytes)
        .map_err(anyhow::Error::msg)
        .with_context(|| format!("{}", model_path.display()))?;
    let setup = detect_setup(model_path, &model, s)?;
    let mut reader = audio::open(wav)?;
    let stdout = std::io::stdout();
    let sum = det::run_stream(
        &model,
        &setup,
        |buf| {
            reader
                .read_chunk(buf)
                .map_err(|e| anyhow::anyhow!("{}: {e}", wav.display()))
        },
        false,
        |line| {
            if json {
                use std::io::Write;
                let _ = stdout.lock().write_all(line.as_bytes());
            }
        },
    )?;
    audio::warn(wav, &reader);
    if sum.samples == 0 {
        anyhow::bail!("{}: the file has no samples", wav.display());
    }
    if !json {
        let secs = sum.samples as f64 / 16000.0;
        println!(
            "{}: {:.2} s of audio, {} invocations",
            wav.display(),
            secs,
            sum.invocations
        );
        if sum.detections.is_empty() {
            println!("no detections");
        }
        for (label, t, score) in &sum.detections {
            println!(
                "  {:>8.3} s  {label}  (score {score:.3})",
                *t as f64 / 1000.0
            );
        }
    }
    Ok(())
}
