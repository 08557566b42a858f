//! Model sidecar JSON: microWakeWord's format, read as-is, plus an optional `labels` array
//! (Mote's extension for multi-class models). Picked up automatically next to the model
//! (`model.tflite` → `model.json`).

use std::path::{Path, PathBuf};

use serde::Deserialize;

/// The sidecar file.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct SidecarFile {
    /// `"micro"` for microWakeWord models.
    #[serde(rename = "type", default)]
    pub kind: Option<String>,
    /// The wake word's display name (microWakeWord).
    #[serde(default)]
    pub wake_word: Option<String>,
    /// One name per output class (multi-class models).
    #[serde(default)]
    pub labels: Option<Vec<String>>,
    /// Detection settings.
    #[serde(default)]
    pub micro: Micro,
}

/// The `micro` section.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct Micro {
    /// Probability a (smoothed) score must exceed.
    #[serde(default)]
    pub probability_cutoff: Option<f64>,
    /// Invocations averaged.
    #[serde(default)]
    pub sliding_window_size: Option<u8>,
    /// Feature step in ms.
    #[serde(default)]
    pub feature_step_size: Option<u16>,
    /// The arena size microWakeWord/ESPHome reserve (informational).
    #[serde(default)]
    pub tensor_arena_size: Option<u32>,
}

impl SidecarFile {
    /// Parse sidecar JSON text.
    pub fn parse(text: &str) -> Result<SidecarFile, serde_json::Error> {
        serde_json::from_str(text)
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
