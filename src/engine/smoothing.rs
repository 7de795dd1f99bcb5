//! Exponential smoothing of the per-hop probabilities, restarted at each utterance.
//!
//! `y[t] = y[t-1] + a * (x[t] - y[t-1])` with `a = 1 - exp(-hop / tau)`: after `tau` of a
//! steady input the output has moved 63 % of the way. A convex combination of
//! probability vectors stays a probability vector.

use super::snapshot::Probabilities;

/// Smooths probability vectors over hops.
#[derive(Debug, Clone)]
pub struct Smoother {
    alpha: f32,
    state: Option<Probabilities>,
}

impl Smoother {
    /// A smoother with time constant `tau_ms` for inputs `hop_ms` apart (`tau_ms <= 0`:
    /// no smoothing).
    pub fn new(tau_ms: f32, hop_ms: f32) -> Self {
        let alpha = if tau_ms > 0.0 { 1.0 - (-hop_ms / tau_ms).exp() } else { 1.0 };
        Self { alpha, state: None }
    }

    /// Weight of the newest input.
    pub fn alpha(&self) -> f32 {
        self.alpha
    }

    /// Forgets the past: the next input passes unchanged.
    pub fn reset(&mut self) {
        self.state = None;
    }

    /// Takes one input and returns the smoothed vector.
    pub fn update(&mut self, x: &Probabilities) -> Probabilities {
        let y = match &mut self.state {
            // No smoothing passes the input through exactly (`y + (x - y)` may round).
            None => *x,
            Some(_) if self.alpha >= 1.0 => *x,
            Some(y) => {
                for (yi, &xi) in y.iter_mut().zip(x) {
                    *yi += self.alpha * (xi - *yi);
                }
                *y
            }
        };
        self.state = Some(y);
        y
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn onehot(i: usize) -> Probabilities {
        let mut p = [0.0; 7];
        p[i] = 1.0;
        p
    }

    /// After one time constant of a new steady input, 63 % of the step is done; sums stay 1.
    #[test]
    fn step_response_follows_the_time_constant() {
        let mut s = Smoother::new(100.0, 10.0);
        assert_eq!(s.update(&onehot(0)), onehot(0), "first input passes unchanged");
        let mut y = onehot(0);
        for _ in 0..10 {
            y = s.update(&onehot(1));
        }
        assert!((y[1] - (1.0 - (-1.0f32).exp())).abs() < 1e-5, "{}", y[1]);
        assert!((y.iter().sum::<f32>() - 1.0).abs() < 1e-6);
        s.reset();
        assert_eq!(s.update(&onehot(3)), onehot(3));
    }

    #[test]
    fn zero_time_constant_is_no_smoothing() {
        let mut s = Smoother::new(0.0, 10.0);
        s.update(&onehot(0));
        assert_eq!(s.update(&onehot(2)), onehot(2));
        let x = [0.1, 0.2, 0.05, 0.15, 0.3, 0.1, 0.1];
        assert_eq!(s.update(&x), x, "exactly the input");
    }
}
