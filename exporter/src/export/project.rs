//! The files of an exported project: the embedded template and engine sources, adapted to the
//! board, plus the generated `mote/` directory.

use std::fmt::Write as _;

use super::board::Board;
use super::build_settings::BuildSettings;
use super::config::Settings;
use super::fit::Fit;
use super::wav::Audio16k;
use crate::energy;
use crate::report::ModelReport;
use mote_engine::detector::Mode;
use mote_engine::pipeline::PipelineConfig;

mod embedded {
    include!(concat!(env!("OUT_DIR"), "/embedded.rs"));
}

/// The template's engine dependency line, and what it becomes inside the zip (the engine
/// sources sit in `engine/` beside the firmware's sources).
const ENGINE_DEP: &str = r#"mote-engine = { path = "../engine" }"#;
const ENGINE_DEP_ZIP: &str = r#"mote-engine = { path = "engine" }"#;
/// The template's default-features line (its board is rewritten per export).
const DEFAULT_FEATURES: &str = r#"default = ["board-b-l475e-iot01a", "semihosting"]"#;
/// The template's release optimisation (speed); boards with little flash get `"s"` instead.
const OPT_SPEED: &str = "opt-level = 3\n";
const OPT_SIZE: &str = "opt-level = \"s\"\n";
/// The probe-rs chip in the template's `.cargo/config.toml`.
const TEMPLATE_CHIP: &str = "--chip STM32L475VGTx";

/// One file of the project.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct File {
    /// Path below the project directory.
    pub path: String,
    /// Contents.
    pub data: Vec<u8>,
    /// Unix mode.
    pub mode: u32,
}

impl File {
    /// A regular, non-executable file (mode 0644).
    pub fn regular(path: &str, data: Vec<u8>) -> File {
        File {
            path: path.to_string(),
            data,
            mode: 0o644,
        }
    }
}

/// What [`files`] assembles.
pub struct Inputs<'a> {
    /// Project name.
    pub name: &'a str,
    /// Target board.
    pub board: &'a Board,
    /// Model bytes.
    pub model: &'a [u8],
    /// Sidecar JSON text, copied as `mote/sidecar.json`.
    pub sidecar_text: Option<&'a str>,
    /// Model report.
    pub report: &'a ModelReport,
    /// Pipeline settings.
    pub settings: &'a Settings,
    /// Replay audio.
    pub replay: Option<&'a Audio16k>,
    /// Fit estimate.
    pub fit: &'a Fit,
    /// Generated `mote/config.rs`.
    pub config_rs: &'a str,
    /// `mote/build.json` (the same build settings as `config_rs`'s constants).
    pub build: &'a BuildSettings,
}

/// The file name the page fetches the packed sources from when they are not embedded
/// (`mote-exporter`'s example `firmware-sources` writes it; a new name for new bytes).
pub const SOURCES_FILE: &str = embedded::SOURCES_FILE;

type Files = Vec<(&'static str, &'static [u8])>;

static FILES: std::sync::OnceLock<Files> = std::sync::OnceLock::new();

/// Unpacks the stream build.rs wrote (LZMA, about 0.7 MB: tens of milliseconds in the browser)
/// into the `NAMES` table's files; kept for the process's life.
fn unpack(packed: &[u8]) -> Result<Files, String> {
    let total: usize = embedded::NAMES.iter().map(|(_, n)| n).sum();
    let mut all = Vec::with_capacity(total);
    lzma_rust2::LzmaReader::new_mem_limit(packed, u32::MAX, None)
        .and_then(|mut r| std::io::Read::read_to_end(&mut r, &mut all))
        .map_err(|e| format!("the firmware sources do not unpack: {e}"))?;
    if all.len() != total {
        return Err(format!(
            "the firmware sources unpack to {} bytes, not the {total} this build expects",
            all.len()
        ));
    }
    let all: &'static [u8] = Vec::leak(all);
    let mut at = 0;
    Ok(embedded::NAMES
        .iter()
        .map(|&(name, n)| {
            at += n;
            (name, &all[at - n..at])
        })
        .collect())
}

/// The embedded sources: (path, bytes), sorted; `engine/...` and the template's files.
/// Unpacked on first use and kept.
#[cfg(feature = "embedded-sources")]
pub fn embedded_files() -> &'static [(&'static str, &'static [u8])] {
    // The stream is build.rs's own output: unpacking cannot fail unless the binary is
    // corrupt, and then an export must not silently miss files.
    FILES.get_or_init(|| unpack(embedded::PACKED).expect("embedded sources: a valid stream"))
}

/// The packed sources (what [`SOURCES_FILE`] holds).
#[cfg(feature = "embedded-sources")]
pub fn packed_sources() -> &'static [u8] {
    embedded::PACKED
}

/// The sources [`provide_sources`] installed; empty before (an export then fails with
/// `ExportError::NoSources`).
#[cfg(not(feature = "embedded-sources"))]
pub fn embedded_files() -> &'static [(&'static str, &'static [u8])] {
    FILES.get().map_or(&[], Vec::as_slice)
}

/// Installs the packed sources fetched from [`SOURCES_FILE`] (builds without
/// `embedded-sources`: the page); checked against the table compiled in. Once is enough.
pub fn provide_sources(packed: &[u8]) -> Result<(), String> {
    if FILES.get().is_none() {
        let files = unpack(packed)?;
        let _ = FILES.set(files);
    }
    Ok(())
}

/// Whether the sources are available (always, when embedded).
pub fn sources_ready() -> bool {
    !embedded_files().is_empty()
}

/// Every file of the project, sorted by path.
pub fn files(i: &Inputs<'_>) -> Vec<File> {
    let mut out = Vec::new();
    let mut add = |path: &str, data: Vec<u8>| out.push(File::regular(path, data));
    for &(path, bytes) in embedded_files() {
        let text = || String::from_utf8_lossy(bytes).into_owned();
        match path {
            "Cargo.toml" => add(path, firmware_manifest(&text(), i.board).into_bytes()),
            ".cargo/config.toml" => {
                let ops = model_ops(i.report);
                let cfg = cargo_config(&text(), i.board, &ops, Some(i.settings.config()));
                add(path, cfg.into_bytes())
            }
            "README.md" => add(path, readme(&text(), i).into_bytes()),
            "engine/Cargo.toml" => add(path, engine_manifest(&text()).into_bytes()),
            _ => add(path, bytes.to_vec()),
        }
    }
    add("mote/model.tflite", i.model.to_vec());
    add("mote/config.rs", i.config_rs.as_bytes().to_vec());
    add("mote/build.json", build_json(i.build));
    add("mote/report.md", report_md(i).into_bytes());
    let json = serde_json::json!({
        "name": i.name,
        "board": i.board.id,
        "mode": if i.replay.is_some() { "replay" } else { "mic" },
        "settings": i.settings,
        "fit": i.fit,
        "energy": energy_summary(i),
        "model": i.report,
    });
    let mut json_text = serde_json::to_string_pretty(&json).unwrap_or_default();
    json_text.push('\n');
    add("mote/report.json", json_text.into_bytes());
    if let Some(s) = i.sidecar_text {
        add("mote/sidecar.json", s.as_bytes().to_vec());
    }
    if let Some(r) = i.replay {
        let pcm: Vec<u8> = r.samples.iter().flat_map(|s| s.to_le_bytes()).collect();
        add("mote/replay.pcm", pcm);
    }
    out.sort_by(|a, b| a.path.cmp(&b.path));
    out
}

/// The firmware manifest with the board's features and the engine path inside the zip.
pub fn firmware_manifest(template: &str, board: &Board) -> String {
    let features = format!(r#"default = ["board-{}", "semihosting"]"#, board.id);
    let m =
        template
            .replacen(ENGINE_DEP, ENGINE_DEP_ZIP, 1)
            .replacen(DEFAULT_FEATURES, &features, 1);
    if board.optimize_size {
        m.replacen(OPT_SPEED, OPT_SIZE, 1)
    } else {
        m
    }
}

/// The builtin operators of the model (every subgraph), sorted and deduplicated.
pub fn model_ops(report: &ModelReport) -> Vec<String> {
    let mut ops: Vec<String> = report.ops.iter().map(|o| o.op.clone()).collect();
    ops.sort();
    ops.dedup();
    ops
}

/// `.cargo/config.toml` with the board's probe-rs chip, and `MOTE_OPS` set to the model's
/// operators so the engine links only their kernels (`engine/build.rs`; like TFLM's op
/// resolver). Measured on micro_speech for the NUCLEO-L432KC: see the README's size table.
pub fn cargo_config(
    template: &str,
    board: &Board,
    ops: &[String],
    pipeline: Option<&PipelineConfig>,
) -> String {
    let mut out = template.replacen(TEMPLATE_CHIP, &format!("--chip {}", board.probe_chip), 1);
    if !ops.is_empty() {
        out.push_str(&format!(
            "\n[env]\n# Link only this model's operators (engine/build.rs reads MOTE_OPS); export again\n\
             # for another model, or delete this line to link every operator.\nMOTE_OPS = \"{}\"\n",
            ops.join(",")
        ));
        if let Some(c) = pipeline {
            out.push_str(&pipeline_env(c));
        }
    }
    out
}

/// The engine build settings that size the pipeline to this model (engine/build.rs): the
/// feature window's bytes, the detector's labels and history, and no MFCC front end for a
/// log-mel model.
fn pipeline_env(c: &PipelineConfig) -> String {
    let (labels, rows) = match c.detector.mode {
        Mode::WakeWord { sliding_window, .. } => (1, sliding_window),
        Mode::Commands {
            labels,
            average_window,
            ..
        } => (labels, average_window),
    };
    let window = usize::from(c.preset.frame_len) * usize::from(c.preset.window_frames);
    let mut s = format!(
        "# The pipeline's memory sized to this model: feature window bytes, detector labels and\n\
         # invocations of history.\n\
         MOTE_WINDOW_BYTES = \"{window}\"\nMOTE_DETECTOR_LABELS = \"{}\"\nMOTE_DETECTOR_ROWS = \"{}\"\n",
        labels.max(1),
        rows.max(1)
    );
    if c.mfcc.is_none() {
        s.push_str(
            "# The model takes log-mel features: leave the MFCC front end out.\nMOTE_NO_MFCC = \"1\"\n",
        );
    }
    s
}

/// The engine manifest made standalone: workspace-inherited keys written out, no
/// dev-dependencies or bench targets (benches are not vendored), and optional dependencies dropped (their features kept, empty), so the
/// vendored engine adds nothing to the firmware's `Cargo.lock`.
pub fn engine_manifest(template: &str) -> String {
    let mut out = String::new();
    let mut section = String::new();
    let mut optional: Vec<String> = Vec::new();
    for line in template.lines() {
        let t = line.trim();
        if t.starts_with('[') {
            section = t.to_string();
            if section == "[dev-dependencies]" || section == "[[bench]]" {
                continue;
            }
        } else if section == "[dev-dependencies]" || section == "[[bench]]" {
            continue;
        }
        let line = match t {
            "version.workspace = true" => format!("version = {:?}", env!("CARGO_PKG_VERSION")),
            "edition.workspace = true" => "edition = \"2021\"".into(),
            "license.workspace = true" => "license = \"Apache-2.0\"".into(),
            _ if section == "[dependencies]" && t.contains("optional = true") => {
                if let Some(name) = t.split('=').next() {
                    optional.push(name.trim().to_string());
                }
                continue;
            }
            _ if section == "[features]" && t.contains('=') && !t.starts_with('#') => {
                let name = t.split('=').next().unwrap_or("").trim();
                let deps_gone = optional.iter().any(|d| t.contains(&format!("dep:{d}")));
                if deps_gone {
                    format!("{name} = []")
                } else {
                    line.to_string()
                }
            }
            _ => line.to_string(),
        };
        out.push_str(&line);
        out.push('\n');
    }
    // Blank lines left where sections were dropped.
    while out.ends_with("\n\n") {
        out.pop();
    }
    out
}

fn kib(b: u32) -> String {
    format!("{:.1} KiB", f64::from(b) / 1024.0)
}

/// Latency and energy on the export's board at the firmware's clock (and every other clock).
/// The invoke estimate is the engine's the firmware runs (AOT or `--interpreter`).
fn energy_summary(i: &Inputs<'_>) -> Option<energy::Summary> {
    energy::summary_for(
        i.fit.engine.estimate_invoke(i.report),
        energy::Schedule::from_settings(i.settings),
        i.board.id,
        energy::FIRMWARE_MHZ,
    )
}

/// One budget's section of `report.md`: `## {title} (used of limit)` and its parts' table.
fn budget_table(w: &mut String, title: &str, items: &[super::fit::Item], total: u32, limit: u32) {
    let verdict = if total > limit { ", DOES NOT FIT" } else { "" };
    let _ = writeln!(w, "## {title} ({} of {}{verdict})", kib(total), kib(limit));
    let _ = writeln!(w);
    let _ = writeln!(w, "| part | bytes | |");
    let _ = writeln!(w, "|---|---:|---|");
    for it in items {
        let how = if it.exact { "exact" } else { "estimate" };
        let _ = writeln!(w, "| {} | {} | {how} |", it.what, it.bytes);
    }
    let _ = writeln!(w, "| **total** | **{total}** | |");
}

/// `mote/report.md`: what was exported, the flash/RAM breakdown, MACs per layer.
pub fn report_md(i: &Inputs<'_>) -> String {
    let r = i.report;
    let f = i.fit;
    let s = i.settings;
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(w, "# {} on {} ({})", i.name, i.board.name, i.board.chip);
    let _ = writeln!(w);
    let _ = writeln!(w, "Generated by `mote export`.");
    let _ = writeln!(w);
    let mode = match i.replay {
        Some(a) => format!(
            "replay: {} samples ({:.2} s) at 16 kHz from flash (source: {} Hz, {} channel(s)), then exit",
            a.samples.len(),
            a.samples.len() as f64 / 16000.0,
            a.source_rate,
            a.channels
        ),
        None => format!("microphone: {}", i.board.mic),
    };
    let _ = writeln!(w, "- audio: {mode}");
    let _ = writeln!(
        w,
        "- front end: `{}` ({} ms frames), {} frames per invocation, invoked every {} frames",
        s.frontend, s.frame_step_ms, s.window_frames, s.stride_frames
    );
    let _ = writeln!(w, "- labels: {}", s.labels.join(", "));
    let _ = writeln!(w, "- detector: {}", s.detector);
    let _ = writeln!(w, "- log: {}; LED: {}", i.board.uart, i.board.led);
    let _ = writeln!(w);
    budget_table(w, "Flash", &f.flash, f.flash_total(), f.flash_limit);
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Of the model: {} bytes of constant data (weights, biases).",
        r.weights_bytes
    );
    let _ = writeln!(w);
    budget_table(w, "RAM", &f.ram, f.ram_total(), f.ram_limit);
    let _ = writeln!(w);
    let m = &r.memory;
    let _ = writeln!(
        w,
        "Arena: {} = persistent {} (kernels {}, tensor table {}, per-channel words {}) + planned tensors {} (peak at step {}).",
        m.arena_bytes, m.persistent_bytes, m.kernel_bytes, m.tensor_table_bytes, m.word_bytes, m.tensor_bytes, r.peak_step
    );
    let _ = writeln!(w);
    let energy = energy_summary(i);
    if let Some(e) = &energy {
        let _ = write!(w, "{}", energy::markdown(e));
        let _ = writeln!(w);
    }
    let _ = writeln!(w, "## Layers ({} MACs per invocation)", r.macs);
    let _ = writeln!(w);
    let _ = writeln!(w, "| step | op | MACs | est. instructions | output |");
    let _ = writeln!(w, "|---:|---|---:|---:|---|");
    for (k, op) in r.ops.iter().enumerate() {
        let insns = energy
            .as_ref()
            .and_then(|e| e.invoke.layers.get(k))
            .map_or(String::new(), |l| l.instructions.to_string());
        let out = op
            .outputs
            .first()
            .and_then(|&t| {
                r.tensors
                    .iter()
                    .find(|x| x.subgraph == op.subgraph && i32::try_from(x.index).ok() == Some(t))
            })
            .map_or(String::new(), |t| format!("{} {:?}", t.dtype, t.shape));
        let sg = if op.subgraph == 0 {
            String::new()
        } else {
            format!(" (subgraph {})", op.subgraph)
        };
        let _ = writeln!(
            w,
            "| {} | {}{sg} | {} | {insns} | {out} |",
            op.step, op.op, op.macs
        );
    }
    o
}

/// The project README: what this export is and how to build, flash and run it, then the
/// template's own README.
fn readme(template: &str, i: &Inputs<'_>) -> String {
    let b = i.board;
    let mut o = String::new();
    let w = &mut o;
    let _ = writeln!(w, "# {} for {} — exported by `mote export`", i.name, b.name);
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "Model `mote/model.tflite` ({} bytes, {} MACs per invocation), arena {} B, state {} B; \
         estimated flash {} of {}, RAM {} of {}. Details: `mote/report.md`; settings: `mote/config.rs`.",
        i.report.model_bytes,
        i.report.macs,
        i.report.arena_bytes,
        i.report.state_bytes,
        kib(i.fit.flash_total()),
        kib(b.flash),
        kib(i.fit.ram_total()),
        kib(b.ram)
    );
    let _ = writeln!(w);
    let _ = writeln!(
        w,
        "1. Once: `rustup target add thumbv7em-none-eabihf && cargo install flip-link --locked`"
    );
    let _ = writeln!(w, "2. `cargo build --release`");
    match i.replay {
        Some(_) => {
            let _ = writeln!(
                w,
                "3. Replay mode: the firmware runs the pipeline over `mote/replay.pcm`, prints one JSON line per invocation and per detection, and exits through semihosting."
            );
            if b.id == "b-l475e-iot01a" {
                let _ = writeln!(
                    w,
                    "   In QEMU (>= 9): `qemu-system-arm -M b-l475e-iot01a -nographic -monitor none -serial stdio -semihosting-config enable=on,target=native -kernel target/thumbv7em-none-eabihf/release/mote-firmware`"
                );
            }
            let _ = writeln!(
                w,
                "4. On the board: `cargo install probe-rs-tools --locked` once, connect the ST-LINK USB, then `cargo run --release` (probe-rs flashes, prints the lines, exits)."
            );
        }
        None => {
            let _ = writeln!(w, "3. Wire the microphone: {}.", b.mic);
            let _ = writeln!(
                w,
                "4. `cargo install probe-rs-tools --locked` once, connect the ST-LINK USB, then `cargo run --release`."
            );
            let _ = writeln!(
                w,
                "5. Open the ST-LINK virtual COM port at 115200 8N1 ({}): one JSON line per detection and a cycle count per inference; {} lights on a detection.",
                b.uart, b.led
            );
        }
    }
    let _ = writeln!(w);
    let _ = writeln!(w, "---");
    let _ = writeln!(w);
    o.push_str(template);
    o
}

/// `mote/build.json`: pretty JSON and a final newline.
pub fn build_json(b: &BuildSettings) -> Vec<u8> {
    // A struct of strings and integers always serializes.
    let mut text = serde_json::to_string_pretty(b).unwrap_or_default();
    text.push('\n');
    text.into_bytes()
}
