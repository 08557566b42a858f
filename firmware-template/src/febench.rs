//! Front-end mode (`MOTE_MODE=fe`; `scripts/frontend-bench.sh`): the cost of each stage of the
//! audio pipeline around the model, measured in isolation on the M4 (QEMU + the m4count
//! plugin), for both front-end presets on the same synthetic audio (a chirp plus noise).
//!
//! Every measured region sits between `cost_start` and `cost_stop`; the `fe_layout` line
//! printed first names the regions in the order they run, so the host script can label the
//! plugin's counts:
//! - per pair of frames ([`PAIRS`] per preset; the last is the steady state): the eight
//!   front-end stages of `Frontend::push_staged` one by one, the feature window's `push`, then
//!   the next frame's whole `Frontend::push` in one region and the window's `push` again;
//! - once per preset, after the frames: copying the feature window into the model's input, the
//!   detector's `push` (after [`DETECTOR_WARMUP`] pushes), formatting one invocation's JSON
//!   line and sending it.
//!
//! Each frame's features are folded into a checksum printed at the end (`fe_done`), so the
//! compiler cannot drop the work and a host can compare it.

use mote_engine::detector::{Detector, DetectorConfig, FeatureWindow, MICRO_SPEECH_LABELS};
use mote_engine::frontend::{Frontend, FrontendConfig, Stage};
use mote_engine::pipeline::{write_json_line, Output};

use crate::log::{self, Buf};
use crate::{cost_start, cost_stop, say, Fail};

/// Pairs of frames measured per preset (one staged, one whole).
pub const PAIRS: usize = 3;
/// Detector pushes before the measured one.
const DETECTOR_WARMUP: u32 = 8;
/// Samples of synthetic audio: enough for every frame of both presets.
const AUDIO: usize = 480 + 2 * PAIRS * 320;

/// The stage names, in `Stage` order (8 regions per frame).
const STAGES: [&str; 8] = [
    "window",
    "fft",
    "energy",
    "filterbank",
    "noise",
    "pcan",
    "log",
    "int8",
];

/// Runs the measurement.
pub fn run() -> Result<(), Fail> {
    // Layout first: "<preset>/<region>" names, in order, for each preset.
    let mut names: Buf<1024> = Buf::new();
    {
        use core::fmt::Write as _;
        let _ = write!(
            names,
            "{{\"event\":\"fe_layout\",\"frames\":{PAIRS},\"per_frame\":["
        );
        for s in STAGES {
            let _ = write!(names, "\"{s}\",");
        }
        let _ = write!(
            names,
            "\"window_push\",\"frontend\",\"window_push\"],\"per_preset\":[\"window_copy\",\"detector\",\"log_format\",\"log_write\"],\"presets\":[\"micro_speech\",\"micro_wakeword\"]}}\n"
        );
    }
    log::write_all(names.bytes());

    let audio =
        cortex_m::singleton!(: [i16; AUDIO] = [0; AUDIO]).ok_or(Fail::Msg("audio taken"))?;
    synth(audio);
    let fe =
        cortex_m::singleton!(: Frontend = Frontend::EMPTY).ok_or(Fail::Msg("frontend taken"))?;
    let window = cortex_m::singleton!(: FeatureWindow = FeatureWindow::EMPTY)
        .ok_or(Fail::Msg("window taken"))?;
    let detector =
        cortex_m::singleton!(: Detector = Detector::EMPTY).ok_or(Fail::Msg("detector taken"))?;
    let input =
        cortex_m::singleton!(: [u8; 49 * 40] = [0; 49 * 40]).ok_or(Fail::Msg("input taken"))?;
    let mut checksum = 0u32;

    for preset in [
        FrontendConfig::micro_speech(),
        FrontendConfig::micro_wakeword(),
    ] {
        fe.init(&preset)?;
        let speech = preset.step_ms == 20;
        let (frames, stride) = if speech { (49, 5) } else { (3, 3) };
        window.init(40, frames, stride)?;
        let det = if speech {
            DetectorConfig::commands(&MICRO_SPEECH_LABELS, 200, 3, 1, 1000)?
        } else {
            DetectorConfig::micro_wakeword(0.97, 5)?
        };
        detector.init(det)?;
        let (len, step) = (preset.window_samples(), preset.step_samples());
        // The first window minus one step, then one step (one frame) per measured push.
        fe.push(audio.get(..len - step).unwrap_or(&[]), |_| {});
        for pair in 0..PAIRS {
            let mut int8 = [0i8; 40];
            // Even frame: a region per stage (the first also takes the samples in; the last
            // ends after `Stage::Int8`). Odd frame: the whole `push` in one region.
            for half in 0..2 {
                let at = len - step + (2 * pair + half) * step;
                let samples = audio
                    .get(at..at + step)
                    .ok_or(Fail::Msg("audio too short"))?;
                let mut on_frame = |frame: mote_engine::frontend::Frame<'_>| {
                    checksum = fold(checksum, frame.features, frame.int8);
                    for (d, &s) in int8.iter_mut().zip(frame.int8) {
                        *d = s;
                    }
                };
                cost_start();
                let frames = if half == 0 {
                    fe.push_staged(
                        core::hint::black_box(samples),
                        |s: Stage| {
                            cost_stop();
                            if s != Stage::Int8 {
                                cost_start();
                            }
                        },
                        &mut on_frame,
                    )
                } else {
                    let n = fe.push(core::hint::black_box(samples), &mut on_frame);
                    cost_stop();
                    n
                };
                if frames != 1 {
                    return Err(Fail::Msg("a step did not give one frame"));
                }
                cost_start();
                let due = window.push(core::hint::black_box(&int8));
                cost_stop();
                due?;
            }
        }
        let dst = input
            .get_mut(..window.window_bytes())
            .ok_or(Fail::Msg("window larger than the input buffer"))?;
        cost_start();
        let r = window.copy_window(core::hint::black_box(dst));
        cost_stop();
        r?;
        checksum = dst.iter().fold(checksum, |h, &b| mix(h, u32::from(b)));

        // Scores that rise and fall, so the detector's averaging does real work.
        let mut scores = [0u8; 4];
        let n_scores = if speech { 4 } else { 1 };
        let mut event = false;
        for k in 0..=DETECTOR_WARMUP {
            for (i, s) in scores.iter_mut().enumerate().take(n_scores) {
                *s = ((k * 37 + i as u32 * 61) % 256) as u8;
            }
            let measured = k == DETECTOR_WARMUP;
            if measured {
                cost_start();
            }
            let ev = detector.push(k * 100, core::hint::black_box(&scores[..n_scores]));
            if measured {
                cost_stop();
            }
            event |= ev.is_some();
        }
        checksum = mix(checksum, u32::from(event));

        let out = Output::Invocation {
            t_ms: 12_340,
            scores: &scores[..n_scores],
            top: 2 % n_scores as u8,
            output: det.output,
        };
        let labels: &[&str] = if speech { &MICRO_SPEECH_LABELS } else { &[] };
        let mut text: Buf<256> = Buf::new();
        cost_start();
        let r = write_json_line(&mut text, core::hint::black_box(&out), labels);
        cost_stop();
        r.map_err(|_| Fail::Msg("log line too long"))?;
        cost_start();
        log::write_all(core::hint::black_box(text.bytes()));
        cost_stop();
    }
    say!("{{\"event\":\"fe_done\",\"checksum\":{checksum}}}");
    Ok(())
}

/// Deterministic test audio: a 200 Hz → 4 kHz chirp at −12 dBFS plus white noise (LCG) at
/// about −30 dBFS, so every filterbank channel and the noise estimate see signal.
fn synth(out: &mut [i16]) {
    let mut seed = 0x1234_5678u32;
    let mut phase = 0u32; // Q32 fraction of a cycle
    let n = out.len() as u32;
    for (i, s) in out.iter_mut().enumerate() {
        // Frequency rises linearly: f = 200 + 3800·i/n Hz; phase step f / 16000 in Q32.
        let f = 200 + 3800 * i as u32 / n;
        phase = phase.wrapping_add(f.wrapping_mul(268_435)); // 2^32 / 16000 ≈ 268435.456
                                                             // A triangle wave (no float, no table): peak 8192.
        let p = (phase >> 16) as i32; // 0..65536
        let tri = if p < 32768 { p - 16384 } else { 49152 - p } / 2;
        seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
        let noise = ((seed >> 16) as i32 - 32768) >> 5;
        *s = (tri + noise) as i16;
    }
}

fn mix(h: u32, v: u32) -> u32 {
    (h ^ v).wrapping_mul(0x0100_0193)
}

fn fold(mut h: u32, features: &[u16], int8: &[i8]) -> u32 {
    for &f in features {
        h = mix(h, u32::from(f));
    }
    for &q in int8 {
        h = mix(h, q as u8 as u32);
    }
    h
}
