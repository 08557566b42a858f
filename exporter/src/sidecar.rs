//! Model sidecar JSON: microWakeWord's format, read as-is, plus an optional `labels` array
//! (Mote's extension for multi-class models). Picked up automatically next to the model
//! (`model.tflite` → `model.json`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The sidecar file.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)] // every field optional: an absent one is `None`
pub struct SidecarFile {
    /// `"micro"` for microWakeWord models.
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// The wake word's display name (microWakeWord).
    pub wake_word: Option<String>,
    /// One name per output class (multi-class models).
    pub labels: Option<Vec<String>>,
    /// Detection settings.
    pub micro: Micro,
    /// Front end: `"mfcc"` (MLPerf Tiny KWS's MFCCs) or `"micro_frontend"` (TFLM's log-mel,
    /// the default); absent with an `mfcc` object means `"mfcc"`.
    pub feature_type: Option<String>,
    /// MFCC settings (MLPerf Tiny KWS's flag names); absent fields take MLPerf's values.
    pub mfcc: Option<MfccFields>,
}

/// The `mfcc` section, as given (validated by `detect::setup`, which names the field).
#[derive(Clone, Debug, Default, PartialEq, Deserialize, serde::Serialize)]
#[serde(default, deny_unknown_fields)] // absent fields are `None`
pub struct MfccFields {
    /// Window length, ms (MLPerf: 30).
    pub window_size_ms: Option<f64>,
    /// Hop, ms (MLPerf: 20).
    pub window_stride_ms: Option<f64>,
    /// Mel bins (MLPerf: 40).
    pub num_mel_bins: Option<f64>,
    /// Lowest mel edge, Hz (MLPerf: 20).
    pub lower_edge_hertz: Option<f64>,
    /// Highest mel edge, Hz (MLPerf: 4000).
    pub upper_edge_hertz: Option<f64>,
    /// Coefficients kept per frame (MLPerf: 10).
    pub dct_coefficient_count: Option<f64>,
}

/// The `micro` section.
#[derive(Clone, Debug, Default, Deserialize)]
#[serde(default)] // absent fields are `None`
pub struct Micro {
    /// Probability a (smoothed) score must exceed.
    pub probability_cutoff: Option<f64>,
    /// Invocations averaged.
    pub sliding_window_size: Option<u8>,
    /// Feature step in ms.
    pub feature_step_size: Option<u16>,
    /// The arena size microWakeWord/ESPHome reserve (informational).
    pub tensor_arena_size: Option<u32>,
}

/// Why sidecar text cannot be read.
#[derive(Debug)]
pub enum SidecarError {
    /// Not JSON, or a field of the wrong type (serde_json's message names line and column).
    Json(serde_json::Error),
    /// Valid JSON whose top level is not an object (`[]`, `"x"`, `3`, ...).
    NotAnObject(&'static str),
}

impl std::fmt::Display for SidecarError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SidecarError::Json(e) => write!(f, "not valid JSON in microWakeWord's format: {e}"),
            SidecarError::NotAnObject(kind) => write!(
                f,
                "the top level is {kind}, not a JSON object like {{\"micro\": {{\"probability_cutoff\": 0.9}}}}"
            ),
        }
    }
}

impl std::error::Error for SidecarError {}

impl SidecarFile {
    /// Parse sidecar JSON text (a leading UTF-8 byte-order mark is ignored). The top level must
    /// be an object: serde would otherwise read `[]` as a struct with every field absent.
    pub fn parse(text: &str) -> Result<SidecarFile, SidecarError> {
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        let v: serde_json::Value = serde_json::from_str(text).map_err(SidecarError::Json)?;
        let kind = match &v {
            serde_json::Value::Object(_) => None,
            serde_json::Value::Array(_) => Some("an array"),
            serde_json::Value::String(_) => Some("a string"),
            serde_json::Value::Number(_) => Some("a number"),
            serde_json::Value::Bool(_) => Some("a boolean"),
            serde_json::Value::Null => Some("null"),
        };
        if let Some(kind) = kind {
            return Err(SidecarError::NotAnObject(kind));
        }
        serde_json::from_value(v).map_err(SidecarError::Json)
    }

    /// Label names for reports: `labels`, else the wake word, else none.
    pub fn label_names(&self) -> Vec<String> {
        if let Some(l) = &self.labels {
            return l.clone();
        }
        self.wake_word.iter().cloned().collect()
    }
}

/// `model.json` next to `model.tflite`, if it exists.
pub fn beside(model: &Path) -> Option<PathBuf> {
    let p = model.with_extension("json");
    p.exists().then_some(p)
}

/// What a trained model's sidecar records (`mote train` and the page's Train step write the
/// same text for the same training).
pub struct Trained<'a> {
    /// Output names, background first.
    pub labels: &'a [String],
    /// The model's file name, if it has one.
    pub model: Option<&'a str>,
    /// Training seed.
    pub seed: u64,
    /// Epochs trained.
    pub epochs: usize,
    /// Float top-1 on the held-out split.
    pub float_accuracy: f32,
    /// int8 top-1 on the same split.
    pub int8_accuracy: f32,
    /// Held-out examples.
    pub held_out_examples: usize,
}

/// A trained classifier's sidecar: the labels in output order and detection settings for
/// 1 s micro_speech-style windows (pretty-printed JSON).
pub fn trained(t: &Trained<'_>) -> String {
    let words: Vec<&str> = t.labels.iter().skip(1).map(String::as_str).collect();
    let side = serde_json::json!({
        "type": "micro",
        "wake_word": words.join(" / "),
        "author": "mote train",
        "model": t.model,
        "version": 2,
        "labels": t.labels,
        "micro": {"feature_step_size": 20, "probability_cutoff": 0.8, "sliding_window_size": 3},
        "training": {"seed": t.seed, "epochs": t.epochs,
            "float_accuracy": t.float_accuracy, "int8_accuracy": t.int8_accuracy,
            "held_out_examples": t.held_out_examples},
    });
    serde_json::to_string_pretty(&side).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_objects_are_sidecars_and_a_bom_is_ignored() {
        for (text, kind) in [("[]", "an array"), ("3", "a number"), ("null", "null")] {
            let e = SidecarFile::parse(text).unwrap_err();
            assert!(e.to_string().contains(kind), "{e}");
        }
        let s = SidecarFile::parse("\u{feff}{\"micro\": {\"probability_cutoff\": 0.5}}").unwrap();
        assert_eq!(s.micro.probability_cutoff, Some(0.5));
    }

    #[test]
    fn mfcc_section_rejects_unknown_fields() {
        let s = SidecarFile::parse(r#"{"feature_type": "mfcc", "mfcc": {"num_mel_bins": 32}}"#)
            .unwrap();
        assert_eq!(s.mfcc.unwrap().num_mel_bins, Some(32.0));
        let e = SidecarFile::parse(r#"{"mfcc": {"mel_bins": 32}}"#).unwrap_err();
        assert!(e.to_string().contains("mel_bins"), "{e}");
    }
}
