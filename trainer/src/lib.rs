//! Train a keyword classifier for microcontrollers, offline: word clips and background audio →
//! augmented 1 s windows → the engine's micro_speech features (49×40 int8) → a small DS-CNN-style
//! network trained in f32 ([`net`]: hand-written forward/backward and Adam, deterministic for a
//! seed) → post-training int8 quantization ([`quant`]) → a `.tflite` file ([`tflite`]) that the
//! engine, TFLM and the firmware run.
//!
//! The held-out split is scored twice: the float network, and the int8 file run by the engine's
//! interpreter (what the device computes), so the cost of quantization is visible.

pub mod base;
pub mod data;
pub mod net;
pub mod quant;
pub mod rng;
pub mod tflite;

use core::fmt;

use mote_engine::{Interpreter, Model};

use data::{Augment, Features};
use net::{Acts, Adam, Grads, Params};
use rng::Rng;

/// Name of the background class (always output 0).
pub const BACKGROUND: &str = "background";

/// Training audio, all 16 kHz mono.
#[derive(Clone, Debug, Default)]
pub struct Corpus {
    /// Each word's name and its clips (any length; the word is found by energy).
    pub words: Vec<(String, Vec<Vec<i16>>)>,
    /// Background recordings of any length (cut into 1 s windows).
    pub background: Vec<Vec<i16>>,
}

/// Where training starts.
#[derive(Clone, Copy, Debug)]
pub enum Start<'a> {
    /// Random weights; every layer is trained (the network learns the training voices).
    Scratch,
    /// A base network's convolutions (a [`base`] file): the first [`base::FROZEN`] layers are
    /// kept fixed, the last convolution and the dense layer are trained. [`base::BUILTIN`] is
    /// the default.
    Base(&'a [u8]),
}

/// Training settings.
#[derive(Clone, Copy, Debug)]
pub struct Options<'a> {
    /// Passes over the (freshly augmented) training clips.
    pub epochs: usize,
    /// Seed: the same seed and corpus give the same model bytes.
    pub seed: u64,
    /// Augmented examples per clip and epoch.
    pub per_clip: usize,
    /// Examples per Adam step.
    pub batch: usize,
    /// Peak learning rate (cosine-decayed to 3 % of it).
    pub lr: f32,
    /// Augmentation ranges.
    pub augment: Augment,
    /// From scratch or from a base network.
    pub start: Start<'a>,
    /// Dropout on the dense layer's inputs while training (0 = none).
    pub dropout: f32,
}

impl Default for Options<'_> {
    fn default() -> Self {
        Options {
            epochs: 30,
            seed: 1,
            per_clip: 4,
            batch: 16,
            lr: 3e-3,
            augment: Augment::default(),
            start: Start::Base(base::BUILTIN),
            dropout: 0.5,
        }
    }
}

/// Why training cannot start or finish.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TrainError {
    /// Fewer than 2 words, or more than 31.
    WordCount(usize),
    /// A word (by index) has no clips.
    EmptyWord(usize),
    /// No background audio (record or add at least a few seconds).
    NoBackground,
    /// The engine rejected the written model (a bug: the writer must emit what it runs).
    Engine(mote_engine::Error),
    /// The base network file cannot be used.
    Base(base::BaseError),
}

impl fmt::Display for TrainError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TrainError::WordCount(n) => {
                write!(f, "need 2 to 31 words besides the background, got {n}")
            }
            TrainError::EmptyWord(i) => write!(f, "word #{} has no clips", i + 1),
            TrainError::NoBackground => {
                write!(f, "no background audio: add a few seconds of room noise")
            }
            TrainError::Engine(e) => write!(f, "the written model does not run in the engine: {e}"),
            TrainError::Base(e) => write!(f, "base network: {e}"),
        }
    }
}

impl std::error::Error for TrainError {}

impl From<mote_engine::Error> for TrainError {
    fn from(e: mote_engine::Error) -> Self {
        TrainError::Engine(e)
    }
}

/// One epoch's figures.
#[derive(Clone, Copy, Debug)]
pub struct EpochReport {
    /// 1-based epoch.
    pub epoch: usize,
    /// Of this many.
    pub epochs: usize,
    /// Mean training cross-entropy.
    pub loss: f32,
    /// Training top-1 (on the augmented examples, before each step).
    pub train_accuracy: f32,
    /// Float top-1 on the held-out split (NaN if it is empty).
    pub val_accuracy: f32,
}

/// The result.
#[derive(Clone, Debug)]
pub struct Trained {
    /// The int8 `.tflite` bytes.
    pub tflite: Vec<u8>,
    /// Output names, background first.
    pub labels: Vec<String>,
    /// Float top-1 on the held-out split.
    pub float_accuracy: f32,
    /// int8 top-1 on the same split (the file run by the engine).
    pub int8_accuracy: f32,
    /// Held-out examples.
    pub val_examples: usize,
    /// Training examples per epoch.
    pub train_examples: usize,
    /// The float parameters (for further evaluation).
    pub params: Params,
}

type Example = (Vec<i8>, usize);

fn argmax<T: PartialOrd + Copy>(v: &[T]) -> usize {
    let mut best = 0;
    for (i, &x) in v.iter().enumerate() {
        if x > v[best] {
            best = i;
        }
    }
    best
}

/// Splits each background recording: the first 80 % for training, the rest held out (both
/// the whole recording when it is shorter than 2 s).
fn split_background(bg: &[Vec<i16>]) -> (Vec<Vec<i16>>, Vec<Vec<i16>>) {
    let mut train = Vec::new();
    let mut val = Vec::new();
    for b in bg {
        if b.len() >= 2 * data::WINDOW {
            let cut = b.len() * 4 / 5;
            train.push(b[..cut].to_vec());
            val.push(b[cut..].to_vec());
        } else {
            train.push(b.clone());
            val.push(b.clone());
        }
    }
    (train, val)
}

fn examples(
    clips: &[Vec<&[i16]>],
    bg: &[Vec<i16>],
    per_clip: usize,
    a: &Augment,
    fe: &mut Features,
    r: &mut Rng,
) -> Vec<Example> {
    let mut out = Vec::new();
    let mut words = 0;
    for (w, list) in clips.iter().enumerate() {
        for clip in list {
            for _ in 0..per_clip {
                let x = data::word_window(clip, bg, a, r);
                let mut f = fe.of(&data::to_i16(&x));
                data::warp(&mut f, r.range(a.warp.0, a.warp.1));
                if r.unit() < 0.5 {
                    data::high_band_fill(&mut f, r);
                }
                out.push((f, w + 1));
                words += 1;
            }
        }
    }
    let n_bg = words / clips.len().max(1);
    for _ in 0..n_bg.max(1) {
        let x = data::background_example(bg, a, r);
        out.push((fe.of(&data::to_i16(&x)), 0));
    }
    out
}

/// Float top-1 of `p` on `set`.
pub fn float_accuracy(p: &Params, set: &[Example]) -> f32 {
    if set.is_empty() {
        return f32::NAN;
    }
    let mut a = Acts::new(p.classes());
    let ok = set
        .iter()
        .filter(|(x, y)| {
            net::forward(p, x, &mut a);
            argmax(&a.logits) == *y
        })
        .count();
    ok as f32 / set.len() as f32
}

/// Runs an int8 model (this crate's or any with a [1,49,40,1] int8 input) on features.
pub struct Int8Runner<'m> {
    model: Model<'m>,
    arena: Vec<u8>,
}

impl<'m> Int8Runner<'m> {
    /// Parse `bytes` and size the arena.
    pub fn new(bytes: &'m [u8]) -> Result<Self, mote_engine::Error> {
        let model = Model::parse(bytes)?;
        let mut arena = vec![0u8; 64 * 1024];
        loop {
            let len = arena.len();
            match Interpreter::new(&model, &mut arena, &mut []).map(|_| ()) {
                Ok(()) => break,
                Err(mote_engine::Error::ArenaTooSmall { needed, .. })
                    if needed as usize + 16 > len =>
                {
                    arena = vec![0u8; needed as usize + 16];
                }
                Err(e) => return Err(e),
            }
        }
        Ok(Int8Runner { model, arena })
    }

    /// The int8 outputs for one example.
    pub fn run(&mut self, features: &[i8]) -> Result<Vec<i8>, mote_engine::Error> {
        let mut it = Interpreter::new(&self.model, &mut self.arena, &mut [])?;
        let input = it.input_mut(0)?;
        for (d, &s) in input.iter_mut().zip(features) {
            *d = s as u8;
        }
        it.invoke()?;
        Ok(it.output(0)?.iter().map(|&b| b as i8).collect())
    }

    /// int8 top-1 on `set`.
    pub fn accuracy(&mut self, set: &[Example]) -> Result<f32, mote_engine::Error> {
        if set.is_empty() {
            return Ok(f32::NAN);
        }
        let mut ok = 0;
        for (x, y) in set {
            if argmax(&self.run(x)?) == *y {
                ok += 1;
            }
        }
        Ok(ok as f32 / set.len() as f32)
    }
}

/// Train, quantize and write the model. `progress` is called after every epoch.
pub fn train(
    c: &Corpus,
    o: &Options<'_>,
    mut progress: impl FnMut(&EpochReport),
) -> Result<Trained, TrainError> {
    let n_words = c.words.len();
    if !(2..=31).contains(&n_words) {
        return Err(TrainError::WordCount(n_words));
    }
    if let Some(i) = c.words.iter().position(|(_, clips)| clips.is_empty()) {
        return Err(TrainError::EmptyWord(i));
    }
    if c.background.iter().all(|b| b.is_empty()) {
        return Err(TrainError::NoBackground);
    }
    let classes = n_words + 1;
    let root = Rng::new(o.seed);
    let mut fe = Features::new()?;

    // Held out: every word's clips shuffled, a fifth (when it has at least 5) set aside.
    let mut split = root.fork(1);
    let mut train_clips: Vec<Vec<&[i16]>> = Vec::new();
    let mut val_clips: Vec<Vec<&[i16]>> = Vec::new();
    for (_, clips) in &c.words {
        let mut idx: Vec<usize> = (0..clips.len()).collect();
        split.shuffle(&mut idx);
        let hold = if clips.len() >= 5 { clips.len() / 5 } else { 0 };
        val_clips.push(idx[..hold].iter().map(|&i| &clips[i][..]).collect());
        train_clips.push(idx[hold..].iter().map(|&i| &clips[i][..]).collect());
    }
    let (bg_train, bg_val) = split_background(&c.background);
    let val = examples(
        &val_clips,
        &bg_val,
        3,
        &o.augment,
        &mut fe,
        &mut root.fork(2),
    );
    let val: Vec<Example> = if val_clips.iter().all(|v| v.is_empty()) {
        Vec::new()
    } else {
        val
    };

    let mut p = Params::init(classes, &mut root.fork(3));
    let frozen = match o.start {
        Start::Scratch => 0,
        Start::Base(bytes) => {
            base::load(bytes, &mut p).map_err(TrainError::Base)?;
            base::FROZEN
        }
    };
    let mut adam = Adam::new(classes);
    let mut g = Grads::new(classes);
    let mut a = Acts::new(classes);
    let mut aug = root.fork(4);
    let mut last = Vec::new();
    let total_steps = o.epochs.max(1);
    for epoch in 0..o.epochs {
        let mut set = examples(
            &train_clips,
            &bg_train,
            o.per_clip.max(1),
            &o.augment,
            &mut fe,
            &mut aug,
        );
        aug.shuffle(&mut set);
        let t = epoch as f32 / total_steps as f32;
        let lr = o.lr * (0.03 + 0.97 * 0.5 * (1.0 + libm::cosf(core::f32::consts::PI * t)));
        let (mut loss, mut ok, mut in_batch) = (0.0f32, 0usize, 0usize);
        for (x, y) in &set {
            net::forward(&p, x, &mut a);
            net::dropout(&p, &mut a, o.dropout, &mut aug);
            if argmax(&a.logits) == *y {
                ok += 1;
            }
            loss += net::backward(&p, &a, *y, &mut g, frozen);
            in_batch += 1;
            if in_batch == o.batch.max(1) {
                adam.step(&mut p, &mut g.p, lr, in_batch);
                in_batch = 0;
            }
        }
        if in_batch > 0 {
            adam.step(&mut p, &mut g.p, lr, in_batch);
        }
        progress(&EpochReport {
            epoch: epoch + 1,
            epochs: o.epochs,
            loss: loss / set.len().max(1) as f32,
            train_accuracy: ok as f32 / set.len().max(1) as f32,
            val_accuracy: float_accuracy(&p, &val),
        });
        last = set;
    }
    if last.is_empty() {
        last = examples(&train_clips, &bg_train, 1, &o.augment, &mut fe, &mut aug);
    }

    // Calibrate activation ranges on (up to 400) training examples.
    let mut ranges = quant::Ranges::default();
    for (x, _) in last.iter().take(400) {
        net::forward(&p, x, &mut a);
        ranges.observe(&a);
    }
    let q = quant::quantize(&p, &ranges);
    let tflite = tflite::write(&q);
    let int8_accuracy = Int8Runner::new(&tflite)?.accuracy(&val)?;
    let mut labels = vec![BACKGROUND.to_string()];
    labels.extend(c.words.iter().map(|(n, _)| n.clone()));
    Ok(Trained {
        float_accuracy: float_accuracy(&p, &val),
        int8_accuracy,
        val_examples: val.len(),
        train_examples: last.len(),
        tflite,
        labels,
        params: p,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two "words" (a low and a high tone burst) and noise: tiny, but every stage runs.
    fn corpus() -> Corpus {
        let tone = |hz: f32, n: usize| -> Vec<i16> {
            (0..n)
                .map(|i| {
                    let t = i as f32 / 16000.0;
                    (8000.0 * libm::sinf(2.0 * core::f32::consts::PI * hz * t)) as i16
                })
                .collect()
        };
        let mut r = Rng::new(9);
        let noise: Vec<i16> = (0..40_000).map(|_| (r.normal() * 300.0) as i16).collect();
        Corpus {
            words: vec![
                (
                    "low".into(),
                    (0..5)
                        .map(|k| tone(400.0 + 20.0 * k as f32, 5000))
                        .collect(),
                ),
                (
                    "high".into(),
                    (0..5)
                        .map(|k| tone(3000.0 + 50.0 * k as f32, 5000))
                        .collect(),
                ),
            ],
            background: vec![noise],
        }
    }

    fn quick() -> Options<'static> {
        Options {
            epochs: 2,
            per_clip: 1,
            ..Options::default()
        }
    }

    #[test]
    fn same_seed_same_bytes_and_the_engine_runs_them() {
        let c = corpus();
        let mut epochs = 0;
        let a = train(&c, &quick(), |_| epochs += 1).unwrap();
        let b = train(&c, &quick(), |_| {}).unwrap();
        assert_eq!(epochs, 2);
        assert_eq!(a.tflite, b.tflite);
        assert_eq!(a.labels, ["background", "low", "high"]);
        let other = train(&c, &Options { seed: 2, ..quick() }, |_| {}).unwrap();
        assert_ne!(a.tflite, other.tflite);
        // The file parses and runs: three int8 probabilities.
        let mut run = Int8Runner::new(&a.tflite).unwrap();
        assert_eq!(run.run(&[0i8; data::FEATURES]).unwrap().len(), 3);
        let scratch = Options {
            start: Start::Scratch,
            dropout: 0.0,
            ..quick()
        };
        let s1 = train(&c, &scratch, |_| {}).unwrap();
        assert_eq!(s1.tflite, train(&c, &scratch, |_| {}).unwrap().tflite);
        assert_ne!(s1.tflite, a.tflite);
    }

    /// From a base, the frozen convolutions stay the base's; the rest learns.
    #[test]
    fn transfer_keeps_the_base_and_trains_the_head() {
        let c = corpus();
        let t = train(&c, &quick(), |_| {}).unwrap();
        let mut b = Params::zeros(3);
        base::load(base::BUILTIN, &mut b).unwrap();
        assert_eq!(t.params.conv[..base::FROZEN], b.conv[..base::FROZEN]);
        assert_ne!(t.params.conv[base::FROZEN..], b.conv[base::FROZEN..]);
        assert!(t.params.wf.iter().any(|&x| x != 0.0));
        let bad = Options {
            start: Start::Base(b"MOTEBASE"),
            ..quick()
        };
        assert_eq!(
            train(&c, &bad, |_| {}).unwrap_err(),
            TrainError::Base(base::BaseError::NotABase)
        );
    }

    #[test]
    fn bad_corpora_are_typed_errors() {
        let mut c = corpus();
        c.background.clear();
        assert_eq!(
            train(&c, &quick(), |_| {}).unwrap_err(),
            TrainError::NoBackground
        );
        let mut c = corpus();
        c.words[1].1.clear();
        assert_eq!(
            train(&c, &quick(), |_| {}).unwrap_err(),
            TrainError::EmptyWord(1)
        );
        let mut c = corpus();
        c.words.truncate(1);
        assert_eq!(
            train(&c, &quick(), |_| {}).unwrap_err(),
            TrainError::WordCount(1)
        );
    }
}
