//! Any sample rate → 16 kHz int16, streaming (windowed-sinc interpolation).
//!
//! Each output sample at input position `t` is `Σ x[n] · h(t − n)` over the 2·[`HALF_TAPS`]
//! nearest inputs, with `h` a Hann-windowed sinc whose cutoff sits at 0.45 × the lower of the
//! two rates (so 44.1/48 kHz input is low-passed below 7.2 kHz before decimation). At equal
//! rates the stage is a plain float → int16 conversion.

/// Output rate of the pipeline, Hz.
pub const TARGET_RATE: f64 = 16_000.0;

/// Input samples used on each side of an output position.
const HALF_TAPS: usize = 16;

/// A streaming resampler to 16 kHz.
#[derive(Clone, Debug)]
pub struct Resampler {
    /// Input rate in whole Hz: output position advances `in_rate / 16000` input samples.
    in_rate: u64,
    /// Cutoff as a fraction of the input rate (cycles per input sample).
    cutoff: f64,
    /// Unconsumed input, with `HALF_TAPS` samples of left context.
    history: Vec<f32>,
    /// Next output position in `history` coordinates, in units of 1/16000 input samples
    /// (exact integers, so chunking cannot change the output).
    pos: u64,
    passthrough: bool,
}

/// [`TARGET_RATE`] as an integer.
const OUT_RATE: u64 = 16_000;

impl Resampler {
    /// A resampler from `input_rate` Hz (rounded to whole Hz; 1 Hz to 1 MHz) to 16 kHz.
    pub fn new(input_rate: f64) -> Resampler {
        let in_rate = if input_rate.is_finite() { input_rate.round().clamp(1.0, 1e6) as u64 } else { OUT_RATE };
        Resampler {
            in_rate,
            cutoff: 0.45 * OUT_RATE.min(in_rate) as f64 / in_rate as f64,
            history: vec![0.0; HALF_TAPS],
            pos: HALF_TAPS as u64 * OUT_RATE,
            passthrough: in_rate == OUT_RATE,
        }
    }

    /// Converts `input` (floats in −1..1), appending 16 kHz int16 samples to `out`.
    pub fn push(&mut self, input: &[f32], out: &mut Vec<i16>) {
        if self.passthrough {
            out.extend(input.iter().map(|&x| to_i16(f64::from(x))));
            return;
        }
        self.history.extend_from_slice(input);
        let n = self.history.len();
        // The taps of position p are the inputs centre+1−HALF_TAPS ..= centre+HALF_TAPS.
        while (self.pos / OUT_RATE) as usize + HALF_TAPS < n {
            let centre = (self.pos / OUT_RATE) as usize;
            let frac = (self.pos % OUT_RATE) as f64 / OUT_RATE as f64;
            let lo = centre + 1 - HALF_TAPS;
            let mut acc = 0.0f64;
            for (k, &x) in self.history.iter().enumerate().skip(lo).take(2 * HALF_TAPS) {
                let d = k as f64 - centre as f64 - frac;
                acc += f64::from(x) * self.kernel(d);
            }
            out.push(to_i16(acc));
            self.pos += self.in_rate;
        }
        // Keep HALF_TAPS samples of context before the next output position.
        let keep_from = ((self.pos / OUT_RATE) as usize).saturating_sub(HALF_TAPS).min(n);
        self.history.drain(..keep_from);
        self.pos -= keep_from as u64 * OUT_RATE;
    }

    /// Windowed-sinc weight at distance `d` input samples, normalised for unit DC gain.
    fn kernel(&self, d: f64) -> f64 {
        let half = HALF_TAPS as f64;
        if d.abs() >= half {
            return 0.0;
        }
        let x = 2.0 * self.cutoff * d;
        let sinc = if x.abs() < 1e-12 { 1.0 } else { (std::f64::consts::PI * x).sin() / (std::f64::consts::PI * x) };
        let window = 0.5 * (1.0 + (std::f64::consts::PI * d / half).cos());
        2.0 * self.cutoff * sinc * window
    }
}

/// Float in −1..1 → int16, rounded and saturated.
fn to_i16(x: f64) -> i16 {
    (x * 32768.0).round().clamp(-32768.0, 32767.0) as i16
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tone(rate: f64, hz: f64, secs: f64) -> Vec<f32> {
        (0..(rate * secs) as usize)
            .map(|i| (0.5 * (2.0 * std::f64::consts::PI * hz * i as f64 / rate).sin()) as f32)
            .collect()
    }

    fn rms(x: &[i16]) -> f64 {
        (x.iter().map(|&v| f64::from(v).powi(2)).sum::<f64>() / x.len() as f64).sqrt()
    }

    #[test]
    fn passthrough_at_16k() {
        let mut r = Resampler::new(16_000.0);
        let mut out = vec![];
        r.push(&[0.0, 0.5, -1.0, 1.0], &mut out);
        assert_eq!(out, vec![0, 16384, -32768, 32767]);
    }

    #[test]
    fn rate_is_exact_over_chunks() {
        for rate in [44_100.0, 48_000.0, 22_050.0, 8_000.0] {
            let mut r = Resampler::new(rate);
            let input = tone(rate, 440.0, 1.0);
            let mut out = vec![];
            for chunk in input.chunks(128) {
                r.push(chunk, &mut out);
            }
            // One second in: 16,000 out, less the look-ahead still held back.
            let held = (HALF_TAPS as f64 * 16_000.0 / rate).ceil() as usize + 1;
            assert!((16_000 - held..=16_000).contains(&out.len()), "{rate}: {}", out.len());
        }
    }

    #[test]
    fn keeps_speech_band_and_removes_aliases() {
        // 1 kHz passes at about the same level; 12 kHz (would alias to 4 kHz) is removed.
        let mut r = Resampler::new(48_000.0);
        let mut pass = vec![];
        r.push(&tone(48_000.0, 1_000.0, 0.5), &mut pass);
        let level = rms(&pass[100..]) / (0.5 * 32768.0 / 2f64.sqrt());
        assert!((0.97..1.03).contains(&level), "{level}");
        let mut r = Resampler::new(48_000.0);
        let mut stop = vec![];
        r.push(&tone(48_000.0, 12_000.0, 0.5), &mut stop);
        assert!(rms(&stop[100..]) < 0.01 * 0.5 * 32768.0, "{}", rms(&stop[100..]));
    }

    #[test]
    fn chunking_does_not_change_output() {
        let input = tone(44_100.0, 300.0, 0.3);
        let mut a = vec![];
        Resampler::new(44_100.0).push(&input, &mut a);
        let mut b = vec![];
        let mut r = Resampler::new(44_100.0);
        for c in input.chunks(97) {
            r.push(c, &mut b);
        }
        assert_eq!(a, b);
    }
}
