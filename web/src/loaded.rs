//! A model the page has loaded: its bytes, sidecar, the planner's report (or why there is none),
//! the live-run spec (or why it cannot run on audio) and the memory budget.

use std::rc::Rc;

use mote_engine::{Error, Model};
use mote_exporter::report::{self, ModelReport};

use crate::budget::Budget;
use crate::sidecar::Sidecar;
use crate::spec::{Preset, RunSpec};

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
    /// File name (or default model id) shown on the page.
    pub name: String,
    /// The .tflite bytes.
    pub bytes: Rc<Vec<u8>>,
    /// The sidecar, if one came with the model.
    pub sidecar: Option<Sidecar>,
    /// A sidecar that was given but could not be read.
    pub sidecar_error: Option<String>,
    /// The planner's report, or the sentence saying why the model cannot run.
    pub report: Result<ModelReport, String>,
    /// How to run it on live audio, or why not.
    pub spec: Result<RunSpec, String>,
    /// RAM/flash breakdown (when the report exists).
    pub budget: Option<Budget>,
}

impl PartialEq for Loaded {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Loaded {
    /// Reads, plans and checks `bytes`.
    pub fn analyse(id: u32, name: &str, bytes: Vec<u8>, sidecar_json: Option<&str>) -> Loaded {
        let (sidecar, sidecar_error) = match sidecar_json.map(Sidecar::parse) {
            Some(Ok(s)) => (Some(s), None),
            Some(Err(e)) => (None, Some(e)),
            None => (None, None),
        };
        let report = report::report(&bytes).map_err(|e| explain(&e, &bytes));
        let label = display_label(name);
        let spec = match (&report, Model::parse(&bytes)) {
            (Ok(_), Ok(model)) => RunSpec::derive(&model, sidecar.as_ref(), &label),
            (Err(_), _) => Err("the model cannot be prepared (see above)".into()),
            (_, Err(e)) => Err(explain(&e, &bytes)),
        };
        let preset = spec.as_ref().map(|s| s.preset).unwrap_or(Preset::MicroWakeWord);
        let budget = report.as_ref().ok().map(|r| Budget::new(r, preset));
        Loaded { id, name: name.to_string(), bytes: Rc::new(bytes), sidecar, sidecar_error, report, spec, budget }
    }

    /// The wake word or file stem, for headings.
    pub fn title(&self) -> String {
        self.sidecar.as_ref().and_then(|s| s.wake_word.clone()).unwrap_or_else(|| display_label(&self.name))
    }
}

/// `okay_nabu.tflite` → `okay nabu`.
pub fn display_label(name: &str) -> String {
    let stem = name.rsplit('/').next().unwrap_or(name);
    let stem = stem.strip_suffix(".tflite").unwrap_or(stem);
    stem.replace(['_', '-'], " ")
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
        Error::BadIdentifier | Error::UnsupportedSchemaVersion { .. } | Error::Truncated { .. } => {
            format!("This is not a readable .tflite file ({} bytes): {e}.", bytes.len())
        }
        _ => format!("This model cannot run: {e}."),
    }
}
