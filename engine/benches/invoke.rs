//! `cargo bench -p mote-engine`: host time of one `Interpreter::invoke` on the reference
//! models (micro_speech, okay_nabu, hey_jarvis), streaming state carried across iterations as
//! on the device. Models are third-party data outside the repository: `MOTE_REFERENCE`
//! (default `../shared/reference`) and `MOTE_PIP_MODELS` (default `models/pip`, filled by
//! `scripts/fetch-models.sh`); a missing model is skipped with a note.

use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion};
use mote_engine::{Interpreter, Model};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn models() -> Vec<(&'static str, PathBuf)> {
    let reference = std::env::var_os("MOTE_REFERENCE")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../shared/reference"));
    let pip = std::env::var_os("MOTE_PIP_MODELS")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("models/pip"));
    let wake = pip.join("pymicro_wakeword/models");
    vec![
        (
            "micro_speech",
            reference.join("tflm/micro_speech_quantized.tflite"),
        ),
        ("okay_nabu", wake.join("okay_nabu.tflite")),
        ("hey_jarvis", wake.join("hey_jarvis.tflite")),
    ]
}

fn invoke(c: &mut Criterion) {
    let mut group = c.benchmark_group("invoke");
    for (name, path) in models() {
        let Ok(bytes) = std::fs::read(&path) else {
            eprintln!("skipping {name}: no model at {}", path.display());
            continue;
        };
        let model = Model::parse(&bytes).expect("model parses");
        let (mut arena, mut state) = (vec![0u8; 64 * 1024], vec![0u8; 16 * 1024]);
        let mut interp = Interpreter::new(&model, &mut arena, &mut state).expect("model prepares");
        // The firmware's fixed input pattern: byte i = (7 * i + 3) mod 256.
        for (i, b) in interp.input_mut(0).expect("input 0").iter_mut().enumerate() {
            *b = (i.wrapping_mul(7).wrapping_add(3) & 0xFF) as u8;
        }
        group.bench_function(name, |b| {
            b.iter(|| black_box(interp.invoke()).expect("invoke"))
        });
    }
    group.finish();
}

criterion_group!(benches, invoke);
criterion_main!(benches);
