//! The float network and its training step, written out by hand (forward, backward, Adam) so
//! that it is deterministic for a seed and small enough to build for wasm.
//!
//! Layers (NHWC, as TFLite lays them out; H = 49 time frames, W = 40 mel channels):
//!
//! ```text
//! input [49, 40, 1] ─ CONV_2D 10×4 /2 ─▶ [25, 20, 16]
//!   ─ DEPTHWISE_CONV_2D 3×3 /2 ─▶ [13, 10, 16] ─ CONV_2D 1×1 ─▶ [13, 10, 48]
//!   ─ DEPTHWISE_CONV_2D 3×3 /1 ─▶ [13, 10, 48] ─ CONV_2D 1×1 ─▶ [13, 10, 48]
//!   ─ AVERAGE_POOL_2D 1×10 ─▶ [13, 1, 48] ─ FULLY_CONNECTED ─▶ [K] ─ SOFTMAX
//! (SAME padding and ReLU on every convolution; the table is [`LAYERS`].)
//! ```
//!
//! The float input is the int8 feature dequantized, `(q + 128) · INPUT_SCALE`, times
//! [`INPUT_NORM`] (folded into the first layer's weights on export).

use crate::rng::Rng;

/// Input frames (time).
pub const IN_H: usize = 49;
/// Input channels (mel bins).
pub const IN_W: usize = 40;
/// micro_speech's input quantization (TFLM `micro_speech_quantized.tflite`; the engine's
/// front end maps features to int8 for exactly this scale and zero point −128).
pub const INPUT_SCALE: f32 = 0.101_715_68;
/// Training-time input scaling (keeps first-layer activations near unit size).
pub const INPUT_NORM: f32 = 0.125;
/// The convolution stack: (kind, geometry), each followed by ReLU.
pub const LAYERS: [(Kind, Geom); 5] = [
    (Kind::Conv, Geom::same(IN_H, IN_W, 1, 16, 10, 4, 2)),
    (Kind::Depthwise, Geom::same(25, 20, 16, 16, 3, 3, 2)),
    (Kind::Conv, Geom::same(13, 10, 16, 48, 1, 1, 1)),
    (Kind::Depthwise, Geom::same(13, 10, 48, 48, 3, 3, 1)),
    (Kind::Conv, Geom::same(13, 10, 48, 48, 1, 1, 1)),
];
const LAST: Geom = LAYERS[LAYERS.len() - 1].1;
/// Channels out of the last convolution.
pub const FEAT: usize = LAST.oc;
/// Time steps kept by the pool (it averages over frequency only, so the dense layer sees the
/// order of sounds: "no" and "yes" share vowels, the fricative's place tells them apart).
pub const POOL_T: usize = LAST.oh;
/// Frequency positions averaged by the pool.
pub const POOL_N: usize = LAST.ow;
/// Inputs of the dense layer.
pub const DENSE_IN: usize = POOL_T * FEAT;

/// A convolution layer's kind.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Kind {
    /// CONV_2D (weights HWIO while training).
    Conv,
    /// DEPTHWISE_CONV_2D, multiplier 1 (weights `[kh, kw, c]`).
    Depthwise,
}

/// One convolution's geometry (SAME padding as TFLite computes it).
#[derive(Clone, Copy, Debug)]
pub struct Geom {
    /// Input height.
    pub ih: usize,
    /// Input width.
    pub iw: usize,
    /// Input channels.
    pub ic: usize,
    /// Output height.
    pub oh: usize,
    /// Output width.
    pub ow: usize,
    /// Output channels.
    pub oc: usize,
    /// Kernel height.
    pub kh: usize,
    /// Kernel width.
    pub kw: usize,
    /// Stride (both axes share it here).
    pub s: usize,
    /// Padding before, top.
    pub pt: usize,
    /// Padding before, left.
    pub pl: usize,
}

impl Geom {
    /// SAME padding: out = ceil(in / s), pad_before = max((out−1)·s + k − in, 0) / 2.
    pub const fn same(
        ih: usize,
        iw: usize,
        ic: usize,
        oc: usize,
        kh: usize,
        kw: usize,
        s: usize,
    ) -> Geom {
        let oh = ih.div_ceil(s);
        let ow = iw.div_ceil(s);
        let th = ((oh - 1) * s + kh).saturating_sub(ih);
        let tw = ((ow - 1) * s + kw).saturating_sub(iw);
        Geom {
            ih,
            iw,
            ic,
            oh,
            ow,
            oc,
            kh,
            kw,
            s,
            pt: th / 2,
            pl: tw / 2,
        }
    }
    fn in_y(&self, oy: usize, ky: usize) -> Option<usize> {
        (oy * self.s + ky)
            .checked_sub(self.pt)
            .filter(|&y| y < self.ih)
    }
    fn in_x(&self, ox: usize, kx: usize) -> Option<usize> {
        (ox * self.s + kx)
            .checked_sub(self.pl)
            .filter(|&x| x < self.iw)
    }
    /// Calls `f(out_pixel, in_pixel, tap)` for every output pixel (row-major) and each of its
    /// kernel taps (row-major) that falls inside the input; pixels and taps are flat indices
    /// (`y · width + x`). The four convolution passes share this walk (and its order, which
    /// fixes their float sums).
    fn for_each_tap(&self, mut f: impl FnMut(usize, usize, usize)) {
        for oy in 0..self.oh {
            for ox in 0..self.ow {
                for ky in 0..self.kh {
                    let Some(iy) = self.in_y(oy, ky) else {
                        continue;
                    };
                    for kx in 0..self.kw {
                        let Some(ix) = self.in_x(ox, kx) else {
                            continue;
                        };
                        f(oy * self.ow + ox, iy * self.iw + ix, ky * self.kw + kx);
                    }
                }
            }
        }
    }
    /// Output values.
    pub const fn out_len(&self) -> usize {
        self.oh * self.ow * self.oc
    }
    /// Weight count for `kind`.
    pub const fn weights(&self, kind: Kind) -> usize {
        match kind {
            Kind::Conv => self.kh * self.kw * self.ic * self.oc,
            Kind::Depthwise => self.kh * self.kw * self.oc,
        }
    }
}

/// All trainable tensors: per convolution layer (weights, bias), then the dense layer.
/// Convolutions are HWIO (`[kh, kw, in, out]`, fast to train; [`Params::conv_ohwi`] gives
/// TFLite's `[out, kh, kw, in]`), depthwise `[kh, kw, c]` and dense `[out, in]` as in TFLite.
#[derive(Clone, Debug)]
pub struct Params {
    /// (weights, bias) of each entry of [`LAYERS`].
    pub conv: Vec<(Vec<f32>, Vec<f32>)>,
    /// Dense weights `[classes, FEAT]`.
    pub wf: Vec<f32>,
    /// Dense bias.
    pub bf: Vec<f32>,
}

impl Params {
    /// Zeros for `classes` outputs.
    pub fn zeros(classes: usize) -> Params {
        Params {
            conv: LAYERS
                .iter()
                .map(|(k, g)| (vec![0.0; g.weights(*k)], vec![0.0; g.oc]))
                .collect(),
            wf: vec![0.0; classes * DENSE_IN],
            bf: vec![0.0; classes],
        }
    }

    /// He-normal initial weights, zero biases.
    pub fn init(classes: usize, rng: &mut Rng) -> Params {
        let mut p = Params::zeros(classes);
        let he = |v: &mut [f32], fan_in: usize, r: &mut Rng| {
            let sd = libm::sqrtf(2.0 / fan_in as f32);
            v.iter_mut().for_each(|x| *x = r.normal() * sd);
        };
        for ((k, g), (w, _)) in LAYERS.iter().zip(&mut p.conv) {
            let fan_in = g.kh * g.kw * if *k == Kind::Conv { g.ic } else { 1 };
            he(w, fan_in, rng);
        }
        he(&mut p.wf, DENSE_IN, rng);
        p
    }

    /// A convolution's weights (HWIO, `oc` outputs) in TFLite's OHWI layout.
    pub fn conv_ohwi(w: &[f32], oc: usize) -> Vec<f32> {
        let rest = w.len() / oc;
        (0..w.len())
            .map(|i| w[(i % rest) * oc + i / rest])
            .collect()
    }

    /// Number of output classes.
    pub fn classes(&self) -> usize {
        self.bf.len()
    }

    fn tensors_mut(&mut self) -> Vec<&mut Vec<f32>> {
        let mut v: Vec<&mut Vec<f32>> = Vec::new();
        for (w, b) in &mut self.conv {
            v.push(w);
            v.push(b);
        }
        v.push(&mut self.wf);
        v.push(&mut self.bf);
        v
    }

    fn fill(&mut self, v: f32) {
        for t in self.tensors_mut() {
            t.iter_mut().for_each(|x| *x = v);
        }
    }
}

/// Every intermediate value of one forward pass (kept for the backward pass and calibration).
#[derive(Clone, Debug)]
pub struct Acts {
    /// Normalized input.
    pub x: Vec<f32>,
    /// Each convolution layer's output after ReLU.
    pub a: Vec<Vec<f32>>,
    /// After the average pool.
    pub pool: Vec<f32>,
    /// Dense outputs (softmax inputs).
    pub logits: Vec<f32>,
    /// Dropout's factor per pooled value (0 or 1/(1 − rate)); empty when no dropout ran.
    pub keep: Vec<f32>,
}

impl Acts {
    /// Buffers for `classes` outputs.
    pub fn new(classes: usize) -> Acts {
        Acts {
            x: vec![0.0; IN_H * IN_W],
            a: LAYERS.iter().map(|(_, g)| vec![0.0; g.out_len()]).collect(),
            pool: vec![0.0; DENSE_IN],
            logits: vec![0.0; classes],
            keep: Vec::new(),
        }
    }
}

fn conv_fwd(g: &Geom, x: &[f32], w: &[f32], b: &[f32], y: &mut [f32]) {
    // w is HWIO here ([kh][kw][ic][oc]): the innermost loop runs over contiguous outputs.
    y.chunks_exact_mut(g.oc)
        .for_each(|out| out.copy_from_slice(b));
    g.for_each_tap(|o, i, t| {
        let out = &mut y[o * g.oc..][..g.oc];
        let xi = &x[i * g.ic..][..g.ic];
        let wk = &w[t * g.ic * g.oc..][..g.ic * g.oc];
        for (c, &xv) in xi.iter().enumerate() {
            let wr = &wk[c * g.oc..][..g.oc];
            for (o, &wv) in out.iter_mut().zip(wr) {
                *o += xv * wv;
            }
        }
    });
}

/// Adds every output pixel's `dy` into the bias gradient `db` (one value per channel).
fn bias_grad(dy: &[f32], db: &mut [f32]) {
    for d in dy.chunks_exact(db.len()) {
        db.iter_mut().zip(d).for_each(|(a, b)| *a += b);
    }
}

/// Accumulates weight/bias gradients and (if given) the input gradient (w in HWIO).
fn conv_bwd(
    g: &Geom,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    mut dx: Option<&mut [f32]>,
) {
    bias_grad(dy, db);
    g.for_each_tap(|o, i, t| {
        let d = &dy[o * g.oc..][..g.oc];
        let xb = i * g.ic;
        let kb = t * g.ic * g.oc;
        for c in 0..g.ic {
            let xv = x[xb + c];
            let gw = &mut dw[kb + c * g.oc..][..g.oc];
            for (a, &dv) in gw.iter_mut().zip(d) {
                *a += xv * dv;
            }
            if let Some(dx) = dx.as_deref_mut() {
                let wr = &w[kb + c * g.oc..][..g.oc];
                dx[xb + c] += wr.iter().zip(d).map(|(a, b)| a * b).sum::<f32>();
            }
        }
    });
}

fn dw_fwd(g: &Geom, x: &[f32], w: &[f32], b: &[f32], y: &mut [f32]) {
    let c = g.oc;
    y.chunks_exact_mut(c).for_each(|out| out.copy_from_slice(b));
    g.for_each_tap(|o, i, t| {
        let out = &mut y[o * c..][..c];
        let xi = &x[i * c..][..c];
        let wi = &w[t * c..][..c];
        for k in 0..c {
            out[k] += xi[k] * wi[k];
        }
    });
}

fn dw_bwd(
    g: &Geom,
    x: &[f32],
    w: &[f32],
    dy: &[f32],
    dw: &mut [f32],
    db: &mut [f32],
    dx: &mut [f32],
) {
    let c = g.oc;
    bias_grad(dy, db);
    g.for_each_tap(|o, i, t| {
        let d = &dy[o * c..][..c];
        let xb = i * c;
        let wb = t * c;
        for k in 0..c {
            dw[wb + k] += d[k] * x[xb + k];
            dx[xb + k] += d[k] * w[wb + k];
        }
    });
}

fn relu(v: &mut [f32]) {
    v.iter_mut().for_each(|x| *x = x.max(0.0));
}

/// Softmax probabilities of `logits` (libm exp: the same bits on every target).
pub fn softmax(logits: &[f32], out: &mut [f32]) {
    let m = logits.iter().copied().fold(f32::MIN, f32::max);
    let mut s = 0.0;
    for (o, &l) in out.iter_mut().zip(logits) {
        *o = libm::expf(l - m);
        s += *o;
    }
    out.iter_mut().for_each(|o| *o /= s);
}

/// Forward pass of one example: `features` are the 49×40 int8 front-end values.
pub fn forward(p: &Params, features: &[i8], a: &mut Acts) {
    a.keep.clear();
    for (x, &q) in a.x.iter_mut().zip(features) {
        *x = (f32::from(q) + 128.0) * INPUT_SCALE * INPUT_NORM;
    }
    for (i, ((k, g), (w, b))) in LAYERS.iter().zip(&p.conv).enumerate() {
        let (before, rest) = a.a.split_at_mut(i);
        let input = if i == 0 { &a.x[..] } else { &before[i - 1][..] };
        let out = &mut rest[0];
        match k {
            Kind::Conv => conv_fwd(g, input, w, b, out),
            Kind::Depthwise => dw_fwd(g, input, w, b, out),
        }
        relu(out);
    }
    let last = &a.a[LAYERS.len() - 1];
    a.pool.iter_mut().for_each(|v| *v = 0.0);
    for (pos, chunk) in last.chunks(FEAT).enumerate() {
        let t = pos / POOL_N;
        for (s, &v) in a.pool[t * FEAT..][..FEAT].iter_mut().zip(chunk) {
            *s += v;
        }
    }
    a.pool.iter_mut().for_each(|v| *v /= POOL_N as f32);
    dense(p, a);
}

fn dense(p: &Params, a: &mut Acts) {
    for o in 0..p.classes() {
        let w = &p.wf[o * DENSE_IN..][..DENSE_IN];
        a.logits[o] = p.bf[o] + w.iter().zip(&a.pool).map(|(a, b)| a * b).sum::<f32>();
    }
}

/// Training-time dropout on the dense layer's inputs, after [`forward`]: each pooled value is
/// zeroed with probability `rate` (the rest scaled by 1/(1 − rate)) and the logits recomputed;
/// [`backward`] applies the same mask. `rate` ≤ 0 does nothing.
pub fn dropout(p: &Params, a: &mut Acts, rate: f32, r: &mut Rng) {
    if !(rate > 0.0 && rate < 1.0) {
        return;
    }
    let scale = 1.0 / (1.0 - rate);
    a.keep.clear();
    for v in a.pool.iter_mut() {
        let k = if r.unit() < rate { 0.0 } else { scale };
        *v *= k;
        a.keep.push(k);
    }
    dense(p, a);
}

/// Scratch for [`backward`].
#[derive(Clone, Debug)]
pub struct Grads {
    /// Parameter gradients (accumulated over a batch).
    pub p: Params,
    d: Vec<Vec<f32>>,
}

impl Grads {
    /// Zeroed gradients for `classes` outputs.
    pub fn new(classes: usize) -> Grads {
        Grads {
            p: Params::zeros(classes),
            d: LAYERS.iter().map(|(_, g)| vec![0.0; g.out_len()]).collect(),
        }
    }
}

/// Cross-entropy loss of the forward pass in `a` against `label`; accumulates gradients of
/// the dense layer and of the convolution layers from `frozen` on (the first `frozen` layers
/// get none: a transfer from a base keeps them fixed, and the backward pass stops there).
pub fn backward(p: &Params, a: &Acts, label: usize, g: &mut Grads, frozen: usize) -> f32 {
    let k = p.classes();
    let mut prob = vec![0.0; k];
    softmax(&a.logits, &mut prob);
    let loss = -libm::logf(prob[label].max(1e-12));
    let mut dl = prob;
    dl[label] -= 1.0;
    let mut dpool = [0.0f32; DENSE_IN];
    for (o, &d) in dl.iter().enumerate() {
        g.p.bf[o] += d;
        let w = &p.wf[o * DENSE_IN..][..DENSE_IN];
        let gw = &mut g.p.wf[o * DENSE_IN..][..DENSE_IN];
        for c in 0..DENSE_IN {
            gw[c] += d * a.pool[c];
            dpool[c] += d * w[c];
        }
    }
    let n = LAYERS.len();
    if frozen >= n {
        return loss;
    }
    for (d, &k) in dpool.iter_mut().zip(&a.keep) {
        *d *= k;
    }
    let inv = 1.0 / POOL_N as f32;
    for pos in 0..POOL_T * POOL_N {
        let t = pos / POOL_N;
        for c in 0..FEAT {
            let i = pos * FEAT + c;
            let live = a.a[n - 1][i] > 0.0;
            g.d[n - 1][i] = if live { dpool[t * FEAT + c] * inv } else { 0.0 };
        }
    }
    for i in (frozen..n).rev() {
        let (kind, geom) = &LAYERS[i];
        let (w, _) = &p.conv[i];
        let (gw, gb) = &mut g.p.conv[i];
        let (dprev, dcur) = g.d.split_at_mut(i);
        let dy = &dcur[0];
        let input = if i == 0 { &a.x[..] } else { &a.a[i - 1][..] };
        let mut dx = dprev.last_mut();
        if let Some(dx) = dx.as_deref_mut() {
            dx.iter_mut().for_each(|v| *v = 0.0);
        }
        match kind {
            Kind::Conv => conv_bwd(
                geom,
                input,
                w,
                dy,
                gw,
                gb,
                dx.as_deref_mut().map(|v| &mut v[..]),
            ),
            Kind::Depthwise => {
                if let Some(dx) = dx.as_deref_mut() {
                    dw_bwd(geom, input, w, dy, gw, gb, dx);
                }
            }
        }
        if let Some(dx) = dx {
            for (d, &v) in dx.iter_mut().zip(&a.a[i - 1]) {
                if v <= 0.0 {
                    *d = 0.0;
                }
            }
        }
    }
    loss
}

/// Adam optimizer state.
#[derive(Clone, Debug)]
pub struct Adam {
    m: Params,
    v: Params,
    t: i32,
}

impl Adam {
    /// Fresh state for `classes` outputs.
    pub fn new(classes: usize) -> Adam {
        Adam {
            m: Params::zeros(classes),
            v: Params::zeros(classes),
            t: 0,
        }
    }

    /// One step with learning rate `lr` on gradients summed over `batch` examples (then
    /// zeroes them).
    pub fn step(&mut self, p: &mut Params, g: &mut Params, lr: f32, batch: usize) {
        const B1: f32 = 0.9;
        const B2: f32 = 0.999;
        self.t += 1;
        let c1 = 1.0 - libm::powf(B1, self.t as f32);
        let c2 = 1.0 - libm::powf(B2, self.t as f32);
        let scale = 1.0 / batch.max(1) as f32;
        let (pm, pv) = (self.m.tensors_mut(), self.v.tensors_mut());
        for (((pt, gt), mt), vt) in p
            .tensors_mut()
            .into_iter()
            .zip(g.tensors_mut())
            .zip(pm)
            .zip(pv)
        {
            for i in 0..pt.len() {
                let gr = gt[i] * scale;
                mt[i] = B1 * mt[i] + (1.0 - B1) * gr;
                vt[i] = B2 * vt[i] + (1.0 - B2) * gr * gr;
                pt[i] -= lr * (mt[i] / c1) / (libm::sqrtf(vt[i] / c2) + 1e-8);
            }
        }
        g.fill(0.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn geometry_matches_tflite_same_padding() {
        let g: Vec<_> = LAYERS
            .iter()
            .map(|(_, g)| (g.oh, g.ow, g.pt, g.pl))
            .collect();
        assert_eq!(
            g,
            [
                (25, 20, 4, 1),
                (13, 10, 1, 0),
                (13, 10, 0, 0),
                (13, 10, 1, 1),
                (13, 10, 0, 0)
            ]
        );
        // Each layer reads what the previous one writes.
        for w in LAYERS.windows(2) {
            assert_eq!(
                (w[0].1.oh, w[0].1.ow, w[0].1.oc),
                (w[1].1.ih, w[1].1.iw, w[1].1.ic)
            );
        }
    }

    /// Three-class parameters, random features and their forward pass, from `seed`.
    fn setup(seed: u64) -> (Params, Vec<i8>, Acts, Rng) {
        let mut r = Rng::new(seed);
        let p = Params::init(3, &mut r);
        let feats: Vec<i8> = (0..IN_H * IN_W)
            .map(|_| (r.below(200) as i32 - 100) as i8)
            .collect();
        let mut a = Acts::new(3);
        forward(&p, &feats, &mut a);
        (p, feats, a, r)
    }

    /// The analytic gradient of one weight per layer equals a finite difference.
    #[test]
    fn gradients_match_finite_differences() {
        let (p, feats, a, _) = setup(4);
        let mut g = Grads::new(3);
        backward(&p, &a, 1, &mut g, 0);
        let loss = |p: &Params| {
            let mut a = Acts::new(3);
            forward(p, &feats, &mut a);
            let mut pr = [0.0; 3];
            softmax(&a.logits, &mut pr);
            -(pr[1] as f64).ln()
        };
        let idx = [
            (0usize, 5usize),
            (2, 7),
            (4, 11),
            (6, 9),
            (8, 20),
            (10, 9),
            (1, 3),
            (7, 2),
        ];
        for (t, i) in idx {
            let mut q = p.clone();
            let h = 1e-2f32;
            q.tensors_mut()[t][i] += h; // tensors: w0 b0 w1 b1 … wf bf
            let up = loss(&q);
            q.tensors_mut()[t][i] -= 2.0 * h;
            let down = loss(&q);
            let num = (up - down) / (2.0 * h as f64);
            let mut gp = g.p.clone();
            let ana = gp.tensors_mut()[t][i] as f64;
            assert!(
                (num - ana).abs() < 2e-3 + 0.05 * ana.abs(),
                "tensor {t}[{i}]: {num} vs {ana}"
            );
        }
    }

    /// Frozen layers get no gradient; the others get exactly what a full pass gives them.
    #[test]
    fn frozen_layers_get_no_gradient() {
        let (p, _, a, _) = setup(6);
        let mut full = Grads::new(3);
        backward(&p, &a, 2, &mut full, 0);
        for frozen in [2, LAYERS.len()] {
            let mut g = Grads::new(3);
            backward(&p, &a, 2, &mut g, frozen);
            for (i, ((w, b), (fw, fb))) in g.p.conv.iter().zip(&full.p.conv).enumerate() {
                if i < frozen {
                    assert!(w.iter().chain(b).all(|&x| x == 0.0), "layer {i}");
                } else {
                    assert_eq!((w, b), (fw, fb), "layer {i}");
                }
            }
            assert_eq!((&g.p.wf, &g.p.bf), (&full.p.wf, &full.p.bf));
        }
    }

    /// Dropped inputs give their dense weights no gradient and send none down the network.
    #[test]
    fn dropout_masks_forward_and_backward() {
        let (p, feats, mut a, mut r) = setup(8);
        let before = a.logits.clone();
        dropout(&p, &mut a, 0.0, &mut r);
        assert_eq!(a.logits, before);
        dropout(&p, &mut a, 0.5, &mut r);
        assert_eq!(a.keep.len(), DENSE_IN);
        let dropped: Vec<usize> = (0..DENSE_IN).filter(|&c| a.keep[c] == 0.0).collect();
        assert!(!dropped.is_empty() && dropped.len() < DENSE_IN);
        let mut g = Grads::new(3);
        backward(&p, &a, 1, &mut g, 0);
        for &c in &dropped {
            for o in 0..3 {
                assert_eq!(g.p.wf[o * DENSE_IN + c], 0.0);
            }
        }
        // A fresh forward pass clears the mask.
        forward(&p, &feats, &mut a);
        assert!(a.keep.is_empty());
        assert_eq!(a.logits, before);
    }
}
