//! Real FFT in `f32`: an N-point real transform as an N/2-point complex radix-2 FFT of the
//! even/odd-packed samples plus the usual split step. Plain `+ − ×` only (no fused
//! multiply-add), so every target computes the same bits.

use super::MAX_FFT;

/// A complex value.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cpx {
    /// Real part.
    pub r: f32,
    /// Imaginary part.
    pub i: f32,
}

impl Cpx {
    /// 0 + 0i.
    pub const ZERO: Cpx = Cpx { r: 0.0, i: 0.0 };

    fn mul(self, o: Cpx) -> Cpx {
        Cpx {
            r: self.r * o.r - self.i * o.i,
            i: self.r * o.i + self.i * o.r,
        }
    }
}

/// Twiddles for one power-of-two size.
#[derive(Clone)]
pub struct Fft {
    /// Real transform length N (a power of two, 4..=[`MAX_FFT`]).
    n: usize,
    /// `cos(2π·j/N)` for `j ≤ N/4`, computed in f64 and rounded once; the twiddles
    /// `exp(−2πi·k/N)` are read from this quarter wave.
    cos: [f32; MAX_FFT / 4 + 1],
}

impl Fft {
    /// No size planned.
    pub const EMPTY: Fft = Fft {
        n: 0,
        cos: [0.0; MAX_FFT / 4 + 1],
    };

    /// Build the twiddles for an `n`-point real transform (`n` a power of two ≤ [`MAX_FFT`];
    /// the caller has checked it).
    pub fn plan(&mut self, n: usize) {
        self.n = n.min(MAX_FFT);
        for (j, c) in self.cos.iter_mut().enumerate() {
            *c = libm::cos(core::f64::consts::TAU * j as f64 / self.n as f64) as f32;
        }
    }

    /// `exp(−2πi·k/N)` for `k < N/2`.
    fn tw(&self, k: usize) -> Cpx {
        let q = self.n / 4;
        let c = |j: usize| self.cos.get(j).copied().unwrap_or(0.0);
        if k <= q {
            Cpx {
                r: c(k),
                i: -c(q - k),
            }
        } else {
            Cpx {
                r: -c(2 * q - k),
                i: -c(k - q),
            }
        }
    }

    /// `buf[..N/2]` holds `x[2j] + i·x[2j+1]`; on return `buf[..=N/2]` holds the real
    /// transform's bins 0..=N/2 (`X_k = Σ x_t·exp(−2πi·k·t/N)`).
    pub fn real_forward(&self, buf: &mut [Cpx]) {
        let m = self.n / 2;
        if m < 2 || buf.len() < m + 1 {
            return;
        }
        self.complex_forward(&mut buf[..m]);
        // Split: with a = Z_k, b = Z_{M−k}: E = (a + b*)/2, O = (a − b*)/(2i),
        // X_k = E + W^k·O and X_{M−k} = (E − W^k·O)*.
        let z0 = buf[0];
        buf[0] = Cpx {
            r: z0.r + z0.i,
            i: 0.0,
        };
        buf[m] = Cpx {
            r: z0.r - z0.i,
            i: 0.0,
        };
        for k in 1..=m / 2 {
            let (a, b) = (buf[k], buf[m - k]);
            let e = Cpx {
                r: (a.r + b.r) * 0.5,
                i: (a.i - b.i) * 0.5,
            };
            // (a − b*)/(2i) = (d.i − i·d.r)/2 with d = a − b*.
            let o = Cpx {
                r: (a.i + b.i) * 0.5,
                i: -(a.r - b.r) * 0.5,
            };
            let wo = self.tw(k).mul(o);
            buf[k] = Cpx {
                r: e.r + wo.r,
                i: e.i + wo.i,
            };
            buf[m - k] = Cpx {
                r: e.r - wo.r,
                i: -(e.i - wo.i),
            };
        }
    }

    /// In-place radix-2 decimation-in-time FFT of `buf.len()` = N/2 points (twiddles
    /// `exp(−2πi·k/(N/2))` = `tw(2k)`).
    fn complex_forward(&self, buf: &mut [Cpx]) {
        let m = buf.len();
        let bits = m.trailing_zeros();
        for i in 0..m {
            let j = i.reverse_bits() >> (usize::BITS - bits);
            if j > i {
                buf.swap(i, j);
            }
        }
        let mut len = 2;
        while len <= m {
            let stride = self.n / len; // exp(−2πi·k/len) = tw(k·N/len)
                                       // Twiddle-outer order: each twiddle is read once per stage (the butterflies are
                                       // independent, so the order does not change any result).
            for k in 0..len / 2 {
                let w = self.tw(k * stride);
                for start in (0..m).step_by(len) {
                    let (p, q) = (start + k, start + k + len / 2);
                    let t = w.mul(buf[q]);
                    let u = buf[p];
                    buf[p] = Cpx {
                        r: u.r + t.r,
                        i: u.i + t.i,
                    };
                    buf[q] = Cpx {
                        r: u.r - t.r,
                        i: u.i - t.i,
                    };
                }
            }
            len *= 2;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::vec::Vec;

    #[test]
    fn matches_a_direct_dft() {
        for n in [4usize, 16, 512] {
            let x: Vec<f32> = (0..n)
                .map(|t| libm::sinf(t as f32 * 0.37) + (t % 5) as f32 * 0.1)
                .collect();
            let mut fft = Fft::EMPTY;
            fft.plan(n);
            let mut buf = [Cpx::ZERO; MAX_FFT / 2 + 1];
            for j in 0..n / 2 {
                buf[j] = Cpx {
                    r: x[2 * j],
                    i: x[2 * j + 1],
                };
            }
            fft.real_forward(&mut buf[..=n / 2]);
            for (k, got) in buf.iter().take(n / 2 + 1).enumerate() {
                let (mut re, mut im) = (0f64, 0f64);
                for (t, &v) in x.iter().enumerate() {
                    let a = -core::f64::consts::TAU * (k * t % n) as f64 / n as f64;
                    re += f64::from(v) * libm::cos(a);
                    im += f64::from(v) * libm::sin(a);
                }
                let tol = 1e-4 * n as f64;
                assert!(
                    (f64::from(got.r) - re).abs() < tol && (f64::from(got.i) - im).abs() < tol,
                    "n {n} k {k}: {got:?} vs {re} {im}"
                );
            }
        }
    }
}
