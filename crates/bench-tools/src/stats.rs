//! Latency samples and percentiles.

/// Latency samples in milliseconds.
#[derive(Debug, Clone, Default)]
pub struct Samples(pub Vec<i64>);

impl Samples {
    pub fn push(&mut self, ms: i64) {
        self.0.push(ms);
    }

    pub fn extend(&mut self, other: &Samples) {
        self.0.extend_from_slice(&other.0);
    }

    pub fn len(&self) -> usize {
        self.0.len()
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Percentiles `ps` (0–100) by nearest rank; None when empty.
    pub fn percentiles(&mut self, ps: &[f64]) -> Option<Vec<i64>> {
        if self.0.is_empty() {
            return None;
        }
        self.0.sort_unstable();
        let n = self.0.len();
        Some(
            ps.iter()
                .map(|p| {
                    let rank = ((p / 100.0) * n as f64).ceil() as usize;
                    self.0[rank.clamp(1, n) - 1]
                })
                .collect(),
        )
    }

    /// `p50 … p99 … max` as text.
    pub fn summary(&mut self) -> String {
        match self.percentiles(&[50.0, 90.0, 99.0, 100.0]) {
            Some(v) => format!(
                "p50 {} ms, p90 {} ms, p99 {} ms, max {} ms ({} samples)",
                v[0],
                v[1],
                v[2],
                v[3],
                self.0.len()
            ),
            None => "no samples".into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nearest_rank() {
        let mut s = Samples((1..=100).collect());
        assert_eq!(s.percentiles(&[50.0, 99.0, 100.0]), Some(vec![50, 99, 100]));
        assert_eq!(Samples::default().percentiles(&[50.0]), None);
    }
}
