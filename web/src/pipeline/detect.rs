//! Scores → detections: for each label that may fire, the mean of its last `window` scores
//! must reach the cutoff; after a detection every label's window is cleared and the next
//! `refractory` invocations are ignored, so one utterance fires once (microWakeWord's
//! sliding-window rule and ESPHome's pause after a detection; TFLM micro_speech's
//! `RecognizeCommands` likewise suppresses repeats for a while).

/// Sliding-window detector over per-label scores.
#[derive(Clone, Debug)]
pub struct Detector {
    cutoff: f32,
    window: usize,
    fires: Vec<bool>,
    /// Invocations ignored after a detection.
    refractory: usize,
    /// Invocations still to ignore.
    ignore: usize,
    /// Per label: the last `window` scores (ring) and how many are valid.
    rings: Vec<Vec<f32>>,
    next: usize,
    filled: usize,
}

/// A detection: which label, and the window mean that crossed the cutoff.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Hit {
    /// Index into the labels.
    pub label: usize,
    /// Sliding-window mean, 0..1.
    pub score: f32,
}

impl Detector {
    /// A detector for `fires.len()` labels (`fires[i]`: label i may fire) that ignores
    /// `refractory` invocations after each detection.
    pub fn new(cutoff: f32, window: usize, fires: Vec<bool>, refractory: usize) -> Detector {
        let window = window.max(1);
        let rings = vec![vec![0.0; window]; fires.len()];
        Detector { cutoff, window, rings, fires, refractory, ignore: 0, next: 0, filled: 0 }
    }

    /// Adds one invocation's scores; returns the best label whose window mean reached the cutoff.
    pub fn push(&mut self, scores: &[f32]) -> Option<Hit> {
        if self.ignore > 0 {
            self.ignore -= 1;
            return None;
        }
        for (ring, &s) in self.rings.iter_mut().zip(scores) {
            if let Some(slot) = ring.get_mut(self.next) {
                *slot = s;
            }
        }
        self.next = (self.next + 1) % self.window;
        self.filled = (self.filled + 1).min(self.window);
        if self.filled < self.window {
            return None;
        }
        let best = self
            .rings
            .iter()
            .zip(&self.fires)
            .enumerate()
            .filter(|(_, (_, &fires))| fires)
            .map(|(i, (ring, _))| Hit { label: i, score: ring.iter().sum::<f32>() / self.window as f32 })
            .filter(|h| h.score >= self.cutoff)
            .max_by(|a, b| a.score.total_cmp(&b.score));
        if best.is_some() {
            self.filled = 0;
            self.ignore = self.refractory;
        }
        best
    }

    /// Current sliding-window mean of label `i` (0 until the window is full).
    pub fn mean(&self, i: usize) -> f32 {
        match self.rings.get(i) {
            Some(ring) if self.filled == self.window => ring.iter().sum::<f32>() / self.window as f32,
            _ => 0.0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fires_once_when_the_window_mean_reaches_the_cutoff() {
        let mut d = Detector::new(0.5, 3, vec![true], 2);
        assert_eq!(d.push(&[0.9]), None); // window not full yet
        assert_eq!(d.push(&[0.9]), None);
        let hit = d.push(&[0.0]).unwrap();
        assert_eq!(hit.label, 0);
        assert!((hit.score - 0.6).abs() < 1e-6);
        // Two ignored, then the cleared window needs three fresh scores.
        assert_eq!(d.push(&[1.0]), None);
        assert_eq!(d.push(&[1.0]), None);
        assert_eq!(d.push(&[1.0]), None);
        assert_eq!(d.push(&[1.0]), None);
        assert!(d.push(&[1.0]).is_some());
    }

    #[test]
    fn background_labels_never_fire_and_best_label_wins() {
        let mut d = Detector::new(0.5, 1, vec![false, true, true], 0);
        assert_eq!(d.push(&[1.0, 0.0, 0.0]), None);
        assert_eq!(d.push(&[0.0, 0.6, 0.9]), Some(Hit { label: 2, score: 0.9 }));
    }

    #[test]
    fn below_cutoff_never_fires() {
        let mut d = Detector::new(0.85, 5, vec![true], 0);
        for _ in 0..100 {
            assert_eq!(d.push(&[0.84]), None);
        }
        assert!((d.mean(0) - 0.84).abs() < 1e-6);
    }
}
