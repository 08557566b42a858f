//! `mote export`: the zip is deterministic and self-contained, the template's generated files
//! are what the exporter generates, replay audio is converted exactly as `mote detect` converts
//! it, and bad input fails clearly without leaving a file behind. (Building the zips and running
//! them in QEMU is `scripts/firmware-test.sh`.)

mod common;
use common::{mote, repo, write_wav};
use std::path::{Path, PathBuf};

use mote_exporter::export::build_settings::{BuildSettings, Mode};
use mote_exporter::export::{self, zip, Request};

fn default_model() -> Vec<u8> {
    std::fs::read(repo("firmware-template/mote/model.tflite")).unwrap()
}

fn request<'a>(model: &'a [u8], board: &'a str) -> Request<'a> {
    Request {
        model,
        name: "model",
        sidecar: None,
        board,
        replay: None,
        force: false,
        interpreter: false,
        input: None,
        stamp: zip::Stamp::FIXED,
    }
}

fn files_of(zip_bytes: &[u8]) -> Vec<(String, Vec<u8>)> {
    zip::read(zip_bytes).expect("a zip the exporter can read back")
}

/// The template's `mote/config.rs`, `mote/build.json` and `mote/report.md` are exactly what
/// `mote export` writes for the default model (`MOTE_BLESS=1` rewrites them after an intended
/// change).
#[test]
fn template_generated_files_are_current() {
    let model = default_model();
    let out = export::export(&request(&model, "b-l475e-iot01a"), &mut |_| {}).unwrap();
    let files = files_of(&out.zip);
    for name in ["mote/config.rs", "mote/build.json", "mote/report.md"] {
        let want = &files
            .iter()
            .find(|(n, _)| n == &format!("{}/{name}", out.dir))
            .unwrap()
            .1;
        let path = repo(&format!("firmware-template/{name}"));
        if std::env::var_os("MOTE_BLESS").is_some() {
            std::fs::write(&path, want).unwrap();
        }
        let have = std::fs::read(&path).unwrap();
        assert!(
            &have == want,
            "{} is stale: run `MOTE_BLESS=1 cargo test -p mote-exporter --test export`",
            path.display()
        );
    }
}

#[test]
fn zip_is_deterministic_and_self_contained() {
    let model = default_model();
    let mut steps = Vec::new();
    let a = export::export(&request(&model, "nucleo-l476rg"), &mut |s| steps.push(s)).unwrap();
    let b = export::export(&request(&model, "nucleo-l476rg"), &mut |_| {}).unwrap();
    assert_eq!(a.zip, b.zip, "same inputs, same bytes");
    assert!(steps.len() >= 3, "progress reported: {steps:?}");
    assert_eq!(a.dir, "model-nucleo-l476rg");

    let files = files_of(&a.zip);
    let get = |rel: &str| -> &[u8] {
        &files
            .iter()
            .find(|(n, _)| n == &format!("{}/{rel}", a.dir))
            .unwrap_or_else(|| panic!("{rel} missing"))
            .1
    };
    assert!(files
        .iter()
        .all(|(n, _)| n.starts_with(&format!("{}/", a.dir))));
    // Every engine source, byte for byte, but without its unit tests (they read golden files
    // the zip does not carry): test-only files absent, `#[cfg(test)]` modules stripped.
    let src = repo("engine/src");
    let has = |rel: &str| files.iter().any(|(n, _)| n == &format!("{}/{rel}", a.dir));
    let (mut n, mut stripped) = (0, 0);
    for entry in walk(&src) {
        let rel = entry
            .strip_prefix(&src)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        let path = format!("engine/src/{rel}");
        let bytes = std::fs::read(&entry).unwrap();
        if !rel.ends_with(".rs") {
            assert_eq!(get(&path), &bytes[..], "{rel}");
        } else if has(&path) {
            let text = String::from_utf8(bytes).unwrap();
            let want = export::strip::without_tests(&text);
            assert_eq!(get(&path), want.as_bytes(), "{rel}");
            assert!(!want.contains("mod tests"), "{rel}: a test module left");
            stripped += usize::from(want != text);
        } else {
            // Left out only when its parent module declares it `#[cfg(test)]`.
            let (dir, file) = rel.rsplit_once('/').unwrap_or(("", &rel));
            let stem = file.trim_end_matches(".rs");
            let parents = if dir.is_empty() {
                vec!["lib.rs".to_string()]
            } else {
                vec![format!("{dir}/mod.rs"), format!("{dir}.rs")]
            };
            let declared = parents.iter().any(|p| {
                std::fs::read_to_string(src.join(p)).is_ok_and(|t| {
                    export::strip::test_file_modules(&t)
                        .iter()
                        .any(|m| m == stem)
                })
            });
            assert!(declared, "{rel} missing");
        }
        n += 1;
    }
    assert!(n > 30 && stripped > 20, "{n} sources, {stripped} stripped");
    assert!(!has("engine/src/ops/conv_2d/tests.rs"));
    assert_eq!(get("mote/model.tflite"), &model[..]);
    // No path leaves the project: manifests name only paths inside it.
    let manifest = String::from_utf8(get("Cargo.toml").to_vec()).unwrap();
    assert!(
        manifest.contains(r#"mote-engine = { path = "engine" }"#),
        "{manifest}"
    );
    assert!(
        manifest.contains(r#"default = ["board-nucleo-l476rg", "semihosting", "aot"]"#),
        "{manifest}"
    );
    // Compiled ahead of time by default: the generated model is in the project.
    assert!(String::from_utf8_lossy(get("mote/aot/model.rs")).contains("pub static MODEL"));
    assert!(!get("mote/aot/weights.bin").is_empty());
    assert!(!manifest.contains(".."), "{manifest}");
    let engine = String::from_utf8(get("engine/Cargo.toml").to_vec()).unwrap();
    assert!(
        !engine.contains("workspace") && !engine.contains("dev-dependencies"),
        "{engine}"
    );
    let cargo_cfg = String::from_utf8(get(".cargo/config.toml").to_vec()).unwrap();
    assert!(
        cargo_cfg.contains("probe-rs run --chip STM32L476RGTx"),
        "{cargo_cfg}"
    );
    // Only the model's operators are linked (engine/build.rs reads MOTE_OPS).
    let ops_line = cargo_cfg
        .lines()
        .find(|l| l.starts_with("MOTE_OPS = "))
        .unwrap_or_else(|| panic!("no MOTE_OPS in {cargo_cfg}"));
    assert!(cargo_cfg.contains("\n[env]\n"), "{cargo_cfg}");
    assert!(!ops_line.contains("SOFTMAX,SOFTMAX"), "{ops_line}");
    let config = String::from_utf8(get("mote/config.rs").to_vec()).unwrap();
    assert!(config.starts_with("// @generated"));
    for key in [
        "ARENA_BYTES: usize = 580;",
        "STATE_BYTES: usize = 0;",
        "LABELS",
        "DETECTOR",
        "FRONTEND",
        "MODE: &str = \"mic\"",
    ] {
        assert!(config.contains(key), "{key} in {config}");
    }
    // build.rs reads mote/build.json; config.rs's constants are written from the same struct.
    let build: BuildSettings = serde_json::from_slice(get("mote/build.json")).unwrap();
    assert_eq!((build.mode, build.arena_bytes), (Mode::Mic, 580));
    assert!(config.contains(&build.consts_rs()), "{config}");
    let report = String::from_utf8(get("mote/report.md").to_vec()).unwrap();
    assert!(report.contains("| 1 | FULLY_CONNECTED | 960 |"), "{report}");
    assert!(report.contains("## RAM") && report.contains("## Flash"));
    assert!(
        report.contains("## Latency and energy (STM32L476RG on nucleo-l476rg)")
            && report.contains("at 64 MHz (range 1)")
            && report.contains("| est. instructions |"),
        "{report}"
    );
    let json: serde_json::Value = serde_json::from_slice(get("mote/report.json")).unwrap();
    assert_eq!(json["energy"]["chosen"]["mhz"], 64);
    assert!(json["energy"]["assumptions"].as_array().unwrap().len() >= 4);
    // The size-optimised board gets opt-level "s".
    let l432 = export::export(
        &Request {
            force: true,
            ..request(&model, "nucleo-l432kc")
        },
        &mut |_| {},
    )
    .unwrap();
    let files = files_of(&l432.zip);
    let m = &files
        .iter()
        .find(|(n, _)| n.ends_with("/Cargo.toml") && !n.contains("/engine/"))
        .unwrap()
        .1;
    assert!(String::from_utf8_lossy(m).contains("opt-level = \"s\""));
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p);
        }
    }
    out.sort();
    out
}

/// The conversion the firmware's replay and `mote detect` share: 16 kHz mono passes through
/// untouched; stereo is mixed down (mean, rounded toward −∞) and other rates go through the
/// engine's resampler.
#[test]
fn wav_conversion_passes_16k_through_and_resamples_the_rest() {
    let dir = repo("engine/tests/fixtures/audio");
    for name in [
        "okay_nabu.wav",
        "synth_chirp_noise.wav",
        "speech_weather.wav",
    ] {
        let path = dir.join(name);
        let raw: Vec<i16> = hound::WavReader::open(&path)
            .unwrap()
            .samples::<i16>()
            .map(|s| s.unwrap())
            .collect();
        let ours = export::wav::read_16k(&std::fs::read(&path).unwrap())
            .unwrap()
            .samples;
        assert_eq!(ours, raw, "{name}: 16 kHz mono must pass through unchanged");
    }
    let tmp = tempfile::tempdir().unwrap();
    let w = tmp.path().join("s.wav");
    let (mut stereo, mut mono) = (vec![], vec![]);
    for i in 0..44100i32 {
        let (l, r) = (
            ((i * 37) % 20000 - 10000) as i16,
            ((i * 11) % 9000 - 4500) as i16,
        );
        stereo.extend([l, r]);
        mono.push(((l as i32 + r as i32) >> 1) as i16);
    }
    write_wav(&w, 2, 44100, stereo);
    let ours = export::wav::read_16k(&std::fs::read(&w).unwrap())
        .unwrap()
        .samples;
    let mut want = vec![];
    mote_engine::resample::Resampler::new(44100)
        .unwrap()
        .process(&mono, |x| want.push(x));
    assert_eq!(ours, want);
    assert!(
        (15990..=16000).contains(&ours.len()),
        "{} samples for 1 s",
        ours.len()
    );
}

fn export_cli(args: &[&std::ffi::OsStr]) -> (bool, String) {
    let out = mote().arg("export").args(args).output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Nothing but the final zip may ever appear in the output directory.
fn only(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    v
}

#[test]
fn cli_writes_the_zip_and_shows_progress() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fw.zip");
    let model = repo("firmware-template/mote/model.tflite");
    let wav = repo("engine/tests/fixtures/audio/okay_nabu.wav");
    let (ok, err) = export_cli(&[
        model.as_os_str(),
        "--board".as_ref(),
        "b-l475e-iot01a".as_ref(),
        "--replay".as_ref(),
        wav.as_os_str(),
        "-o".as_ref(),
        out.as_os_str(),
    ]);
    assert!(ok, "{err}");
    for step in [
        "planning the model",
        "converting the replay audio",
        "compressing",
    ] {
        assert!(err.contains(step), "{step} in {err}");
    }
    assert_eq!(only(tmp.path()), ["fw.zip"]);
    let files = files_of(&std::fs::read(&out).unwrap());
    let pcm = &files
        .iter()
        .find(|(n, _)| n.ends_with("mote/replay.pcm"))
        .unwrap()
        .1;
    let samples = mote_exporter::audio::read_16k(&wav).unwrap();
    assert_eq!(pcm.len(), 2 * samples.len());
    let config = &files
        .iter()
        .find(|(n, _)| n.ends_with("mote/config.rs"))
        .unwrap()
        .1;
    assert!(String::from_utf8_lossy(config).contains("MODE: &str = \"replay\""));
}

#[test]
fn bad_input_is_a_clear_error_and_leaves_no_file() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fw.zip");
    let model = repo("firmware-template/mote/model.tflite");
    let o = out.as_os_str();
    let check = |args: &[&std::ffi::OsStr], expect: &[&str]| {
        let (ok, err) = export_cli(args);
        assert!(!ok, "should fail: {args:?}");
        for e in expect {
            assert!(err.contains(e), "expected {e:?} in: {err}");
        }
        assert!(
            only(tmp.path()).is_empty(),
            "left behind: {:?}",
            only(tmp.path())
        );
    };
    let m = model.as_os_str();
    // Unknown board.
    check(
        &[
            m,
            "--board".as_ref(),
            "arduino-uno".as_ref(),
            "-o".as_ref(),
            o,
        ],
        &["unknown board \"arduino-uno\"", "nucleo-l432kc"],
    );
    // Unsupported op.
    let unsupported = repo("exporter/tests/fixtures/unsupported_op.tflite");
    check(
        &[
            unsupported.as_os_str(),
            "--board".as_ref(),
            "b-l475e-iot01a".as_ref(),
            "-o".as_ref(),
            o,
        ],
        &["unsupported operator LEAKY_RELU"],
    );
    // Not a keyword model: it exports in infer mode, but not with audio to replay, nor with
    // an input of the wrong size.
    let conv = repo("engine/tests/golden/ops/conv_3x3_same_s1_relu/model.tflite");
    let wav = repo("engine/tests/fixtures/audio/okay_nabu.wav");
    check(
        &[
            conv.as_os_str(),
            "--board".as_ref(),
            "b-l475e-iot01a".as_ref(),
            "--replay".as_ref(),
            wav.as_os_str(),
            "-o".as_ref(),
            o,
        ],
        &["does not look like a keyword model"],
    );
    check(
        &[
            conv.as_os_str(),
            "--board".as_ref(),
            "b-l475e-iot01a".as_ref(),
            "--input".as_ref(),
            wav.as_os_str(),
            "-o".as_ref(),
            o,
        ],
        &["bad --input", "but one invocation of this model takes"],
    );
    // Does not fit: 20 s of replay audio (640 KB of PCM in flash) on the L432KC's 256 KB.
    let long_dir = tempfile::tempdir().unwrap();
    let long = long_dir.path().join("long.wav");
    write_wav(
        &long,
        1,
        16000,
        (0..16000 * 20).map(|i| ((i % 100) as i16 - 50) * 10),
    );
    let (ok, err) = export_cli(&[
        m,
        "--board".as_ref(),
        "nucleo-l432kc".as_ref(),
        "--replay".as_ref(),
        long.as_os_str(),
        "-o".as_ref(),
        o,
    ]);
    assert!(!ok, "a 20 s replay should not fit the L432KC");
    for e in [
        "does not fit the NUCLEO-L432KC",
        "flash: needs",
        "the board has 262144",
        "--force",
    ] {
        assert!(err.contains(e), "expected {e:?} in: {err}");
    }
    assert!(
        only(tmp.path()).is_empty(),
        "left behind: {:?}",
        only(tmp.path())
    );
    // WAV at a rate outside 8–192 kHz, and a file that is no WAV at all.
    let wav = tmp.path().join("odd.wav");
    write_wav(&wav, 1, 200_000, [0i16; 1000]);
    let wav_dir = tempfile::tempdir().unwrap();
    let odd = wav_dir.path().join("odd.wav");
    std::fs::rename(&wav, &odd).unwrap();
    let args = |w: &Path| -> Vec<std::ffi::OsString> {
        [
            m,
            "--board".as_ref(),
            "b-l475e-iot01a".as_ref(),
            "--replay".as_ref(),
            w.as_os_str(),
            "-o".as_ref(),
            o,
        ]
        .iter()
        .map(|s| s.to_os_string())
        .collect()
    };
    let a = args(&odd);
    check(
        &a.iter().map(|s| s.as_os_str()).collect::<Vec<_>>(),
        &["200000 Hz cannot be converted to 16 kHz"],
    );
    let junk = wav_dir.path().join("junk.wav");
    std::fs::write(&junk, b"RIFF....not really").unwrap();
    let a = args(&junk);
    check(
        &a.iter().map(|s| s.as_os_str()).collect::<Vec<_>>(),
        &["not a readable WAV file"],
    );
    // Unwritable output paths: a missing directory, a directory.
    let missing = tmp.path().join("no/such/dir/fw.zip");
    check(
        &[
            m,
            "--board".as_ref(),
            "b-l475e-iot01a".as_ref(),
            "-o".as_ref(),
            missing.as_os_str(),
        ],
        &["cannot write"],
    );
    let (ok, err) = export_cli(&[
        m,
        "--board".as_ref(),
        "b-l475e-iot01a".as_ref(),
        "-o".as_ref(),
        tmp.path().as_os_str(),
    ]);
    assert!(!ok && err.contains("is a directory"), "{err}");
    // --force exports what does not fit, with a warning.
    let (ok, err) = export_cli(&[
        m,
        "--board".as_ref(),
        "nucleo-l432kc".as_ref(),
        "--replay".as_ref(),
        long.as_os_str(),
        "--force".as_ref(),
        "-o".as_ref(),
        o,
    ]);
    assert!(ok && err.contains("warning (--force)"), "{err}");
    assert_eq!(only(tmp.path()), ["fw.zip"]);
}

/// A keyword-shaped model whose arena alone is 95.0 KB (engine/tests/fixtures/models/
/// too_big.tflite) fits neither the 128 KiB of the L475 in microphone mode nor the L432KC's
/// 64 KiB: refused with the RAM breakdown, and no file is left behind.
#[test]
fn a_model_too_big_for_ram_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let out = tmp.path().join("fw.zip");
    let model = repo("engine/tests/fixtures/models/too_big.tflite");
    for (board, name, ram) in [
        ("b-l475e-iot01a", "B-L475E-IOT01A", "131072"),
        ("nucleo-l432kc", "NUCLEO-L432KC", "65536"),
    ] {
        let (ok, err) = export_cli(&[
            model.as_os_str(),
            "--board".as_ref(),
            board.as_ref(),
            "-o".as_ref(),
            out.as_os_str(),
        ]);
        assert!(!ok, "{board}: a 95.0 KB arena should not fit");
        for e in [
            format!("does not fit the {name}"),
            "RAM: needs".to_string(),
            format!("the board has {ram}"),
            "tensor arena 95004".to_string(),
            "--force".to_string(),
        ] {
            assert!(err.contains(&e), "{board}: expected {e:?} in: {err}");
        }
        assert!(
            only(tmp.path()).is_empty(),
            "left behind: {:?}",
            only(tmp.path())
        );
    }
}

/// A model that is not a keyword model exports as an infer-mode project: zeros (or `--input`)
/// baked in as `mote/input.bin`, `MODE = "infer"`, no audio settings.
#[test]
fn any_model_exports_in_infer_mode() {
    let model = std::fs::read(repo("engine/tests/fixtures/models/mobilenet_025.tflite")).unwrap();
    let input = vec![7u8; 96 * 96];
    let e = export::export(
        &Request {
            input: Some(&input),
            ..request(&model, "b-l475e-iot01a")
        },
        &mut |_| {},
    )
    .unwrap();
    let files = files_of(&e.zip);
    let get = |name: &str| {
        &files
            .iter()
            .find(|(n, _)| n.ends_with(name))
            .unwrap_or_else(|| panic!("{name} missing"))
            .1
    };
    assert_eq!(get("mote/input.bin"), &input);
    let config = String::from_utf8_lossy(get("mote/config.rs")).into_owned();
    assert!(config.contains("MODE: &str = \"infer\""), "{config}");
    assert!(config.contains("INPUT_BYTES: usize = 9216"), "{config}");
    assert!(String::from_utf8_lossy(get("README.md")).contains("infer::Model::infer"));
    // Without --input: zeros of the input's size; same bytes every time.
    let z = export::export(&request(&model, "b-l475e-iot01a"), &mut |_| {}).unwrap();
    let zf = files_of(&z.zip);
    let zin = &zf
        .iter()
        .find(|(n, _)| n.ends_with("mote/input.bin"))
        .unwrap()
        .1;
    assert_eq!(zin, &vec![0u8; 9216]);
    assert_eq!(
        export::export(&request(&model, "b-l475e-iot01a"), &mut |_| {})
            .unwrap()
            .zip,
        z.zip
    );
}

/// `--interpreter` exports report the interpreter's figures: its dispatch overhead in the
/// energy estimate (the AOT estimate was shown before, ~4 % low) and "interpreter" as the engine.
#[test]
fn interpreter_exports_estimate_the_interpreter() {
    let model = default_model();
    let report_of = |interpreter: bool| {
        let req = Request {
            interpreter,
            ..request(&model, "b-l475e-iot01a")
        };
        let out = export::export(&req, &mut |_| {}).unwrap();
        let files = files_of(&out.zip);
        let (_, json) = files
            .iter()
            .find(|(n, _)| n.ends_with("mote/report.json"))
            .expect("report.json in the zip");
        serde_json::from_slice::<serde_json::Value>(json).unwrap()
    };
    let (aot, interp) = (report_of(false), report_of(true));
    assert_eq!(aot["fit"]["engine"], "aot");
    assert_eq!(interp["fit"]["engine"], "interpreter");
    let insns = |j: &serde_json::Value, k: &str| j["energy"]["invoke"][k].as_u64().unwrap();
    assert_eq!(insns(&aot, "overhead"), 0);
    assert!(insns(&interp, "overhead") > 0);
    assert_eq!(
        insns(&interp, "instructions"),
        insns(&aot, "instructions") + insns(&interp, "overhead")
    );
}

/// Info-ZIP `unzip` (what a user runs on the zip), or `None` with a SKIP line outside CI.
fn unzip() -> Option<std::process::Command> {
    let found = std::process::Command::new("unzip")
        .arg("-v")
        .output()
        .is_ok();
    if !found {
        assert_ne!(
            std::env::var("CI").as_deref(),
            Ok("true"),
            "unzip is missing (scripts/setup.sh installs it)"
        );
        eprintln!("SKIP: unzip is missing (scripts/setup.sh installs it)");
        return None;
    }
    Some(std::process::Command::new("unzip"))
}

/// A project unzipped over an earlier export must look newer than that export's build, or
/// cargo keeps the old firmware: the zip's files carry the export's time (they said 1980), and
/// `SOURCE_DATE_EPOCH` pins it for reproducible bytes.
#[test]
fn unzipped_files_are_dated_now_unless_source_date_epoch_says() {
    let Some(mut unzip) = unzip() else { return };
    let tmp = tempfile::tempdir().unwrap();
    let model = repo("firmware-template/mote/model.tflite");
    let export = |out: &Path, epoch: Option<&str>| {
        let mut cmd = mote();
        cmd.arg("export")
            .arg(&model)
            .args(["--board", "nucleo-l432kc", "-o"])
            .arg(out)
            .env_remove("SOURCE_DATE_EPOCH");
        if let Some(e) = epoch {
            cmd.env("SOURCE_DATE_EPOCH", e);
        }
        cmd.output().unwrap()
    };
    let zip = tmp.path().join("fw.zip");
    let before = std::time::SystemTime::now();
    common::assert_ok(&export(&zip, None));
    let dir = tmp.path().join("x");
    let out = unzip
        .arg("-q")
        .arg(&zip)
        .arg("-d")
        .arg(&dir)
        .output()
        .unwrap();
    common::assert_ok(&out);
    let mtime = std::fs::metadata(dir.join("model-nucleo-l432kc/mote/model.tflite"))
        .unwrap()
        .modified()
        .unwrap();
    // Whole seconds: the stamp may be up to 1 s before `before`.
    let since = |t: std::time::SystemTime| t.duration_since(std::time::UNIX_EPOCH).unwrap();
    assert!(
        since(mtime).as_secs() + 1 >= since(before).as_secs()
            && mtime <= std::time::SystemTime::now(),
        "unzipped file dated {mtime:?}, exported at {before:?}"
    );

    // Reproducible: the same epoch, the same bytes; the files say that time.
    let (a, b) = (tmp.path().join("a.zip"), tmp.path().join("b.zip"));
    common::assert_ok(&export(&a, Some("1700000000")));
    common::assert_ok(&export(&b, Some("1700000000")));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    let ut = [0x55, 0x54, 5, 0, 1];
    let bytes = std::fs::read(&a).unwrap();
    let at = bytes.windows(5).position(|w| w == ut).unwrap() + 5;
    assert_eq!(bytes[at..at + 4], 1_700_000_000u32.to_le_bytes());

    // A bad value is refused before anything is written.
    let c = tmp.path().join("c.zip");
    let out = export(&c, Some("yesterday"));
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("SOURCE_DATE_EPOCH"));
    assert!(!c.exists());
}
