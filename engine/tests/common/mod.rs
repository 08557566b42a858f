//! Shared test helpers: locating reference data (never committed) and pip-installed models.
#![allow(dead_code)]

use std::path::PathBuf;

/// The workspace root.
pub fn repo_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// `../shared/reference` (or `$MOTE_REFERENCE`).
pub fn reference_dir() -> PathBuf {
    std::env::var_os("MOTE_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("../shared/reference"))
}

/// Where `scripts/fetch-models.sh` unpacks pip packages' model files (or `$MOTE_PIP_MODELS`).
pub fn pip_models_dir() -> PathBuf {
    std::env::var_os("MOTE_PIP_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo_root().join("models/pip"))
}

/// True under CI (`CI=true`): missing reference data is then a failure, not a skip.
pub fn in_ci() -> bool {
    std::env::var("CI")
        .map(|v| v == "true" || v == "1")
        .unwrap_or(false)
}

/// Resolve a model reference: `model.tflite` (relative to `dir`), `shared:<path>`, `pip:<path>`.
/// Returns `None` (after printing why) when third-party data is absent outside CI; panics in CI.
pub fn resolve(dir: &std::path::Path, reference: &str) -> Option<PathBuf> {
    let (path, how) = if let Some(p) = reference.strip_prefix("shared:") {
        (
            reference_dir().join(p),
            "the shared reference data (../shared/reference or $MOTE_REFERENCE)",
        )
    } else if let Some(p) = reference.strip_prefix("pip:") {
        (
            pip_models_dir().join(p),
            "pip models (run scripts/fetch-models.sh)",
        )
    } else {
        (dir.join(reference), "the repository")
    };
    if path.exists() {
        return Some(path);
    }
    let msg = format!("missing {} from {how}", path.display());
    if in_ci() {
        panic!("{msg} (CI=true: reference data must be present)");
    }
    eprintln!("SKIP: {msg}");
    None
}

/// Read a file that must exist.
pub fn read(path: &std::path::Path) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("cannot read {}: {e}", path.display()))
}

/// Hex SHA-256.
pub fn sha256(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Heap allocations made so far by the calling thread (a counting global allocator; per
/// thread, so tests running in parallel do not disturb each other's counts).
pub fn allocations() -> usize {
    ALLOCS.with(|c| c.get())
}

thread_local! {
    static ALLOCS: std::cell::Cell<usize> = const { std::cell::Cell::new(0) };
}

struct Counting;

// SAFETY: forwards to the system allocator unchanged; only counts calls.
unsafe impl std::alloc::GlobalAlloc for Counting {
    unsafe fn alloc(&self, l: std::alloc::Layout) -> *mut u8 {
        let _ = ALLOCS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.alloc(l) }
    }
    unsafe fn dealloc(&self, p: *mut u8, l: std::alloc::Layout) {
        // SAFETY: same contract as the caller's.
        unsafe { std::alloc::System.dealloc(p, l) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Reference models (third-party; never committed), for [`resolve`]: used when present.
pub const REFERENCE_MODELS: &[&str] = &[
    "shared:tflm/hello_world_int8.tflite",
    "shared:tflm/micro_speech_quantized.tflite",
    "shared:tflm/audio_preprocessor_int8.tflite",
    "pip:pymicro_wakeword/models/okay_nabu.tflite",
    "pip:pymicro_wakeword/models/hey_jarvis.tflite",
    "pip:pymicro_wakeword/models/alexa.tflite",
    "pip:pymicro_wakeword/models/hey_mycroft.tflite",
];

/// micro_speech's labels, in output order.
pub const MICRO_SPEECH_LABELS: [&str; 4] = ["silence", "unknown", "yes", "no"];

/// The sidecar of TFLM's micro_speech model (its four labels, 20 ms feature steps).
pub fn micro_speech_sidecar() -> mote_engine::pipeline::Sidecar<'static> {
    mote_engine::pipeline::Sidecar {
        probability_cutoff: Some(0.8),
        sliding_window_size: Some(3),
        feature_step_size: Some(20),
        labels: Some(&MICRO_SPEECH_LABELS),
        mfcc: None,
    }
}

/// The sidecar of a pymicro_wakeword model: cutoff and window from its `micro` JSON
/// (`json`), 10 ms feature steps, no labels.
pub fn mww_sidecar(json: &std::path::Path) -> mote_engine::pipeline::Sidecar<'static> {
    let v: serde_json::Value = serde_json::from_slice(&read(json)).unwrap();
    mote_engine::pipeline::Sidecar {
        probability_cutoff: v["micro"]["probability_cutoff"].as_f64(),
        sliding_window_size: v["micro"]["sliding_window_size"].as_u64().map(|w| w as u8),
        feature_step_size: Some(10),
        labels: None,
        mfcc: None,
    }
}

/// Arena and state buffers `model` fits in (16 bytes of slack on the arena for its alignment).
pub fn buffers(model: &mote_engine::Model<'_>) -> (Vec<u8>, Vec<u8>) {
    use mote_engine::{Error, Interpreter};
    let (mut a, mut s) = (0, 0);
    loop {
        match Interpreter::new(model, &mut vec![0u8; a], &mut vec![0u8; s]) {
            Ok(_) => return (vec![0u8; a], vec![0u8; s]),
            Err(Error::ArenaTooSmall { needed, .. }) => a = needed as usize + 16,
            Err(Error::StateTooSmall { needed, .. }) => s = needed as usize,
            Err(e) => panic!("{e}"),
        }
    }
}
