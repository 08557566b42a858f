//! Ahead-of-time code equals the interpreter: every golden op model, the whole-model fixtures
//! and the okay_nabu streaming model (resource variables, CALL_ONCE) are compiled to Rust by
//! `export::aot`, built as one host program, and run on the same inputs as the interpreter
//! (which the golden tests prove equal to TFLM). Three invocations each, so state carries.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use mote_engine::frontend::{Flavor, Frontend, FrontendConfig};
use mote_engine::interpreter::InterpreterOptions;
use mote_engine::Model;
use mote_exporter::export::aot;

/// The input bytes both sides use: a fixed LCG per (model, invocation, input).
const LCG: &str = "fn fill(buf: &mut [u8], seed: u32) {\n    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);\n    for b in buf.iter_mut() {\n        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);\n        *b = (x >> 16) as u8;\n    }\n}\n";

fn fill(buf: &mut [u8], seed: u32) {
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    for b in buf.iter_mut() {
        x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        *b = (x >> 16) as u8;
    }
}

const INVOCATIONS: u32 = 3;

/// FNV-1a 64 of every feature (u16) and int8 value of a front end over a fixed second of audio
/// (an LCG's bytes as samples); the same source runs in the generated program.
const FRONTEND_HASH: &str = "fn frontend_hash(f: &mut mote_engine::frontend::Frontend) -> u64 {\n    let mut bytes = vec![0u8; 32_000];\n    fill(&mut bytes, 77);\n    let samples: Vec<i16> = bytes.chunks_exact(2).map(|b| i16::from_le_bytes([b[0], b[1]]) / 4).collect();\n    let mut h = 0xcbf2_9ce4_8422_2325u64;\n    let mut eat = |b: u8| h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);\n    f.push(&samples, |frame| {\n        frame.features.iter().for_each(|v| v.to_le_bytes().into_iter().for_each(&mut eat));\n        frame.int8.iter().for_each(|&v| eat(v as u8));\n    });\n    h\n}\n";

fn frontend_hash(f: &mut Frontend) -> u64 {
    let mut bytes = vec![0u8; 32_000];
    fill(&mut bytes, 77);
    let samples: Vec<i16> = bytes
        .chunks_exact(2)
        .map(|b| i16::from_le_bytes([b[0], b[1]]) / 4)
        .collect();
    let mut h = 0xcbf2_9ce4_8422_2325u64;
    let mut eat = |b: u8| h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
    f.push(&samples, |frame| {
        frame
            .features
            .iter()
            .for_each(|v| v.to_le_bytes().into_iter().for_each(&mut eat));
        frame.int8.iter().for_each(|&v| eat(v as u8));
    });
    h
}

/// Front-end configurations, as Rust source and as values: both presets, and the
/// double-precision C flavor.
fn frontend_configs() -> Vec<(&'static str, FrontendConfig)> {
    let mut f64_flavor = FrontendConfig::micro_wakeword();
    f64_flavor.flavor = Flavor::MicroFrontendF64;
    vec![
        ("mote_engine::frontend::FrontendConfig::micro_speech()", FrontendConfig::micro_speech()),
        ("mote_engine::frontend::FrontendConfig::micro_wakeword()", FrontendConfig::micro_wakeword()),
        (
            "{ let mut c = mote_engine::frontend::FrontendConfig::micro_wakeword(); c.flavor = mote_engine::frontend::Flavor::MicroFrontendF64; c }",
            f64_flavor,
        ),
    ]
}

fn models() -> Vec<(String, Vec<u8>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut out = Vec::new();
    let ops = root.join("engine/tests/golden/ops");
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(&ops)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.join("model.tflite").exists())
        .collect();
    dirs.sort();
    for d in dirs {
        let name = d.file_name().unwrap().to_string_lossy().into_owned();
        out.push((name, std::fs::read(d.join("model.tflite")).unwrap()));
    }
    for m in ["ds_cnn", "mobilenet_025", "mobilenet_025_qdim3", "str_ww"] {
        let p = root.join(format!("engine/tests/fixtures/models/{m}.tflite"));
        out.push((m.into(), std::fs::read(p).unwrap()));
    }
    out.push((
        "template_model".into(),
        std::fs::read(root.join("firmware-template/mote/model.tflite")).unwrap(),
    ));
    if let Some(p) = common::pip_model("okay_nabu.tflite") {
        out.push(("okay_nabu".into(), std::fs::read(p).unwrap()));
    }
    out
}

/// What the interpreter prints for `model` (the same text the generated program prints).
fn interpreter_lines(index: usize, bytes: &[u8]) -> String {
    let model = Model::parse(bytes).unwrap();
    let mut text = String::new();
    mote_exporter::report::with_interpreter(&model, InterpreterOptions::default(), |interp| {
        for inv in 0..INVOCATIONS {
            for i in 0..interp.input_count() {
                fill(
                    interp.input_mut(i)?,
                    (index as u32) << 16 | inv << 8 | i as u32,
                );
            }
            interp.invoke()?;
            let _ = write!(text, "{index} {inv}");
            for o in 0..interp.output_count() {
                text.push(' ');
                for b in interp.output(o)? {
                    let _ = write!(text, "{b:02x}");
                }
            }
            text.push('\n');
        }
        Ok(())
    })
    .unwrap();
    // The generated `IO` gives the pipeline the configuration the flatbuffer gives.
    let cfg = mote_engine::pipeline::PipelineConfig::for_model(&model, None).ok();
    let _ = writeln!(text, "cfg {index} {cfg:?}");
    text
}

#[test]
fn aot_code_equals_interpreter() {
    let models = models();
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("aot-host");
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let engine = Path::new(env!("CARGO_MANIFEST_DIR")).join("../engine");
    std::fs::write(
        dir.join("Cargo.toml"),
        format!(
            "[package]\nname = \"aot-host\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
             [dependencies]\nmote-engine = {{ path = {:?} }}\n\n[workspace]\n",
            engine.canonicalize().unwrap()
        ),
    )
    .unwrap();
    // The workspace's lock file: the same dependency versions as every other build (offline).
    std::fs::copy(engine.join("../Cargo.lock"), dir.join("Cargo.lock")).unwrap();
    let mut main = String::from("use mote_engine::aot::{Compiled, Net};\n\n");
    let mut expected = String::new();
    let mut calls = String::new();
    let mut expected_fe = String::new();
    for (i, (name, bytes)) in models.iter().enumerate() {
        let g = aot::generate(bytes).unwrap_or_else(|e| panic!("{name}: {e}"));
        let m = src.join(format!("m{i}"));
        std::fs::create_dir_all(&m).unwrap();
        std::fs::write(m.join("model.rs"), &g.model_rs).unwrap();
        std::fs::write(m.join("weights.bin"), &g.weights).unwrap();
        let _ = writeln!(
            main,
            "#[allow(dead_code, unused)]\nmod m{i} {{\n    include!(\"m{i}/model.rs\");\n}}"
        );
        let _ = writeln!(
            calls,
            "    run({i}, &m{i}::MODEL);\n    config({i}, &m{i}::IO);"
        );
        expected.push_str(&interpreter_lines(i, bytes));
    }
    // The front ends' start-up tables as the exporter writes them (`FRONTEND_TABLES`), used by
    // `Frontend::init_with_tables` in the generated program, must give the features that
    // `Frontend::new` (tables computed with libm) gives.
    for (k, (cfg_rs, cfg)) in frontend_configs().into_iter().enumerate() {
        let mut tables = String::new();
        Frontend::new(&cfg)
            .unwrap()
            .tables()
            .write_rust(&mut tables)
            .unwrap();
        let _ = writeln!(
            main,
            "const FE{k}: mote_engine::frontend::FrontendTables = {tables};"
        );
        let _ = writeln!(calls, "    frontend({k}, &{cfg_rs}, &FE{k});");
        let _ = writeln!(
            expected_fe,
            "fe {k} {:016x}",
            frontend_hash(&mut Box::new(Frontend::new(&cfg).unwrap()))
        );
    }
    expected.push_str(&expected_fe);
    main.push_str(LCG);
    main.push_str(FRONTEND_HASH);
    let _ = write!(
        main,
        "\nfn run(index: u32, model: &'static mote_engine::aot::CompiledModel) {{\n    \
         let mut arena = vec![0u8; model.arena_bytes];\n    \
         let mut state = vec![0u8; model.state_bytes];\n    \
         let mut net = Compiled::new(model, &mut arena, &mut state).unwrap();\n    \
         for inv in 0..{INVOCATIONS} {{\n        \
             for i in 0..model.inputs.len() {{\n            \
                 fill(net.input_mut(i).unwrap(), index << 16 | inv << 8 | i as u32);\n        \
             }}\n        \
             net.invoke().unwrap();\n        \
             print!(\"{{index}} {{inv}}\");\n        \
             for o in 0..model.outputs.len() {{\n            \
                 print!(\" \");\n            \
                 for b in net.output(o).unwrap() {{\n                \
                     print!(\"{{b:02x}}\");\n            \
                 }}\n        \
             }}\n        \
             println!();\n    \
         }}\n}}\n\n\
         fn config(index: u32, io: &mote_engine::pipeline::ModelIo<'static>) {{\n    \
             let cfg = mote_engine::pipeline::PipelineConfig::for_io(io, None).ok();\n    \
             println!(\"cfg {{index}} {{cfg:?}}\");\n\
         }}\n\n\
         fn frontend(index: u32, cfg: &mote_engine::frontend::FrontendConfig, t: &mote_engine::frontend::FrontendTables) {{\n    \
             let mut f = Box::new(mote_engine::frontend::Frontend::EMPTY);\n    \
             f.init_with_tables(cfg, t).unwrap();\n    \
             println!(\"fe {{index}} {{:016x}}\", frontend_hash(&mut f));\n\
         }}\n\nfn main() {{\n{calls}}}\n"
    );
    std::fs::write(src.join("main.rs"), main).unwrap();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(cargo)
        .args(["run", "--quiet", "--offline", "--manifest-path"])
        .arg(dir.join("Cargo.toml"))
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "generated code did not build or run:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let got = String::from_utf8(out.stdout).unwrap();
    for (i, (g, e)) in got.lines().zip(expected.lines()).enumerate() {
        let name = models
            .get(i / (INVOCATIONS as usize + 1))
            .map_or("front-end tables", |m| m.0.as_str());
        assert_eq!(g, e, "{name}: AOT output differs from the interpreter");
    }
    assert_eq!(got.lines().count(), expected.lines().count());
    assert!(models.len() >= 130, "only {} models", models.len());
}
