//! Detector behaviour on hand-made feature and score sequences.

use mote_engine::detector::{
    command_threshold, defaults_for_input_shape, is_keyword_label, wake_word_min_sum, Detector,
    DetectorConfig, Event, FeatureWindow, Mode, OutputType, Preset, PresetKind,
    MICRO_SPEECH_LABELS,
};
use mote_engine::Error;

// ---------------------------------------------------------------- FeatureWindow

#[test]
fn window_is_oldest_first_and_slides() {
    let mut w = FeatureWindow::new(2, 3, 1).unwrap();
    let mut dst = [0u8; 6];
    assert!(!w.push(&[1, -1]).unwrap());
    // Not yet full: the missing oldest frames read as 0.
    w.copy_window(&mut dst).unwrap();
    assert_eq!(dst, [0, 0, 0, 0, 1, 0xff]);
    assert!(!w.push(&[2, -2]).unwrap());
    assert!(w.push(&[3, -3]).unwrap());
    w.copy_window(&mut dst).unwrap();
    assert_eq!(dst, [1, 0xff, 2, 0xfe, 3, 0xfd]);
    assert!(w.push(&[4, -4]).unwrap());
    w.copy_window(&mut dst).unwrap();
    assert_eq!(dst, [2, 0xfe, 3, 0xfd, 4, 0xfc]);
    assert!(w.is_due());
    assert_eq!(w.frames_pushed(), 4);
    w.reset();
    assert!(!w.is_due());
    w.copy_window(&mut dst).unwrap();
    assert_eq!(dst, [0; 6]);
}

#[test]
fn micro_speech_schedule_one_second_clip_is_one_invocation() {
    let p = Preset::MICRO_SPEECH;
    let mut w = p.feature_window().unwrap();
    assert_eq!(w.window_bytes(), 1960);
    let frame = |k: usize| -> [i8; 40] { core::array::from_fn(|i| (k * 40 + i) as i8) };
    let mut due = Vec::new();
    for k in 0..49 {
        if w.push(&frame(k)).unwrap() {
            due.push(k);
        }
    }
    // yes_1000ms.wav gives 49 frames: exactly one invocation, on the first 49 frames in order.
    assert_eq!(due, [48]);
    let mut input = [0u8; 1960];
    w.copy_window(&mut input).unwrap();
    let want: Vec<u8> = (0..49).flat_map(frame).map(|v| v as u8).collect();
    assert_eq!(&input[..], &want[..]);
    // Then every 5 frames.
    for k in 49..70 {
        if w.push(&frame(k)).unwrap() {
            due.push(k);
        }
    }
    assert_eq!(due, [48, 53, 58, 63, 68]);
    w.copy_window(&mut input).unwrap();
    // (The window now ends at the last frame pushed, 69.)
    let want: Vec<u8> = (21..70).flat_map(frame).map(|v| v as u8).collect();
    assert_eq!(&input[..], &want[..]);
}

#[test]
fn micro_wakeword_schedule_sees_each_frame_once() {
    let p = Preset::micro_wakeword(3);
    let mut w = p.feature_window().unwrap();
    let mut windows = Vec::new();
    for k in 0..10i8 {
        if w.push(&[k; 40]).unwrap() {
            let mut dst = [0u8; 120];
            w.copy_window(&mut dst).unwrap();
            windows.push([dst[0], dst[40], dst[80]]);
        }
    }
    assert_eq!(windows, [[0, 1, 2], [3, 4, 5], [6, 7, 8]]);
}

#[test]
fn window_rejects_bad_sizes() {
    let mut w = FeatureWindow::new(40, 49, 5).unwrap();
    assert_eq!(
        w.push(&[0; 39]),
        Err(Error::WrongBufferSize {
            tensor: -1,
            expected: 40,
            got: 39
        })
    );
    assert!(w.copy_window(&mut [0u8; 1959]).is_err());
    assert!(matches!(
        FeatureWindow::new(65, 3, 3),
        Err(Error::LimitExceeded { .. })
    ));
    assert!(matches!(
        FeatureWindow::new(40, 65, 3),
        Err(Error::LimitExceeded { .. })
    ));
    // 64 × 64 is the maximum and works.
    let mut big = FeatureWindow::new(64, 64, 64).unwrap();
    for k in 0..64 {
        assert_eq!(big.push(&[k as i8; 64]).unwrap(), k == 63);
    }
    let mut dst = vec![0u8; 4096];
    big.copy_window(&mut dst).unwrap();
    assert_eq!((dst[0], dst[4095]), (0, 63));
}

// ---------------------------------------------------------------- wake word

#[test]
fn wake_word_thresholds_match_pymicro_wakeword() {
    // Smallest window sum s with statistics.mean(u/256 for u in window) > cutoff, computed with
    // pymicro_wakeword 2.5's own arithmetic in Python (the published models' settings).
    assert_eq!(wake_word_min_sum(0.85, 5), 1089); // okay_nabu: 1088 is exactly 0.85, not above
    assert_eq!(wake_word_min_sum(0.9, 5), 1153); // alexa
    assert_eq!(wake_word_min_sum(0.95, 5), 1217); // hey_mycroft
    assert_eq!(wake_word_min_sum(0.97, 5), 1242); // hey_jarvis
    assert_eq!(wake_word_min_sum(0.8, 3), 615);
    assert_eq!(wake_word_min_sum(0.5, 1), 129);
    assert_eq!(wake_word_min_sum(0.5, 2), 257);
    assert_eq!(wake_word_min_sum(1.0, 5), 1276); // never
    assert_eq!(wake_word_min_sum(f64::NAN, 5), 1276); // never
    assert_eq!(wake_word_min_sum(-0.1, 5), 0); // always
    assert_eq!(wake_word_min_sum(0.0, 5), 1);
}

/// pymicro_wakeword's rule, written the slow obvious way: the first invocation index at which
/// the mean of the last `w` probabilities (once `w` exist) exceeds `cutoff`.
fn pymicro_first_detection(probs: &[u8], cutoff: f64, w: usize) -> Option<usize> {
    (w - 1..probs.len()).find(|&i| {
        let s: u32 = probs[i + 1 - w..=i].iter().map(|&p| u32::from(p)).sum();
        f64::from(s) / (256.0 * w as f64) > cutoff
    })
}

#[test]
fn wake_word_first_detection_agrees_with_pymicro_rule() {
    let mut seed = 12_345u32;
    let mut rnd = move || {
        seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12_345);
        (seed >> 16) as u8
    };
    for case in 0..400 {
        let cutoff = [0.85, 0.9, 0.95, 0.97, 0.5][case % 5];
        let w = 1 + case % 7;
        // Mostly high values so detections happen at varied places.
        let probs: Vec<u8> = (0..40)
            .map(|_| 255 - rnd() / (1 + (case % 4) as u8 * 8))
            .collect();
        let mut d =
            Detector::new(DetectorConfig::micro_wakeword(cutoff, w as u8).unwrap()).unwrap();
        let first = probs
            .iter()
            .enumerate()
            .find_map(|(i, &p)| d.push(i as u32 * 30, &[p]).map(|_| i));
        assert_eq!(
            first,
            pymicro_first_detection(&probs, cutoff, w),
            "case {case}"
        );
    }
}

#[test]
fn wake_word_fires_once_when_the_mean_crosses() {
    // okay_nabu settings: cutoff 0.85 over 5 → sum >= 1089.
    let mut d = Detector::new(DetectorConfig::micro_wakeword(0.85, 5).unwrap()).unwrap();
    let mut t = 0;
    let mut feed = |d: &mut Detector, p: u8| {
        t += 30;
        d.push(t, &[p])
    };
    // Fewer than 5 probabilities: nothing, however high.
    for _ in 0..4 {
        assert_eq!(feed(&mut d, 255), None);
    }
    d.reset();
    for p in [0, 0, 0, 0, 0, 217, 217, 218, 218] {
        assert_eq!(feed(&mut d, p), None);
    }
    // Window 217 217 218 218 218 = 1088: mean exactly 0.85, not above.
    assert_eq!(feed(&mut d, 218), None);
    // 217 218 218 218 219 = 1090.
    assert_eq!(
        feed(&mut d, 219),
        Some(Event {
            label: 0,
            t_ms: 450,
            score: 218
        })
    );
    // Still above: no second event.
    for _ in 0..50 {
        assert_eq!(feed(&mut d, 255), None);
    }
}

#[test]
fn wake_word_refractory_needs_time_and_a_dip() {
    let mut cfg = DetectorConfig::micro_wakeword(0.5, 2).unwrap();
    if let Mode::WakeWord { refractory_ms, .. } = &mut cfg.mode {
        *refractory_ms = 1000;
    }
    let mut d = Detector::new(cfg).unwrap();
    assert_eq!(d.push(0, &[200]), None);
    assert!(d.push(30, &[200]).is_some());
    // A dip, then high again within 1000 ms: suppressed.
    assert_eq!(d.push(60, &[0]), None);
    assert_eq!(d.push(90, &[0]), None);
    assert_eq!(d.push(500, &[255]), None);
    assert_eq!(d.push(1029, &[255]), None);
    // 1000 ms after the event, having dipped: fires.
    assert_eq!(d.push(1030, &[255]).map(|e| e.t_ms), Some(1030));
    // High without a dip for a long time: no re-fire.
    for t in (1060..5000).step_by(30) {
        assert_eq!(d.push(t, &[255]), None);
    }
    // A single below-cutoff window re-arms (time has long passed).
    assert_eq!(d.push(5000, &[0]), None);
    assert_eq!(d.push(5030, &[0]), None);
    assert_eq!(d.push(5060, &[255]), None); // (0 + 255) / 2 = 127.5/256 < 0.5
    assert!(d.push(5090, &[255]).is_some());
}

#[test]
fn esphome_comparison_variant() {
    // ESPHome: cutoff_u8 = int(0.85 * 255) = 216; detect when sum > 216 * 5.
    let cfg = DetectorConfig::micro_wakeword_esphome(216, 5).unwrap();
    assert!(matches!(
        cfg.mode,
        Mode::WakeWord {
            min_sum: 1081,
            sliding_window: 5,
            ..
        }
    ));
    let mut d = Detector::new(cfg).unwrap();
    for (i, p) in [216u8, 216, 216, 216, 216].iter().enumerate() {
        assert_eq!(d.push(i as u32, &[*p]), None);
    }
    assert!(d.push(5, &[217]).is_some());
}

// ---------------------------------------------------------------- commands

/// micro_speech-like: labels silence, unknown, yes, no; int8 scores given here as 0..=255.
fn commands(avg: u8, min_count: u8) -> Detector {
    let cfg = DetectorConfig::commands(&MICRO_SPEECH_LABELS, 200, avg, min_count, 1500).unwrap();
    assert_eq!(cfg.output, OutputType::Int8);
    Detector::new(cfg).unwrap()
}

/// Raw int8 output bytes for scores (score − 128).
fn raw(scores: [u8; 4]) -> [u8; 4] {
    scores.map(|s| s ^ 0x80)
}

const YES: [u8; 4] = [0, 0, 255, 0];
const NO: [u8; 4] = [0, 0, 0, 255];
const SILENCE: [u8; 4] = [255, 0, 0, 0];
const UNKNOWN: [u8; 4] = [0, 255, 0, 0];

#[test]
fn commands_average_before_deciding() {
    let mut d = commands(3, 3);
    // Minimum count 3: the first two results never decide.
    assert_eq!(d.push(0, &raw(YES)), None);
    assert_eq!(d.push(100, &raw(YES)), None);
    // (255 + 255 + 90) / 3 = 200: not strictly above the threshold.
    assert_eq!(d.push(200, &raw([0, 0, 90, 0])), None);
    // The window slides: (255 + 90 + 255) / 3 = 200, (90 + 255 + 255) / 3 = 200 ...
    assert_eq!(d.push(300, &raw(YES)), None);
    assert_eq!(d.push(400, &raw(YES)), None);
    // ... until the 90 leaves: 765 / 3 = 255 > 200.
    assert_eq!(
        d.push(500, &raw(YES)),
        Some(Event {
            label: 2,
            t_ms: 500,
            score: 255
        })
    );
}

#[test]
fn commands_suppress_repeats_but_not_new_labels() {
    let mut d = commands(1, 1);
    assert_eq!(d.push(1000, &raw(YES)).map(|e| e.label), Some(2));
    // Same label within 1500 ms (inclusive): suppressed.
    assert_eq!(d.push(1100, &raw(YES)), None);
    assert_eq!(d.push(2500, &raw(YES)), None);
    // A different label fires at once.
    assert_eq!(
        d.push(2600, &raw(NO)).map(|e| (e.label, e.t_ms)),
        Some((3, 2600))
    );
    // And "yes" again right after "no" too (the previous top is "no").
    assert_eq!(d.push(2700, &raw(YES)).map(|e| e.label), Some(2));
    // Strictly more than 1500 ms after the last "yes": fires again.
    assert_eq!(d.push(4200, &raw(YES)), None);
    assert_eq!(d.push(4201, &raw(YES)).map(|e| e.t_ms), Some(4201));
}

#[test]
fn commands_non_keywords_never_fire_but_reset_suppression() {
    let mut d = commands(1, 1);
    for t in 0..20 {
        assert_eq!(d.push(t * 100, &raw(SILENCE)), None);
        assert_eq!(d.push(t * 100 + 50, &raw(UNKNOWN)), None);
    }
    assert_eq!(d.push(3000, &raw(YES)).map(|e| e.label), Some(2));
    // TFLM: a confident "silence" in between becomes the previous top label, so the next "yes"
    // is a new command even within the suppression time.
    assert_eq!(d.push(3100, &raw(SILENCE)), None);
    assert_eq!(d.push(3200, &raw(YES)).map(|e| e.t_ms), Some(3200));
    // A weak silence (below threshold) does not.
    assert_eq!(d.push(3300, &raw([150, 0, 0, 0])), None);
    assert_eq!(d.push(3400, &raw(YES)), None);
}

#[test]
fn commands_ties_go_to_the_lower_label_and_low_scores_to_label_zero() {
    let mut d = commands(1, 1);
    // yes and no tie at 230: label 2 wins (first strictly-highest).
    assert_eq!(d.push(0, &raw([0, 0, 230, 230])).map(|e| e.label), Some(2));
    // All scores zero: TFLM's top is label 0 with score 0, nothing fires.
    assert_eq!(d.push(5000, &raw([0, 0, 0, 0])), None);
}

#[test]
fn commands_from_the_micro_speech_sidecar() {
    // /work/shared/reference/tflm/micro_speech_quantized.json: cutoff 0.8, window 3, labels.
    let cfg = DetectorConfig::from_sidecar(0.8, 3, Some(&MICRO_SPEECH_LABELS)).unwrap();
    assert_eq!(
        cfg.mode,
        Mode::Commands {
            labels: 4,
            keywords: 0b1100,
            threshold: 204,
            suppression_ms: 1500,
            average_window: 3,
            minimum_count: 1,
        }
    );
    let mut d = Detector::new(cfg).unwrap();
    // A 1 s clip is one invocation; it decides alone (minimum count 1).
    assert_eq!(
        d.push(990, &raw([2, 3, 205, 45]))
            .map(|e| (e.label, e.score)),
        Some((2, 205))
    );
    d.reset();
    assert_eq!(d.push(990, &raw([2, 3, 204, 46])), None);
    // No labels: a microWakeWord model.
    let ww = DetectorConfig::from_sidecar(0.97, 5, None).unwrap();
    assert_eq!(ww, DetectorConfig::micro_wakeword(0.97, 5).unwrap());
    assert_eq!(ww.output, OutputType::Uint8);
}

#[test]
fn command_thresholds() {
    assert_eq!(command_threshold(0.8), 204);
    assert_eq!(command_threshold(0.78125), 200); // exactly 200/256: avg must exceed 200
    assert_eq!(command_threshold(0.0), 0);
    assert_eq!(command_threshold(1.0), 255);
    assert_eq!(command_threshold(f64::NAN), 255);
}

#[test]
fn commands_missing_scores_count_as_zero_and_uint8_output_works() {
    let cfg = DetectorConfig::commands(&["a", "b", "_unknown_"], 100, 1, 1, 0)
        .unwrap()
        .with_output(OutputType::Uint8);
    assert_eq!(cfg.num_scores(), 3);
    assert!(cfg.check_output_len(3).is_ok());
    assert!(cfg.check_output_len(4).is_err());
    let mut d = Detector::new(cfg).unwrap();
    assert_eq!(d.push(0, &[10, 150]).map(|e| e.label), Some(1));
    assert_eq!(d.push(1, &[10, 10, 250]), None);
}

#[test]
fn limits() {
    let labels = ["x"; 33];
    assert!(matches!(
        DetectorConfig::commands(&labels, 200, 3, 3, 1500),
        Err(Error::LimitExceeded { .. })
    ));
    assert!(DetectorConfig::micro_wakeword(0.9, 65).is_err());
    assert!(DetectorConfig::micro_wakeword(0.9, 64).is_ok());
    let hand = DetectorConfig {
        mode: Mode::Commands {
            labels: 40,
            keywords: 0,
            threshold: 0,
            suppression_ms: 0,
            average_window: 1,
            minimum_count: 1,
        },
        output: OutputType::Int8,
    };
    assert!(Detector::new(hand).is_err());
}

// ---------------------------------------------------------------- presets

#[test]
fn presets_from_input_shapes() {
    for dims in [
        &[1, 1960][..],
        &[1960],
        &[1, 49, 40],
        &[49, 40],
        &[1, 49, 40, 1],
    ] {
        assert_eq!(
            defaults_for_input_shape(dims),
            Some(Preset::MICRO_SPEECH),
            "{dims:?}"
        );
    }
    assert_eq!(
        defaults_for_input_shape(&[1, 3, 40]),
        Some(Preset::micro_wakeword(3))
    );
    assert_eq!(
        defaults_for_input_shape(&[1, 1, 40]),
        Some(Preset::micro_wakeword(1))
    );
    for dims in [
        &[][..],
        &[1, 3, 41],
        &[2, 3, 40],
        &[1, 20, 40],
        &[1, 1961],
        &[1, 40, 49],
    ] {
        assert_eq!(defaults_for_input_shape(dims), None, "{dims:?}");
    }
    let ms = Preset::MICRO_SPEECH;
    assert_eq!(ms.kind, PresetKind::MicroSpeech);
    assert_eq!(
        (ms.window_frames, ms.stride_frames, ms.frame_step_ms),
        (49, 5, 20)
    );
    assert_eq!(ms.labels(), &MICRO_SPEECH_LABELS);
    let cfg = ms.detector_config();
    assert_eq!(
        cfg,
        DetectorConfig::commands(&MICRO_SPEECH_LABELS, 200, 3, 1, 1500).unwrap()
    );
    let ww = Preset::micro_wakeword(3);
    assert_eq!(
        (ww.window_frames, ww.stride_frames, ww.frame_step_ms),
        (3, 3, 10)
    );
    assert_eq!(
        ww.detector_config(),
        DetectorConfig::micro_wakeword(0.9, 5).unwrap()
    );
    assert!(ww.labels().is_empty());
    assert!(MICRO_SPEECH_LABELS
        .iter()
        .map(|l| is_keyword_label(l))
        .eq([false, false, true, true]));
}

/// The TFLM interpreter's micro_speech outputs for yes_1000ms.wav and no_1000ms.wav (the
/// committed golden, invocations 0 and 1): one invocation each, through the sidecar's settings.
#[test]
fn micro_speech_golden_outputs_fire_yes_and_no() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/golden/real/micro_speech/output0.bin"
    );
    let out = std::fs::read(path).unwrap();
    let cfg = DetectorConfig::from_sidecar(0.8, 3, Some(&MICRO_SPEECH_LABELS)).unwrap();
    let names: Vec<_> = out
        .chunks_exact(4)
        .take(2)
        .map(|scores| {
            let mut d = Detector::new(cfg).unwrap();
            d.push(990, scores)
                .map(|e| MICRO_SPEECH_LABELS[usize::from(e.label)])
        })
        .collect();
    assert_eq!(names, [Some("yes"), Some("no")]);
}
