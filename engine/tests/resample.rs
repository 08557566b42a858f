//! Resampler quality, measured: tone and chirp sweeps 20 Hz – 22 kHz at 48 and 44.1 kHz.
//!
//! Bounds asserted (all relative to the input tone's level, −6 dBFS):
//! - passband (≤ 7 kHz): gain within ±0.25 dB of unity, so ripple < 0.5 dB;
//! - aliasing: any input above 8 kHz (the 16 kHz Nyquist frequency) leaves ≤ −60 dB in the output;
//! - in-band residual (output minus the fitted tone: aliases, images, rounding) ≤ −60 dB;
//! - streaming in odd chunk sizes is bit-identical to one chunk.
//!
//! Run with `--nocapture` to see the measured numbers.

use mote_engine::resample::{Resampler, OUTPUT_RATE, SUPPORTED_RATES};
use std::f64::consts::PI;

const AMP: f64 = 16_384.0; // −6 dBFS
const ALIAS_BOUND_DB: f64 = -60.0;
const RESIDUAL_BOUND_DB: f64 = -60.0;
const PASSBAND_EDGE_HZ: f64 = 7_000.0;
const STOPBAND_EDGE_HZ: f64 = 8_000.0;
const MAX_GAIN_DEV_DB: f64 = 0.25;

fn db(x: f64) -> f64 {
    20.0 * x.max(1e-12).log10()
}

fn tone(rate: u32, f: f64, secs: f64) -> Vec<i16> {
    let n = (f64::from(rate) * secs) as usize;
    (0..n)
        .map(|i| (AMP * (2.0 * PI * f * i as f64 / f64::from(rate)).sin()).round() as i16)
        .collect()
}

fn resample(rate: u32, x: &[i16]) -> Vec<i16> {
    let mut r = Resampler::new(rate).unwrap();
    let mut y = Vec::with_capacity(r.max_output_len(x.len()));
    r.process(x, |s| y.push(s));
    y
}

/// Least-squares fit of `a·sin + b·cos` at `f` Hz to `y` (16 kHz): (amplitude, residual rms).
fn fit(y: &[f64], f: f64) -> (f64, f64) {
    let w = 2.0 * PI * f / f64::from(OUTPUT_RATE);
    let (mut ss, mut cc, mut sc, mut ys, mut yc) = (0.0, 0.0, 0.0, 0.0, 0.0);
    for (n, &v) in y.iter().enumerate() {
        let (s, c) = (w * n as f64).sin_cos();
        ss += s * s;
        cc += c * c;
        sc += s * c;
        ys += v * s;
        yc += v * c;
    }
    let det = ss * cc - sc * sc;
    let a = (ys * cc - yc * sc) / det;
    let b = (yc * ss - ys * sc) / det;
    let mut res = 0.0;
    for (n, &v) in y.iter().enumerate() {
        let (s, c) = (w * n as f64).sin_cos();
        let e = v - a * s - b * c;
        res += e * e;
    }
    ((a * a + b * b).sqrt(), (res / y.len() as f64).sqrt())
}

fn rms(y: &[f64]) -> f64 {
    (y.iter().map(|v| v * v).sum::<f64>() / y.len() as f64).sqrt()
}

#[derive(Default, Debug)]
struct Sweep {
    min_gain_db: f64,
    max_gain_db: f64,
    worst_residual_db: f64,
    worst_alias_db: f64,
    worst_alias_hz: f64,
}

/// A stepped sine sweep: each tone 0.3 s, the first 20 ms of output (filter start-up) dropped.
fn tone_sweep(rate: u32, freqs: &[f64]) -> Sweep {
    let mut s = Sweep {
        min_gain_db: f64::MAX,
        max_gain_db: f64::MIN,
        worst_residual_db: f64::MIN,
        worst_alias_db: f64::MIN,
        worst_alias_hz: 0.0,
    };
    let ref_rms = AMP / 2f64.sqrt();
    for &f in freqs {
        let y = resample(rate, &tone(rate, f, 0.3));
        let y: Vec<f64> = y[320..].iter().map(|&v| f64::from(v)).collect();
        if f <= PASSBAND_EDGE_HZ {
            let (a, res) = fit(&y, f);
            let g = db(a / AMP);
            s.min_gain_db = s.min_gain_db.min(g);
            s.max_gain_db = s.max_gain_db.max(g);
            s.worst_residual_db = s.worst_residual_db.max(db(res / ref_rms));
        } else if f >= STOPBAND_EDGE_HZ {
            let a = db(rms(&y) / ref_rms);
            if a > s.worst_alias_db {
                s.worst_alias_db = a;
                s.worst_alias_hz = f;
            }
        }
    }
    s
}

/// 20 Hz … 22 kHz: 96 log-spaced tones plus the band edges and their neighbourhood.
fn sweep_freqs(top: f64) -> Vec<f64> {
    let mut f: Vec<f64> = (0..96)
        .map(|i| 20.0 * (top / 20.0).powf(f64::from(i) / 95.0))
        .collect();
    f.extend([
        997.0, 6_500.0, 6_900.0, 7_000.0, 8_000.0, 8_001.0, 8_050.0, 8_200.0, 8_500.0, 9_000.0,
        11_025.0, 12_000.0, 15_999.0, 16_000.0, 16_001.0, 20_000.0,
    ]);
    f
}

#[test]
fn tone_sweep_48k_and_44k1() {
    for rate in [48_000u32, 44_100] {
        let s = tone_sweep(rate, &sweep_freqs(22_000.0));
        println!(
            "{rate} Hz tones: passband gain {:+.3} .. {:+.3} dB (ripple {:.3} dB), in-band residual <= {:.1} dB, \
             aliasing <= {:.1} dB (worst at {:.0} Hz)",
            s.min_gain_db,
            s.max_gain_db,
            s.max_gain_db - s.min_gain_db,
            s.worst_residual_db,
            s.worst_alias_db,
            s.worst_alias_hz
        );
        assert!(
            s.min_gain_db >= -MAX_GAIN_DEV_DB && s.max_gain_db <= MAX_GAIN_DEV_DB,
            "{s:?}"
        );
        assert!(s.max_gain_db - s.min_gain_db < 0.5, "{s:?}");
        assert!(s.worst_residual_db <= RESIDUAL_BOUND_DB, "{s:?}");
        assert!(s.worst_alias_db <= ALIAS_BOUND_DB, "{s:?}");
    }
}

/// A continuous linear chirp 20 Hz → 22 kHz over 4 s. Output blocks of 20 ms are classified by
/// the input's instantaneous frequency at that time (output time minus the filter delay): blocks
/// entirely above 8 kHz (+ 60 Hz for the filter's ±2 ms span) contain nothing but aliasing.
#[test]
fn chirp_sweep_48k_and_44k1() {
    let (f0, f1, secs) = (20.0f64, 22_000.0f64, 4.0f64);
    for rate in [48_000u32, 44_100] {
        let fs = f64::from(rate);
        let n = (fs * secs) as usize;
        let x: Vec<i16> = (0..n)
            .map(|i| {
                let t = i as f64 / fs;
                let phase = 2.0 * PI * (f0 * t + (f1 - f0) * t * t / (2.0 * secs));
                (AMP * phase.sin()).round() as i16
            })
            .collect();
        let r = Resampler::new(rate).unwrap();
        let delay = f64::from(r.delay_us()) * 1e-6;
        let y = resample(rate, &x);
        let ref_rms = AMP / 2f64.sqrt();
        let inst = |t: f64| f0 + (f1 - f0) * t / secs;
        let (mut alias_energy, mut alias_n, mut worst_alias, mut worst_pass) =
            (0.0, 0usize, f64::MIN, 0.0f64);
        for (b, blk) in y.chunks_exact(320).enumerate() {
            let t0 = b as f64 * 0.02 - delay;
            let (lo, hi) = (inst(t0), inst(t0 + 0.02));
            if t0 < 0.0 || t0 + 0.02 > secs {
                continue;
            }
            let blk: Vec<f64> = blk.iter().map(|&v| f64::from(v)).collect();
            let level = db(rms(&blk) / ref_rms);
            if lo >= STOPBAND_EDGE_HZ + 60.0 {
                alias_energy += blk.iter().map(|v| v * v).sum::<f64>();
                alias_n += blk.len();
                worst_alias = worst_alias.max(level);
            } else if lo >= 500.0 && hi <= PASSBAND_EDGE_HZ {
                worst_pass = if level.abs() > worst_pass.abs() {
                    level
                } else {
                    worst_pass
                };
            }
        }
        let overall = db((alias_energy / alias_n as f64).sqrt() / ref_rms);
        println!(
            "{rate} Hz chirp: aliasing from 8.06-22 kHz input: overall {overall:.1} dB, worst 20 ms block {worst_alias:.1} dB; \
             passband (0.5-7 kHz) block level worst {worst_pass:+.3} dB"
        );
        assert!(worst_alias <= ALIAS_BOUND_DB, "{rate}: {worst_alias}");
        assert!(worst_pass.abs() <= 0.5, "{rate}: {worst_pass}");
    }
}

/// Every supported rate: a 1 kHz tone passes at unity gain, a tone just below the input's
/// Nyquist frequency (or its image, for 8 kHz upsampling) is suppressed.
#[test]
fn every_rate_passes_speech_and_rejects_aliases() {
    for rate in SUPPORTED_RATES {
        let fs = f64::from(rate);
        let y = resample(rate, &tone(rate, 1_000.0, 0.3));
        assert_eq!(y.len(), 4_800, "{rate}");
        let y: Vec<f64> = y[320..].iter().map(|&v| f64::from(v)).collect();
        let (a, res) = fit(&y, 1_000.0);
        let ref_rms = AMP / 2f64.sqrt();
        let (g, r) = (db(a / AMP), db(res / ref_rms));
        let hi = 0.45 * fs;
        let alias = if rate > OUTPUT_RATE {
            let y = resample(rate, &tone(rate, hi, 0.3));
            let y: Vec<f64> = y[320..].iter().map(|&v| f64::from(v)).collect();
            db(rms(&y) / ref_rms)
        } else if rate < OUTPUT_RATE {
            // Upsampling: a 3.4 kHz tone must not leave an image at fs - 3.4 kHz.
            let y = resample(rate, &tone(rate, 3_400.0, 0.3));
            let y: Vec<f64> = y[320..].iter().map(|&v| f64::from(v)).collect();
            db(fit(&y, 3_400.0).1 / ref_rms)
        } else {
            f64::NEG_INFINITY
        };
        println!("{rate} Hz: 1 kHz gain {g:+.3} dB, residual {r:.1} dB; alias/image {alias:.1} dB");
        assert!(g.abs() <= MAX_GAIN_DEV_DB, "{rate}: {g}");
        assert!(r <= RESIDUAL_BOUND_DB, "{rate}: {r}");
        assert!(alias <= ALIAS_BOUND_DB, "{rate}: {alias}");
    }
}

#[test]
fn sixteen_khz_passes_through() {
    let x: Vec<i16> = (0..1000)
        .map(|i| (i * 37 % 65_536 - 32_768) as i16)
        .collect();
    assert_eq!(resample(16_000, &x), x);
}

#[test]
fn chunked_streaming_is_identical() {
    let mut seed = 0x2545_f491u32;
    let x: Vec<i16> = (0..20_000)
        .map(|_| {
            seed = seed.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (seed >> 16) as i16
        })
        .collect();
    let chunks = [1usize, 7, 13, 0, 2, 333, 64, 5, 1_000, 3, 441, 160];
    for rate in SUPPORTED_RATES {
        let whole = resample(rate, &x);
        let mut r = Resampler::new(rate).unwrap();
        let mut parts = Vec::new();
        let mut rest = &x[..];
        for &c in chunks.iter().cycle() {
            if rest.is_empty() {
                break;
            }
            let (a, b) = rest.split_at(c.min(rest.len()));
            let before = parts.len();
            r.process(a, |s| parts.push(s));
            assert!(parts.len() - before <= r.max_output_len(a.len()));
            rest = b;
        }
        assert_eq!(parts, whole, "{rate}");
        // And reset() really restarts.
        r.reset();
        let mut again = Vec::new();
        r.process(&x, |s| again.push(s));
        assert_eq!(again, whole, "{rate} after reset");
    }
}

/// A fixed fingerprint of the output for a fixed input at each rate, so a port (wasm, firmware)
/// can check it computes the same bits: FNV-1a over the little-endian output samples.
#[test]
fn output_fingerprints() {
    let x: Vec<i16> = (0..9_600)
        .map(|i| ((i * i * 7 + i * 13) % 60_001 - 30_000) as i16)
        .collect();
    let mut got = Vec::new();
    for rate in SUPPORTED_RATES {
        let mut h = 0xcbf2_9ce4_8422_2325u64;
        for s in resample(rate, &x) {
            for b in s.to_le_bytes() {
                h = (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3);
            }
        }
        got.push((rate, h));
    }
    println!("fingerprints: {got:x?}");
    let want: &[(u32, u64)] = &[
        (8_000, 0x7c5c_8dce_a11b_f4f1),
        (16_000, 0xd1e2_8c4c_0948_650f),
        (22_050, 0x114f_1b40_c824_ebb8),
        (24_000, 0x2d9f_5ba3_81c6_1b5d),
        (32_000, 0x37e8_5d88_e3b1_03bd),
        (44_100, 0x016c_3017_16bd_c24b),
        (48_000, 0x1c14_ef1d_1b99_e9a3),
        (88_200, 0xeb43_bb1f_9c01_4980),
        (96_000, 0xff9c_9234_7939_12a2),
    ];
    assert_eq!(got, want);
}
