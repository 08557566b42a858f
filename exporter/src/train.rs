//! `mote train DIR -o model.tflite`: reads a folder of WAV clips (one subfolder per word,
//! `_background_` for noise of any length), trains with `mote-trainer`, writes the int8 model
//! and its sidecar (labels in output order, background first).

use std::io::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use anyhow::{bail, Context, Result};
use mote_exporter::audio;
use mote_trainer::{base, Corpus, Options, Start};
use serde_json::json;

use crate::files::AtomicOut;

/// A base network file is ~18 KB; anything far larger is not one.
const MAX_BASE_BYTES: u64 = 1 << 20;

/// The background subfolder's name.
pub const BACKGROUND_DIR: &str = "_background_";

/// Arguments of `mote train`.
#[derive(clap::Args)]
pub struct TrainArgs {
    /// Folder with one subfolder of WAV clips per word (the folder name is the label) and a
    /// `_background_` subfolder of room noise of any length (cut into 1 s windows). Clips:
    /// any WAV `mote detect` reads; about 1 s each, one word per clip; 20+ per word is good.
    dir: PathBuf,
    /// Where to write the model (the sidecar goes beside it: MODEL with .json).
    #[arg(short, long)]
    output: PathBuf,
    /// Passes over the freshly augmented clips.
    #[arg(long, default_value_t = 30)]
    epochs: usize,
    /// Random seed (same seed and clips: same model bytes).
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Print JSON Lines on stdout: one per epoch, then a summary.
    #[arg(long)]
    json: bool,
    /// Train every layer from random weights instead of starting from the built-in base
    /// network. The base (30 words, synthetic voices built from real speakers' recordings)
    /// hears real voices far better than a network that only ever heard your clips; from
    /// scratch is for large corpora of your own, e.g. to make a base with --save-base.
    #[arg(long, conflicts_with = "base")]
    from_scratch: bool,
    /// Start from this base network (a file written by --save-base) instead of the built-in
    /// one; its first convolutions stay fixed, the last one and the dense layer are trained.
    #[arg(long, value_name = "FILE")]
    base: Option<PathBuf>,
    /// Also write the trained convolutions as a base network for later `--base FILE` runs
    /// (scripts/make-base.sh makes the built-in one this way).
    #[arg(long, value_name = "FILE")]
    save_base: Option<PathBuf>,
    /// Dropout rate on the dense layer's inputs while training, in [0, 1) (default 0.5 from a
    /// base network, 0 with --from-scratch).
    #[arg(long, value_name = "RATE")]
    dropout: Option<f32>,
}

fn wavs(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e.eq_ignore_ascii_case("wav")))
        .collect();
    v.sort();
    Ok(v)
}

/// Loads the corpus: words in name order.
pub fn load(dir: &Path) -> Result<Corpus> {
    let mut subdirs: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read folder {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    subdirs.sort();
    let mut c = Corpus::default();
    for d in subdirs {
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let files = wavs(&d)?;
        let clips = files
            .iter()
            .map(|f| audio::read_16k(f))
            .collect::<Result<Vec<_>>>()?;
        if name == BACKGROUND_DIR {
            c.background = clips;
        } else if !clips.is_empty() {
            c.words.push((name, clips));
        }
    }
    if c.background.is_empty() {
        bail!(
            "{}: no {BACKGROUND_DIR}/ subfolder with WAV files (record 20+ s of room noise)",
            dir.display()
        );
    }
    if c.words.len() < 2 {
        bail!(
            "{}: found {} word folder(s) with WAV files; need at least 2 (one subfolder per word)",
            dir.display(),
            c.words.len()
        );
    }
    Ok(c)
}

/// Runs `mote train`.
pub fn run(a: &TrainArgs) -> Result<()> {
    let corpus = load(&a.dir)?;
    let sidecar = a.output.with_extension("json");
    let counts: Vec<String> = corpus
        .words
        .iter()
        .map(|(n, c)| format!("{n} {}", c.len()))
        .collect();
    let bg_secs: f64 = corpus
        .background
        .iter()
        .map(|b| b.len() as f64)
        .sum::<f64>()
        / 16000.0;
    eprintln!("clips: {}; background {bg_secs:.1} s", counts.join(", "));
    let base_bytes = match &a.base {
        Some(path) => Some(crate::files::read_capped(
            path,
            MAX_BASE_BYTES,
            "base network",
        )?),
        None => None,
    };
    let start = match (&base_bytes, a.from_scratch) {
        (Some(b), _) => Start::Base(b),
        (None, true) => Start::Scratch,
        (None, false) => Start::Base(base::BUILTIN),
    };
    let dropout = match a.dropout {
        Some(r) if (0.0..1.0).contains(&r) => r,
        Some(r) => bail!("--dropout {r}: give a rate from 0 up to (not including) 1"),
        None if a.from_scratch => 0.0,
        None => Options::default().dropout,
    };
    let opts = Options {
        epochs: a.epochs,
        seed: a.seed,
        start,
        dropout,
        ..Options::default()
    };
    let start = Instant::now();
    let stdout = std::io::stdout();
    let trained = mote_trainer::train(&corpus, &opts, |r| {
        eprintln!(
            "epoch {:>3}/{}  loss {:.3}  train {:5.1} %  held-out {:5.1} %  ({:.1} s)",
            r.epoch,
            r.epochs,
            r.loss,
            100.0 * r.train_accuracy,
            100.0 * r.val_accuracy,
            start.elapsed().as_secs_f64()
        );
        if a.json {
            let line = json!({"epoch": r.epoch, "epochs": r.epochs, "loss": r.loss,
                "train_accuracy": r.train_accuracy, "val_accuracy": r.val_accuracy});
            let _ = writeln!(stdout.lock(), "{line}");
        }
    })?;
    let secs = start.elapsed().as_secs_f64();
    if let Some(path) = &a.save_base {
        let mut b = AtomicOut::create(path)?;
        b.write_all(&base::encode(&trained.params))
            .with_context(|| format!("cannot write {}", path.display()))?;
        b.commit()?;
    }
    let mut out = AtomicOut::create(&a.output)?;
    out.write_all(&trained.tflite)
        .with_context(|| format!("cannot write {}", a.output.display()))?;
    out.commit()?;
    let model_name = a
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let side = mote_exporter::sidecar::trained(&mote_exporter::sidecar::Trained {
        labels: &trained.labels,
        model: model_name.as_deref(),
        seed: a.seed,
        epochs: a.epochs,
        float_accuracy: trained.float_accuracy,
        int8_accuracy: trained.int8_accuracy,
        held_out_examples: trained.val_examples,
    });
    let mut s = AtomicOut::create(&sidecar)?;
    s.write_all(side.as_bytes())
        .with_context(|| format!("cannot write {}", sidecar.display()))?;
    s.commit()?;
    eprintln!(
        "held-out top-1: float {:.1} %, int8 {:.1} % ({} examples); {} bytes -> {} (+ {}) in {secs:.1} s",
        100.0 * trained.float_accuracy,
        100.0 * trained.int8_accuracy,
        trained.val_examples,
        trained.tflite.len(),
        a.output.display(),
        sidecar.display()
    );
    if a.json {
        let line = json!({"event": "done", "labels": trained.labels,
            "float_accuracy": trained.float_accuracy, "int8_accuracy": trained.int8_accuracy,
            "held_out_examples": trained.val_examples, "train_examples_per_epoch": trained.train_examples,
            "model_bytes": trained.tflite.len(), "seconds": secs,
            "model": a.output, "sidecar": sidecar});
        let _ = writeln!(stdout.lock(), "{line}");
    }
    Ok(())
}
