//! The playground's Train step, off the page's main thread. `main.rs` is the Web Worker's
//! message glue; this library is what it calls, host-testable:
//! - [`clip_from_wav`] / [`clip_from_pcm`]: a dropped WAV (decoded by the exporter's reader,
//!   as `mote train` reads its folders) or a microphone recording (resampled to 16 kHz, the
//!   word found by energy and a 1 s window cut around it) → 16 kHz samples + the features the
//!   page draws;
//! - [`train`]: `mote-trainer`'s `train`, the same code and options as `mote train`, so the
//!   same clips and seed give the same model bytes; the sidecar is the CLI's.
//!
//! Built as its own wasm module (trunk `data-type="worker"`), fetched only when the Train step
//! opens: the page's first load does not carry the trainer.

use mote_exporter::resample::AnyRate;
use mote_trainer::data::{self, Features, WINDOW};
use mote_trainer::{Corpus, EpochReport, Options, TrainError};

/// A clip as the page keeps it.
#[derive(Clone, Debug, PartialEq)]
pub struct Clip {
    /// 16 kHz mono samples (what training reads).
    pub samples: Vec<i16>,
    /// The first second's micro_speech features, frame by frame (40 per frame), each int8
    /// value + 128 (the page's spectrogram colours).
    pub features: Vec<u8>,
}

/// Clip features, with one front end kept between clips.
pub struct Clips {
    fe: Features,
}

impl Clips {
    /// The micro_speech front end.
    pub fn new() -> Result<Clips, mote_engine::Error> {
        Ok(Clips {
            fe: Features::new()?,
        })
    }

    fn clip(&mut self, samples: Vec<i16>) -> Clip {
        let features = self
            .fe
            .of(&samples)
            .iter()
            .map(|&v| (i16::from(v) + 128) as u8)
            .collect();
        Clip { samples, features }
    }

    /// A WAV file's bytes, any format `mote train` reads, untrimmed (as the CLI takes it).
    pub fn clip_from_wav(&mut self, wav: &[u8]) -> Result<Clip, String> {
        let audio = mote_exporter::export::wav::read_16k(wav)?;
        Ok(self.clip(audio.samples))
    }

    /// A recording at `rate` Hz in [−1, 1]: resampled to 16 kHz; with `trim`, the 1 s around
    /// the word (see [`trim_word`]).
    pub fn clip_from_pcm(&mut self, pcm: &[f32], rate: u32, trim: bool) -> Result<Clip, String> {
        let samples = to_16k(pcm, rate)?;
        Ok(self.clip(if trim { trim_word(&samples) } else { samples }))
    }
}

/// Most a dropped zip may unpack to, bytes (a zip bomb is refused, not unpacked).
pub const ZIP_LIMIT: u64 = 256 << 20;

/// One WAV of a zip of folders: its folder (the class), its file name and bytes.
#[derive(Clone, Debug, PartialEq)]
pub struct ZipWav {
    /// The folder holding the file (`_background_` is the background).
    pub folder: String,
    /// The file's name.
    pub name: String,
    /// Its bytes.
    pub wav: Vec<u8>,
}

/// The `.wav` files of a zip laid out as `mote train` wants a folder (`word/*.wav`,
/// `_background_/*.wav`, possibly under one top folder), sorted by path as the CLI reads them.
/// Files not in a folder, or not WAVs, are skipped.
pub fn zip_wavs(bytes: &[u8]) -> Result<Vec<ZipWav>, String> {
    use std::io::Read as _;
    let mut z = zip::ZipArchive::new(std::io::Cursor::new(bytes))
        .map_err(|e| format!("not a readable zip: {e}"))?;
    let mut out = Vec::new();
    let mut total = 0u64;
    for i in 0..z.len() {
        let mut f = z.by_index(i).map_err(|e| format!("zip entry {i}: {e}"))?;
        let Some(path) = f.enclosed_name() else {
            continue;
        };
        let is_wav = path
            .extension()
            .is_some_and(|e| e.eq_ignore_ascii_case("wav"));
        let parts: Vec<String> = path
            .iter()
            .map(|p| p.to_string_lossy().into_owned())
            .collect();
        if !f.is_file() || !is_wav || parts.len() < 2 || parts.iter().any(|p| p.starts_with('.')) {
            continue;
        }
        total += f.size();
        if total > ZIP_LIMIT {
            return Err(format!(
                "the zip unpacks to more than {} MiB",
                ZIP_LIMIT >> 20
            ));
        }
        let mut wav = Vec::new();
        f.by_ref()
            .take(ZIP_LIMIT)
            .read_to_end(&mut wav)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        out.push(ZipWav {
            folder: parts[parts.len() - 2].clone(),
            name: parts[parts.len() - 1].clone(),
            wav,
        });
    }
    out.sort_by(|a, b| (&a.folder, &a.name).cmp(&(&b.folder, &b.name)));
    Ok(out)
}

/// `pcm` at `rate` Hz → 16 kHz i16 (the engine's polyphase resampler at the rates it has
/// filters for, the exporter's interpolating one otherwise: what a WAV at that rate gets).
pub fn to_16k(pcm: &[f32], rate: u32) -> Result<Vec<i16>, String> {
    let mut r = AnyRate::new(rate)?;
    let ints: Vec<i16> = pcm
        .iter()
        .map(|&x| mote_engine::resample::f32_to_i16(x))
        .collect();
    let mut out = Vec::with_capacity(ints.len());
    r.process(&ints, |s| out.push(s));
    Ok(out)
}

/// The 1 s window centred on the loud part of `s` ([`data::active_span`]); `s` itself when it
/// is not longer than 1 s.
pub fn trim_word(s: &[i16]) -> Vec<i16> {
    if s.len() <= WINDOW {
        return s.to_vec();
    }
    let (a, b) = data::active_span(s);
    let start = ((a + b) / 2)
        .saturating_sub(WINDOW / 2)
        .min(s.len() - WINDOW);
    s[start..start + WINDOW].to_vec()
}

/// What the page shows and loads after training.
#[derive(Clone, Debug)]
pub struct Outcome {
    /// The int8 `.tflite`.
    pub tflite: Vec<u8>,
    /// Its sidecar (labels, detection settings, the training's figures).
    pub sidecar: String,
    /// Float top-1 on the held-out split.
    pub float_accuracy: f32,
    /// int8 top-1 on the same split (the file run by the engine).
    pub int8_accuracy: f32,
    /// Held-out examples.
    pub held_out_examples: usize,
}

/// Trains as `mote train --epochs E --seed S` does on the same clips (words in this order);
/// `model` names the file in the sidecar.
pub fn train(
    corpus: &Corpus,
    epochs: usize,
    seed: u64,
    model: &str,
    progress: impl FnMut(&EpochReport),
) -> Result<Outcome, TrainError> {
    let opts = Options {
        epochs,
        seed,
        ..Options::default()
    };
    let t = mote_trainer::train(corpus, &opts, progress)?;
    let sidecar = mote_exporter::sidecar::trained(&mote_exporter::sidecar::Trained {
        labels: &t.labels,
        model: Some(model),
        seed,
        epochs,
        float_accuracy: t.float_accuracy,
        int8_accuracy: t.int8_accuracy,
        held_out_examples: t.val_examples,
    });
    Ok(Outcome {
        tflite: t.tflite,
        sidecar,
        float_accuracy: t.float_accuracy,
        int8_accuracy: t.int8_accuracy,
        held_out_examples: t.val_examples,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trimming_centres_the_word_in_one_second() {
        let mut s = vec![0i16; 40_000];
        for (i, v) in s[30_000..34_000].iter_mut().enumerate() {
            *v = if i % 2 == 0 { 8000 } else { -8000 };
        }
        let t = trim_word(&s);
        assert_eq!(t.len(), WINDOW);
        // The burst (4,000 samples) sits in the window's middle, widened spans included.
        let loud: Vec<usize> = (0..t.len()).filter(|&i| t[i] != 0).collect();
        assert_eq!(loud.len(), 4000);
        assert!(loud[0] > 5000 && loud[loud.len() - 1] < 11_000, "{loud:?}");
        // Short recordings are kept whole.
        assert_eq!(trim_word(&s[..100]).len(), 100);
    }

    #[test]
    fn a_zip_of_folders_gives_its_wavs_by_folder_in_name_order() {
        use std::io::Write as _;
        let mut buf = std::io::Cursor::new(Vec::new());
        let mut w = zip::ZipWriter::new(&mut buf);
        let stored = zip::write::SimpleFileOptions::default()
            .compression_method(zip::CompressionMethod::Stored);
        for (name, data) in [
            ("clips/yes/b.wav", &b"B"[..]),
            ("clips/yes/a.WAV", b"A"),
            ("clips/_background_/n.wav", b"N"),
            ("clips/readme.txt", b"x"),
            ("top.wav", b"T"),
            ("clips/.hidden/h.wav", b"H"),
        ] {
            w.start_file(name, stored).unwrap();
            w.write_all(data).unwrap();
        }
        w.finish().unwrap();
        let got = zip_wavs(buf.get_ref()).unwrap();
        let flat: Vec<(&str, &str, &[u8])> = got
            .iter()
            .map(|z| (z.folder.as_str(), z.name.as_str(), z.wav.as_slice()))
            .collect();
        assert_eq!(
            flat,
            [
                ("_background_", "n.wav", &b"N"[..]),
                ("yes", "a.WAV", b"A"),
                ("yes", "b.wav", b"B"),
            ]
        );
        assert!(zip_wavs(b"PK not a zip").is_err());
    }

    #[test]
    fn a_wav_is_read_as_the_cli_reads_it() {
        // 8 kHz 16-bit mono: resampled to 16 kHz by the same reader `mote train` uses.
        let pcm: Vec<i16> = (0..8000).map(|i| ((i % 50) * 200 - 5000) as i16).collect();
        let mut wav = Vec::new();
        let data: Vec<u8> = pcm.iter().flat_map(|s| s.to_le_bytes()).collect();
        wav.extend_from_slice(b"RIFF");
        wav.extend_from_slice(&(36 + data.len() as u32).to_le_bytes());
        wav.extend_from_slice(b"WAVEfmt ");
        for v in [16u32, 1 | 1 << 16, 8000, 16000, 2 | 16 << 16] {
            wav.extend_from_slice(&v.to_le_bytes());
        }
        wav.extend_from_slice(b"data");
        wav.extend_from_slice(&(data.len() as u32).to_le_bytes());
        wav.extend_from_slice(&data);
        let mut c = Clips::new().unwrap();
        let clip = c.clip_from_wav(&wav).unwrap();
        let cli = mote_exporter::export::wav::read_16k(&wav).unwrap().samples;
        assert_eq!(clip.samples, cli);
        assert_eq!(clip.samples.len(), 16_000);
        assert_eq!(clip.features.len(), data::FEATURES);
        assert!(c.clip_from_wav(b"RIFF").is_err());
        // The same samples as float PCM at 8 kHz give the same 16 kHz clip.
        let f: Vec<f32> = pcm.iter().map(|&s| f32::from(s) / 32768.0).collect();
        assert_eq!(c.clip_from_pcm(&f, 8000, false).unwrap().samples, cli);
    }
}
