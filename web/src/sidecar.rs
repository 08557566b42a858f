//! The optional `.json` sidecar next to a model: microWakeWord's format (version 2), which Mote
//! extends with `labels` for multi-class models such as micro_speech.
//!
//! ```json
//! {"type": "micro", "wake_word": "Okay Nabu", "version": 2,
//!  "micro": {"probability_cutoff": 0.85, "feature_step_size": 10, "sliding_window_size": 5}}
//! ```
//!
//! Every field is optional here: a missing one falls back to what the model itself implies
//! ([`crate::spec::RunSpec`]).

use serde::Deserialize;

/// A parsed sidecar. Unknown fields are ignored.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Sidecar {
    /// Display name of the wake word, e.g. `Okay Nabu`.
    pub wake_word: Option<String>,
    /// Author, shown next to the model name.
    pub author: Option<String>,
    /// Model file the sidecar describes.
    pub model: Option<String>,
    /// One label per output element (Mote's extension; microWakeWord models have one output).
    pub labels: Option<Vec<String>>,
    /// Detection settings.
    pub micro: Micro,
}

/// The `micro` block: how the model is fed and how its scores become detections.
#[derive(Clone, Debug, Default, Deserialize, PartialEq)]
#[serde(default)]
pub struct Micro {
    /// Score (0..1) the sliding-window mean must reach to fire.
    pub probability_cutoff: Option<f32>,
    /// Front-end hop in ms (10 for microWakeWord, 20 for micro_speech).
    pub feature_step_size: Option<u32>,
    /// Number of consecutive invocations averaged before comparing with the cutoff.
    pub sliding_window_size: Option<usize>,
    /// Arena size the model's authors give for TFLM (shown for comparison only).
    pub tensor_arena_size: Option<u32>,
}

impl Sidecar {
    /// Parses sidecar JSON; the error is a sentence naming what is wrong.
    pub fn parse(text: &str) -> Result<Sidecar, String> {
        serde_json::from_str(text).map_err(|e| format!("the .json sidecar is not valid: {e}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_micro_wake_word_sidecar() {
        let s = Sidecar::parse(
            r#"{"type":"micro","wake_word":"Okay Nabu","author":"Kevin Ahrendt","model":"okay_nabu.tflite",
                "trained_languages":["en"],"version":2,
                "micro":{"probability_cutoff":0.85,"feature_step_size":10,"sliding_window_size":5,
                         "tensor_arena_size":37000,"minimum_esphome_version":"2024.7.0"}}"#,
        )
        .unwrap();
        assert_eq!(s.wake_word.as_deref(), Some("Okay Nabu"));
        assert_eq!(s.micro.probability_cutoff, Some(0.85));
        assert_eq!(s.micro.feature_step_size, Some(10));
        assert_eq!(s.micro.sliding_window_size, Some(5));
        assert_eq!(s.labels, None);
    }

    #[test]
    fn parses_labels_and_tolerates_missing_fields() {
        let s = Sidecar::parse(r#"{"labels":["silence","unknown","yes","no"]}"#).unwrap();
        assert_eq!(s.labels.unwrap().len(), 4);
        assert_eq!(s.micro, Micro::default());
    }

    #[test]
    fn rejects_garbage_with_a_sentence() {
        let e = Sidecar::parse("{not json").unwrap_err();
        assert!(e.starts_with("the .json sidecar is not valid"), "{e}");
    }
}
