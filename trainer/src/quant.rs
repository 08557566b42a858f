//! Post-training int8 quantization, the way TFLite's converter does it for int8 models:
//! weights symmetric (zero point 0) per output channel for convolutions, per tensor for the
//! dense layer; biases int32 with scale `input_scale · weight_scale`; activations asymmetric,
//! ranges calibrated on training examples (ReLU outputs start at 0, so their zero point is −128);
//! AVERAGE_POOL_2D keeps its input's quantization (TFLM requires it); SOFTMAX outputs
//! scale 1/256, zero point −128 (TFLM requires it).

use crate::net::{self, Acts, Kind, Params, INPUT_NORM, INPUT_SCALE};

/// A tensor's (scale, zero point).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Q {
    /// Real value per step.
    pub scale: f32,
    /// The int8 value of real 0.
    pub zero: i32,
}

/// One weighted layer, quantized.
#[derive(Clone, Debug)]
pub struct Layer {
    /// int8 weights in TFLite's layout.
    pub w: Vec<i8>,
    /// One scale per output channel (or one for the tensor).
    pub w_scales: Vec<f32>,
    /// int32 biases.
    pub b: Vec<i32>,
    /// Bias scales (`input_scale · w_scale`).
    pub b_scales: Vec<f32>,
}

/// The whole int8 model.
#[derive(Clone, Debug)]
pub struct QModel {
    /// Each convolution of [`net::LAYERS`], then the dense layer.
    pub layers: Vec<Layer>,
    /// Activations: the input, each convolution's output (the last one is also the pool's),
    /// the logits.
    pub acts: Vec<Q>,
    /// Output classes.
    pub classes: usize,
}

/// Largest values seen in calibration.
#[derive(Clone, Debug)]
pub struct Ranges {
    max: Vec<f32>,
    lo: f32,
    hi: f32,
}

impl Default for Ranges {
    fn default() -> Self {
        Ranges {
            max: vec![0.0; net::LAYERS.len()],
            lo: 0.0,
            hi: 0.0,
        }
    }
}

impl Ranges {
    /// Widen with one forward pass.
    pub fn observe(&mut self, a: &Acts) {
        for (m, v) in self.max.iter_mut().zip(&a.a) {
            *m = v.iter().copied().fold(*m, f32::max);
        }
        for &l in &a.logits {
            self.lo = self.lo.min(l);
            self.hi = self.hi.max(l);
        }
    }
}

fn relu_q(max: f32) -> Q {
    Q {
        scale: max.max(1e-6) / 255.0,
        zero: -128,
    }
}

/// Asymmetric quantization of [lo, hi] (widened to contain 0), zero point nudged to an integer.
fn range_q(lo: f32, hi: f32) -> Q {
    let (lo, hi) = (lo.min(0.0), hi.max(0.0));
    let scale = ((hi - lo) / 255.0).max(1e-6);
    let zero = libm::roundf(-128.0 - lo / scale).clamp(-128.0, 127.0) as i32;
    Q { scale, zero }
}

/// Symmetric int8 weights with `channels` groups (`axis_outer`: the channel is the outermost
/// index, else the innermost), plus int32 biases at `in_scale · w_scale`.
fn layer(w: &[f32], b: &[f32], channels: usize, axis_outer: bool, in_scale: f32) -> Layer {
    let per = w.len() / channels;
    let ch = |i: usize| if axis_outer { i / per } else { i % channels };
    let mut absmax = vec![0.0f32; channels];
    for (i, &v) in w.iter().enumerate() {
        absmax[ch(i)] = absmax[ch(i)].max(v.abs());
    }
    let w_scales: Vec<f32> = absmax.iter().map(|&m| m.max(1e-8) / 127.0).collect();
    let wq = w
        .iter()
        .enumerate()
        .map(|(i, &v)| libm::roundf(v / w_scales[ch(i)]).clamp(-127.0, 127.0) as i8)
        .collect();
    let b_scales: Vec<f32> = (0..b.len())
        .map(|o| in_scale * w_scales[if channels == 1 { 0 } else { o }])
        .collect();
    let bq = b
        .iter()
        .zip(&b_scales)
        .map(|(&v, &s)| {
            libm::round(f64::from(v) / f64::from(s)).clamp(-2147483647.0, 2147483647.0) as i32
        })
        .collect();
    Layer {
        w: wq,
        w_scales,
        b: bq,
        b_scales,
    }
}

/// Quantize trained parameters with calibrated ranges.
pub fn quantize(p: &Params, r: &Ranges) -> QModel {
    let mut acts = vec![Q {
        scale: INPUT_SCALE,
        zero: -128,
    }];
    acts.extend(r.max.iter().map(|&m| relu_q(m)));
    let mut layers = Vec::new();
    for (i, ((kind, g), (w, b))) in net::LAYERS.iter().zip(&p.conv).enumerate() {
        let in_scale = acts[i].scale;
        layers.push(match kind {
            Kind::Conv => {
                let mut w = Params::conv_ohwi(w, g.oc);
                if i == 0 {
                    // The float net sees x · INPUT_NORM: fold the factor into the weights.
                    w.iter_mut().for_each(|v| *v *= INPUT_NORM);
                }
                layer(&w, b, g.oc, true, in_scale)
            }
            Kind::Depthwise => layer(w, b, g.oc, false, in_scale),
        });
    }
    let pool_scale = acts[acts.len() - 1].scale;
    layers.push(layer(&p.wf, &p.bf, 1, true, pool_scale));
    acts.push(range_q(r.lo, r.hi));
    QModel {
        layers,
        acts,
        classes: p.classes(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn asymmetric_range_contains_zero_exactly() {
        let q = range_q(-3.0, 5.0);
        assert!((q.scale - 8.0 / 255.0).abs() < 1e-7);
        assert_eq!(q.zero, libm::roundf(-128.0 + 3.0 / q.scale) as i32);
        let q = range_q(1.0, 2.0); // widened to [0, 2]
        assert_eq!(q.zero, -128);
    }

    #[test]
    fn per_channel_weights_use_each_channel_range() {
        // Two output channels (outer axis), two weights each.
        let l = layer(&[0.5, -1.0, 0.1, 0.05], &[0.2, 0.0], 2, true, 0.5);
        assert_eq!(l.w, vec![64, -127, 127, 64]);
        assert!((l.w_scales[0] - 1.0 / 127.0).abs() < 1e-9);
        assert_eq!(l.b[0], libm::round(0.2 / (0.5 / 127.0)) as i32);
        // Innermost axis (depthwise): channel = index % 2.
        let l = layer(&[1.0, 0.1, -0.5, 0.05], &[0.0, 0.0], 2, false, 1.0);
        assert_eq!(l.w, vec![127, 127, -64, 64]);
    }
}
