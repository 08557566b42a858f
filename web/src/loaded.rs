//! A model the page has loaded: its bytes and sidecar, the planner's report (or why there is
//! none), and how the audio pipeline runs it (or why it cannot) — both from the exporter's
//! library, so the page says what `mote inspect`, `mote detect` and `mote export` say.

use std::rc::Rc;

use mote_engine::{Error, Model};
use mote_exporter::export::config::Settings;
use mote_exporter::report::{self, ModelReport};
use mote_exporter::sidecar::SidecarFile;

/// The default models served with the page (from pymicro-wakeword 2.5.0, fetched at set-up).
pub const DEFAULT_MODELS: &[(&str, &str)] = &[
    ("okay_nabu", "Okay Nabu"),
    ("hey_jarvis", "Hey Jarvis"),
    ("alexa", "Alexa"),
    ("hey_mycroft", "Hey Mycroft"),
];

/// Everything derived from one model file.
#[derive(Debug)]
pub struct Loaded {
    /// Increases with every load: components compare it instead of the contents.
    pub id: u32,
    /// File name shown on the page.
    pub name: String,
    /// The .tflite bytes.
    pub bytes: Rc<Vec<u8>>,
    /// The sidecar JSON text, if one came with the model.
    pub sidecar_text: Option<String>,
    /// The parsed sidecar (for the wake word's name).
    pub sidecar: Option<SidecarFile>,
    /// The planner's report, or the sentence saying why the model cannot run.
    pub report: Result<ModelReport, String>,
    /// How the audio pipeline runs it, or why it cannot.
    pub settings: Result<Settings, String>,
}

impl PartialEq for Loaded {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Loaded {
    /// Reads, plans and checks `bytes`.
    pub fn analyse(id: u32, name: &str, bytes: Vec<u8>, sidecar_text: Option<String>) -> Loaded {
        let sidecar = sidecar_text
            .as_deref()
            .and_then(|t| SidecarFile::parse(t).ok());
        let report = report::report(&bytes).map_err(|e| explain(&e, &bytes));
        let settings = match (&report, Model::parse(&bytes)) {
            (Ok(_), Ok(model)) => {
                Settings::for_model(&model, sidecar_text.as_deref()).map_err(|e| e.to_string())
            }
            (Err(_), _) => Err("the model cannot be prepared (see above)".into()),
            (_, Err(e)) => Err(explain(&e, &bytes)),
        };
        Loaded {
            id,
            name: name.to_string(),
            bytes: Rc::new(bytes),
            sidecar_text,
            sidecar,
            report,
            settings,
        }
    }

    /// The wake word (or the labels, or the file stem), for headings.
    pub fn title(&self) -> String {
        if let Some(w) = self.sidecar.as_ref().and_then(|s| s.wake_word.clone()) {
            return w;
        }
        match &self.settings {
            Ok(s) if s.labels.len() > 1 => s.labels.join(" / "),
            _ => stem(&self.name).replace(['_', '-'], " "),
        }
    }

    /// The project name `mote export` would use for this file: the stem, with characters other
    /// than `[A-Za-z0-9._-]` replaced by `_` (as the CLI does).
    pub fn project_name(&self) -> String {
        mote_exporter::export::sanitize_name(stem(&self.name))
    }
}

/// `dir/okay_nabu.tflite` → `okay_nabu`.
fn stem(name: &str) -> &str {
    let base = name.rsplit('/').next().unwrap_or(name);
    base.rsplit_once('.').map_or(base, |(s, _)| s)
}

/// An engine error as a sentence a person can act on: what failed, and what to do.
pub fn explain(e: &Error, bytes: &[u8]) -> String {
    match e {
        Error::UnsupportedOp { op, version } => format!(
            "This model cannot run: it uses the operator {} (version {version}), which Mote's engine does not implement. \
             Re-export the model without it, or use an int8 model built from the supported operators.",
            op.name()
        ),
        Error::UnsupportedCustomOp { .. } => {
            "This model cannot run: it uses a custom operator, and Mote runs only TFLite builtin operators.".into()
        }
        Error::UnsupportedType { .. } | Error::UnsupportedQuantization { .. } => format!(
            "This model cannot run: {e}. Mote runs full-integer (int8) models: convert with a representative dataset \
             and int8 input/output."
        ),
        Error::InfiniteMultiplier { .. } => format!(
            "This model cannot run: {e}. A tensor's quantization scale is 0 (or not finite), which TFLM refuses too: \
             convert the model again with a representative dataset."
        ),
        Error::BadIdentifier | Error::UnsupportedSchemaVersion { .. } | Error::Truncated { .. } => {
            format!("This is not a readable .tflite file ({} bytes): {e}.", bytes.len())
        }
        _ => format!("This model cannot run: {e}."),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_names_follow_the_cli() {
        let l = |name: &str| Loaded::analyse(1, name, vec![], None).project_name();
        assert_eq!(l("okay_nabu.tflite"), "okay_nabu");
        assert_eq!(l("my model (v2).tflite"), "my_model__v2_");
        assert_eq!(l(".tflite"), "model");
    }

    #[test]
    fn garbage_is_explained() {
        let l = Loaded::analyse(1, "x.tflite", b"not a model".to_vec(), None);
        assert!(l
            .report
            .unwrap_err()
            .starts_with("This is not a readable .tflite file (11 bytes)"));
        assert!(l.settings.is_err());
    }
}
