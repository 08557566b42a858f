//! The `mote` binary at the edges (issue 12): hostile or unusual paths, sizes, WAV headers and
//! settings. Each test names the defect it pins down; each failed before its fix.
//!
//! `MOTE_BIN=/path/to/mote` runs them against another build (e.g. an older one).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

mod common;
use common::{mote, pip_model, repo};

fn edge_model(name: &str) -> PathBuf {
    repo("exporter/tests/fixtures/edges").join(name)
}

fn audio(name: &str) -> PathBuf {
    repo("engine/tests/fixtures/audio").join(name)
}

fn run(cmd: &mut Command) -> (Option<i32>, String, String) {
    let o: Output = cmd.output().unwrap();
    (
        o.status.code(),
        String::from_utf8_lossy(&o.stdout).into_owned(),
        String::from_utf8_lossy(&o.stderr).into_owned(),
    )
}

/// A WAV header (PCM 16 = format 1, float 32 = format 3) declaring `data_len` bytes.
fn wav_header(format: u16, channels: u16, rate: u32, data_len: u32) -> Vec<u8> {
    let bits: u16 = if format == 3 { 32 } else { 16 };
    let block = channels * bits / 8;
    let mut v = b"RIFF".to_vec();
    v.extend_from_slice(&data_len.wrapping_add(36).to_le_bytes());
    v.extend_from_slice(b"WAVEfmt ");
    v.extend_from_slice(&16u32.to_le_bytes());
    v.extend_from_slice(&format.to_le_bytes());
    v.extend_from_slice(&channels.to_le_bytes());
    v.extend_from_slice(&rate.to_le_bytes());
    v.extend_from_slice(&(rate * u32::from(block)).to_le_bytes());
    v.extend_from_slice(&block.to_le_bytes());
    v.extend_from_slice(&bits.to_le_bytes());
    v.extend_from_slice(b"data");
    v.extend_from_slice(&data_len.to_le_bytes());
    v
}

fn pcm_wav(rate: u32, samples: &[i16], declared: Option<u32>) -> Vec<u8> {
    let data: Vec<u8> = samples.iter().flat_map(|s| s.to_le_bytes()).collect();
    let mut v = wav_header(1, 1, rate, declared.unwrap_or(data.len() as u32));
    v.extend_from_slice(&data);
    v
}

/// A speech-like test signal: a few tones with an envelope, `secs` seconds at `rate`.
fn tones(rate: u32, secs: f64) -> Vec<i16> {
    let n = (f64::from(rate) * secs) as usize;
    (0..n)
        .map(|i| {
            let t = i as f64 / f64::from(rate);
            let env = 0.5 + 0.5 * (2.0 * std::f64::consts::PI * 3.0 * t).sin();
            let x = (2.0 * std::f64::consts::PI * 440.0 * t).sin()
                + 0.5 * (2.0 * std::f64::consts::PI * 1800.0 * t).sin();
            (8000.0 * env * x) as i16
        })
        .collect()
}

fn features(wav: &Path, out: &Path) -> (Option<i32>, String) {
    let (code, _, err) = run(mote()
        .arg("features")
        .arg(wav)
        .args(["--preset", "micro-speech", "--output"])
        .arg(out));
    (code, err)
}

fn mkfifo(p: &Path) -> bool {
    Command::new("mkfifo")
        .arg(p)
        .status()
        .is_ok_and(|s| s.success())
}

fn is_fifo(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    fs::symlink_metadata(p).is_ok_and(|m| m.file_type().is_fifo())
}

/// Bug 1: `-o FIFO` / `-o symlink` were replaced by a regular file (and, as root, `-o /dev/null`
/// replaced /dev/null). Every writing command now refuses a destination that is not a regular
/// file, and leaves it as it was.
#[test]
fn outputs_refuse_destinations_that_are_not_regular_files() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("fifo");
    if !mkfifo(&fifo) {
        eprintln!("SKIP: mkfifo is not available");
        return;
    }
    let target = tmp.path().join("target.bin");
    fs::write(&target, b"keep").unwrap();
    let link = tmp.path().join("link");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let input = tmp.path().join("in.bin");
    fs::write(&input, [0u8; 16]).unwrap();
    let fc = repo("engine/tests/golden/ops/fc_rank2_bias/model.tflite");
    for dest in [&fifo, &link] {
        let cmds: Vec<Command> = vec![
            {
                let mut c = mote();
                c.arg("infer")
                    .arg(&fc)
                    .arg("--input")
                    .arg(&input)
                    .arg("--output")
                    .arg(dest);
                c
            },
            {
                let mut c = mote();
                c.arg("features")
                    .arg(audio("speech_weather.wav"))
                    .args(["--preset", "micro-speech", "--output"])
                    .arg(dest);
                c
            },
            {
                let mut c = mote();
                c.arg("export")
                    .arg(repo("firmware-template/mote/model.tflite"))
                    .args(["--board", "nucleo-l432kc", "-o"])
                    .arg(dest);
                c
            },
        ];
        for mut c in cmds {
            let (code, _, err) = run(c.stdin(Stdio::null()));
            assert_eq!(code, Some(1), "{dest:?}: {err}");
            assert!(err.contains("not a regular file"), "{dest:?}: {err}");
        }
    }
    assert!(is_fifo(&fifo), "the FIFO was replaced");
    assert!(fs::symlink_metadata(&link)
        .unwrap()
        .file_type()
        .is_symlink());
    assert_eq!(fs::read(&target).unwrap(), b"keep");
    // Nothing else appeared (no temporary files left behind).
    assert_eq!(fs::read_dir(tmp.path()).unwrap().count(), 4);
}

/// Bug 2: huge `--invocations` panicked (capacity overflow) and a huge `--warmup` wrapped the
/// sum. Both are refused with a message naming the flag.
#[test]
fn bench_refuses_counts_it_cannot_run() {
    let fc = repo("engine/tests/golden/ops/fc_rank2_bias/model.tflite");
    let max = u64::MAX.to_string();
    for (args, flag) in [
        (vec!["--invocations", max.as_str()], "--invocations"),
        (
            vec!["--warmup", max.as_str(), "--invocations", "1"],
            "--warmup",
        ),
    ] {
        let (code, _, err) = run(mote().arg("bench").arg(&fc).args(&args));
        assert_eq!(code, Some(1), "{args:?}: {err}");
        assert!(err.contains(flag) && !err.contains("panicked"), "{err}");
    }
}

/// Bug 3: `bench --input` accepted any size (an empty file benchmarked zeros) and
/// `--invocations 0` silently became 1.
#[test]
fn bench_checks_its_input_like_infer() {
    let fc = repo("engine/tests/golden/ops/fc_rank2_bias/model.tflite");
    let tmp = tempfile::tempdir().unwrap();
    let (empty, odd, good) = (
        tmp.path().join("empty.bin"),
        tmp.path().join("odd.bin"),
        tmp.path().join("good.bin"),
    );
    fs::write(&empty, []).unwrap();
    fs::write(&odd, [1u8; 17]).unwrap();
    fs::write(&good, [1u8; 32]).unwrap();
    for (input, expect) in [
        (&empty, "empty"),
        (&odd, "not a whole number of invocations"),
    ] {
        let (code, _, err) = run(mote()
            .arg("bench")
            .arg(&fc)
            .args(["--invocations", "2", "--input"])
            .arg(input));
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains(expect), "{err}");
    }
    let (code, _, err) = run(mote().arg("bench").arg(&fc).args(["--invocations", "0"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--invocations 0"), "{err}");
    let (code, out, err) = run(mote()
        .arg("bench")
        .arg(&fc)
        .args(["--invocations", "3", "--warmup", "1", "--json", "--input"])
        .arg(&good));
    assert_eq!(code, Some(0), "{err}");
    assert!(out.contains("\"invocations\": 3"), "{out}");
}

/// Bug 4a: a label count different from the model's outputs said "tensor -1 takes exactly 2
/// bytes, 4 were given" (export: "bad sidecar JSON" for valid JSON). The message now names the
/// flag or sidecar field and both counts.
#[test]
fn label_count_errors_name_the_field_and_the_counts() {
    let three = edge_model("fc_1960_3class.tflite");
    let (code, _, err) = run(mote()
        .arg("detect")
        .arg(&three)
        .arg(audio("speech_weather.wav"))
        .args(["--labels", "a,b"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("--labels has 2 names but the model outputs 3 scores"),
        "{err}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let side = tmp.path().join("side.json");
    fs::write(&side, r#"{"labels": ["a", "b", "c", "d"]}"#).unwrap();
    let (code, _, err) = run(mote()
        .arg("export")
        .arg(&three)
        .arg("--json-sidecar")
        .arg(&side)
        .args(["--board", "nucleo-l476rg", "-o"])
        .arg(tmp.path().join("fw.zip")));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("the sidecar field `labels` has 4 names but the model outputs 3 scores"),
        "{err}"
    );
    assert!(!err.contains("bad sidecar JSON"), "{err}");
}

/// Bug 4b: a 49x40-input model with 1 or 3 outputs could not be used without a sidecar (4
/// labels were assumed). Its classes are now `class0..classN-1`, in `detect` and `export`.
#[test]
fn n_class_micro_speech_shaped_models_get_default_labels() {
    for (name, n) in [("fc_1960_1class.tflite", 1), ("fc_1960_3class.tflite", 3)] {
        let (code, out, err) = run(mote()
            .arg("detect")
            .arg(edge_model(name))
            .arg(audio("speech_weather.wav"))
            .arg("--json"));
        assert_eq!(code, Some(0), "{name}: {err}");
        let first: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(first["scores"].as_array().unwrap().len(), n, "{out}");
        assert!(
            first["label"].as_str().unwrap().starts_with("class"),
            "{out}"
        );
    }
    let tmp = tempfile::tempdir().unwrap();
    let zip = tmp.path().join("fw.zip");
    let (code, out, err) = run(mote()
        .arg("export")
        .arg(edge_model("fc_1960_1class.tflite"))
        .args(["--board", "nucleo-l476rg", "--json", "-o"])
        .arg(&zip));
    assert_eq!(code, Some(0), "{err}");
    assert!(zip.exists(), "{out}");
}

/// Bug 5: WAVs whose header overstates the data (a truncated recording; ffmpeg on a pipe,
/// size 0xFFFFFFFF) were refused. What is present is read, with a warning.
#[test]
fn wavs_with_overstated_sizes_are_read_with_a_warning() {
    let tmp = tempfile::tempdir().unwrap();
    let s = tones(16_000, 1.0);
    let clean = tmp.path().join("clean.wav");
    fs::write(&clean, pcm_wav(16_000, &s, None)).unwrap();
    let want = tmp.path().join("want.f");
    let (code, err) = features(&clean, &want);
    assert_eq!(code, Some(0), "{err}");
    assert!(!err.contains("warning"), "{err}");
    for (name, declared) in [("truncated", 10 * s.len() as u32), ("pipe", 0xFFFF_FFFF)] {
        let wav = tmp.path().join(format!("{name}.wav"));
        fs::write(&wav, pcm_wav(16_000, &s, Some(declared))).unwrap();
        let out = tmp.path().join(format!("{name}.f"));
        let (code, err) = features(&wav, &out);
        assert_eq!(code, Some(0), "{name}: {err}");
        assert!(err.contains("warning"), "{name}: {err}");
        assert_eq!(fs::read(&out).unwrap(), fs::read(&want).unwrap(), "{name}");
    }
}

/// Bug 6: 11 025 and 12 000 Hz WAVs failed although the help said "any 8–48 kHz WAV". Any
/// rate from 8 to 192 kHz is converted now; the conversion itself is tested against a direct
/// evaluation of its filter in `mote_exporter::resample`.
#[test]
fn wavs_at_any_rate_from_8_to_192_khz_are_converted() {
    let tmp = tempfile::tempdir().unwrap();
    for rate in [11_025u32, 12_000, 37_800, 192_000] {
        let wav = tmp.path().join(format!("r{rate}.wav"));
        fs::write(&wav, pcm_wav(rate, &tones(rate, 1.0), None)).unwrap();
        let out = tmp.path().join(format!("r{rate}.f"));
        let (code, err) = features(&wav, &out);
        assert_eq!(code, Some(0), "{rate} Hz: {err}");
        // 1 s at a 20 ms step: 49 frames of 40 uint16 values.
        assert_eq!(fs::read(&out).unwrap().len(), 49 * 80, "{rate} Hz");
    }
    for rate in [7_999u32, 192_001] {
        let wav = tmp.path().join(format!("r{rate}.wav"));
        fs::write(&wav, pcm_wav(rate, &[0; 100], None)).unwrap();
        let (code, err) = features(&wav, &tmp.path().join("x.f"));
        assert_eq!(code, Some(1));
        assert!(
            err.contains(&format!("{rate} Hz cannot be converted")),
            "{err}"
        );
    }
}

/// Bug 7: inputs were read whole before any check (`/dev/zero` until memory ran out). Headers
/// are checked first and sizes capped.
#[test]
fn inputs_are_checked_before_they_are_read_and_capped() {
    if !Path::new("/dev/zero").exists() {
        return;
    }
    let (code, _, err) = run(mote().args(["inspect", "/dev/zero"]));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("not a TensorFlow Lite model"), "{err}");
    let kws = edge_model("fc_1960_1class.tflite");
    let (code, _, err) = run(mote().arg("detect").arg(&kws).arg("/dev/zero"));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("RIFF"), "{err}");
    // A model-looking file over the 16 MiB cap.
    let tmp = tempfile::tempdir().unwrap();
    let big = tmp.path().join("big.tflite");
    let mut f = fs::File::create(&big).unwrap();
    f.write_all(b"\x1c\x00\x00\x00TFL3").unwrap();
    f.set_len(17 << 20).unwrap();
    let (code, _, err) = run(mote().arg("inspect").arg(&big));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("16 MiB limit"), "{err}");
}

/// Peak resident memory of a running process, in KiB (Linux).
fn vm_hwm_kib(pid: u32) -> Option<u64> {
    let status = fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Bug 8: `detect`/`features` held the whole WAV in memory. Five minutes of 16 kHz stereo float
/// (38 MB) through a FIFO: the process's peak memory stays far below the file's size.
#[test]
fn features_stream_the_wav() {
    let tmp = tempfile::tempdir().unwrap();
    let fifo = tmp.path().join("long.wav");
    if !mkfifo(&fifo) || vm_hwm_kib(std::process::id()).is_none() {
        eprintln!("SKIP: needs mkfifo and /proc");
        return;
    }
    let secs = 300u32;
    let frames = 16_000 * secs;
    let out = tmp.path().join("long.f");
    let child = mote()
        .arg("features")
        .arg(&fifo)
        .args(["--preset", "micro-wakeword", "--output"])
        .arg(&out)
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut w = std::io::BufWriter::new(fs::OpenOptions::new().write(true).open(&fifo).unwrap());
    w.write_all(&wav_header(3, 2, 16_000, frames * 8)).unwrap();
    let mut block = Vec::with_capacity(8 * 16_000);
    for s in 0..secs {
        block.clear();
        for i in 0..16_000u32 {
            let x = (((s * 16_000 + i) % 97) as f32 / 97.0 - 0.5) * 0.2;
            block.extend_from_slice(&x.to_le_bytes());
            block.extend_from_slice(&(-x).to_le_bytes());
        }
        w.write_all(&block).unwrap();
    }
    w.flush().unwrap();
    // All bytes are in the pipe or consumed; the process is still running (it is waiting for
    // the end of the file), so its peak memory so far covers the whole file.
    std::thread::sleep(std::time::Duration::from_millis(300));
    let peak = vm_hwm_kib(child.id());
    drop(w);
    let st = child.wait_with_output().unwrap();
    common::assert_ok(&st);
    assert_eq!(
        fs::metadata(&out).unwrap().len(),
        80 * (100 * u64::from(secs) - 2)
    );
    let peak = peak.unwrap_or(0);
    assert!(peak < 30 * 1024, "peak memory {peak} KiB for a 38 MB WAV");
}

/// Bug 9: `infer --invocations 9411604119239568` printed a wrapped byte count (a debug build
/// panicked).
#[test]
fn infer_counts_bytes_without_overflow() {
    let tmp = tempfile::tempdir().unwrap();
    let input = tmp.path().join("in.bin");
    // One invocation of a 1960-byte input: n · 1960 exceeds 2^64.
    fs::write(&input, [0u8; 1960]).unwrap();
    let n: u64 = 9_411_604_119_239_568;
    let (code, _, err) = run(mote()
        .arg("infer")
        .arg(edge_model("fc_1960_1class.tflite"))
        .arg("--input")
        .arg(&input)
        .arg("--output")
        .arg(tmp.path().join("out.bin"))
        .args(["--invocations", &n.to_string()]));
    assert_eq!(code, Some(1), "{err}");
    let need = u128::from(n) * 1960;
    assert!(err.contains(&format!("need {need} input bytes")), "{err}");
    assert!(!tmp.path().join("out.bin").exists());
}

/// Bug 10: `infer` with an empty input succeeded silently; `features` of an empty WAV left an
/// empty file. Failures leave no output (the full-disk case is tested through the writer in
/// `files::tests`).
#[test]
fn failures_leave_no_output() {
    let tmp = tempfile::tempdir().unwrap();
    let empty = tmp.path().join("empty.bin");
    fs::write(&empty, []).unwrap();
    let out = tmp.path().join("out.bin");
    let (code, _, err) = run(mote()
        .arg("infer")
        .arg(repo("engine/tests/golden/ops/fc_rank2_bias/model.tflite"))
        .arg("--input")
        .arg(&empty)
        .arg("--output")
        .arg(&out));
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("empty"), "{err}");
    let wav = tmp.path().join("empty.wav");
    fs::write(&wav, pcm_wav(16_000, &[], None)).unwrap();
    let (code, err) = features(&wav, &out);
    assert_eq!(code, Some(1), "{err}");
    let left: Vec<_> = fs::read_dir(tmp.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert_eq!(left.len(), 2, "{left:?}");
}

/// Bug 11: `inspect` showed a custom op as "operator code 0", called a valid sparse model
/// "malformed", stopped at the first unsupported op, and did not name the tensor whose shape
/// is bad.
#[test]
fn inspect_explains_unsupported_models() {
    for (name, expect) in [
        (
            "custom_op.tflite",
            "unsupported operator \"MyCustomOp\" (custom, 1 use)",
        ),
        ("sparse.tflite", "sparse tensors are not supported"),
        (
            "unsupported_ops.tflite",
            "unsupported operators LEAKY_RELU v1 (1 use), ABS v2 (1 use)",
        ),
        ("bad_shape.tflite", "tensor 7: negative dimension"),
    ] {
        let (code, _, err) = run(mote().arg("inspect").arg(edge_model(name)));
        assert_eq!(code, Some(1), "{name}: {err}");
        assert!(err.contains(expect), "{name}: {err}");
    }
    // `export` explains a model it cannot run the same way.
    let tmp = tempfile::tempdir().unwrap();
    let (code, _, err) = run(mote()
        .arg("export")
        .arg(edge_model("unsupported_ops.tflite"))
        .args(["--board", "nucleo-l476rg", "-o"])
        .arg(tmp.path().join("fw.zip")));
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("LEAKY_RELU v1 (1 use), ABS v2 (1 use)"),
        "{err}"
    );
}

/// Bug 12: `[]` was accepted as a sidecar, a UTF-8 BOM refused, `--cutoff NaN`, negative
/// cutoffs and `--window 0` accepted, `feature_step_size: 0` reported without its field; NaN
/// float samples passed silently.
#[test]
fn settings_are_validated_and_name_their_field() {
    let Some(model) = pip_model("okay_nabu.tflite") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let wav = audio("okay_nabu.wav");
    let detect = |extra: &[&str], side: Option<&str>| {
        let mut c = mote();
        c.arg("detect").arg(&model).arg(&wav).args(extra);
        if let Some(text) = side {
            let p = tmp.path().join("side.json");
            fs::write(&p, text).unwrap();
            c.arg("--sidecar").arg(p);
        }
        run(&mut c)
    };
    for (extra, side, expect) in [
        (vec![], Some("[]"), "an array"),
        (vec!["--cutoff", "NaN"], None, "--cutoff is NaN"),
        (vec!["--cutoff=-0.5"], None, "--cutoff is -0.5"),
        (vec!["--window", "0"], None, "--window is 0"),
        (
            vec![],
            Some(r#"{"micro": {"feature_step_size": 0}}"#),
            "micro.feature_step_size is 0",
        ),
        (
            vec![],
            Some(r#"{"micro": {"probability_cutoff": 1.5}}"#),
            "micro.probability_cutoff is 1.5",
        ),
    ] {
        let (code, _, err) = detect(&extra, side);
        assert_eq!(code, Some(1), "{extra:?} {side:?}: {err}");
        assert!(err.contains(expect), "{extra:?} {side:?}: {err}");
    }
    let (code, _, err) = detect(
        &[],
        Some("\u{feff}{\"micro\": {\"probability_cutoff\": 0.9}}"),
    );
    assert_eq!(code, Some(0), "BOM: {err}");
    // NaN and infinite float samples: clamped, with a warning.
    let mut f = wav_header(3, 1, 16_000, 4 * 16_000);
    for i in 0..16_000 {
        let x = match i % 1000 {
            0 => f32::NAN,
            1 => f32::INFINITY,
            _ => 0.01,
        };
        f.extend_from_slice(&x.to_le_bytes());
    }
    let nan = tmp.path().join("nan.wav");
    fs::write(&nan, f).unwrap();
    let (code, err) = features(&nan, &tmp.path().join("nan.f"));
    assert_eq!(code, Some(0), "{err}");
    assert!(
        err.contains("32 float samples are NaN or infinite"),
        "{err}"
    );
}

/// Bug 10 on a real full disk: a 64 KiB tmpfs, mounted in a private user and mount namespace
/// (`unshare -rm`, nothing changes outside this test). `infer` and `features` whose outputs do
/// not fit fail and leave nothing on it (before: a truncated and an empty file).
#[test]
fn a_full_disk_leaves_no_partial_output() {
    let probe = Command::new("unshare")
        .args(["-rm", "sh", "-c", "mount -t tmpfs -o size=64k tmpfs /mnt"])
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("SKIP: cannot mount a tmpfs in a user namespace (unshare -rm)");
        return;
    }
    let tmp = tempfile::tempdir().unwrap();
    let disk = tmp.path().join("disk");
    fs::create_dir(&disk).unwrap();
    // 20 000 invocations of an 8-byte output: 160 KB.
    let input = tmp.path().join("in.bin");
    fs::write(&input, vec![3u8; 16 * 20_000]).unwrap();
    // 20 s at a 10 ms step: about 160 KB of uint16 features.
    let wav = tmp.path().join("long.wav");
    fs::write(&wav, pcm_wav(16_000, &tones(16_000, 20.0), None)).unwrap();
    let bin = std::env::var_os("MOTE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_mote")));
    let script = r#"
        mount -t tmpfs -o size=64k tmpfs "$DISK" || exit 99
        "$MOTE" infer "$FC" --input "$IN" --output "$DISK/out.bin" 2>&1; echo "infer rc=$?"
        "$MOTE" features "$WAV" --preset micro-wakeword --output "$DISK/f.bin" 2>&1; echo "features rc=$?"
        echo "left:"; ls -A "$DISK"
    "#;
    let o = Command::new("unshare")
        .args(["-rm", "sh", "-c", script])
        .env("DISK", &disk)
        .env("MOTE", &bin)
        .env(
            "FC",
            repo("engine/tests/golden/ops/fc_rank2_bias/model.tflite"),
        )
        .env("IN", &input)
        .env("WAV", &wav)
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("infer rc=1"), "{text}");
    assert!(text.contains("features rc=1"), "{text}");
    assert!(text.contains("No space left"), "{text}");
    let left = text.split("left:").nth(1).unwrap_or("?").trim();
    assert!(left.is_empty(), "left on the full disk: {left}\n{text}");
}
