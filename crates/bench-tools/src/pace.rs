//! Rate pacing for senders on their own OS thread: `due()` says how many
//! items should have been sent by now at `rate` per second; the sender
//! sends the difference and sleeps a millisecond.

use std::time::{Duration, Instant};

/// A constant-rate schedule from a start instant.
pub struct Pacer {
    start: Instant,
    rate: f64,
}

impl Pacer {
    pub fn new(rate: f64) -> Pacer {
        Pacer {
            start: Instant::now(),
            rate,
        }
    }

    /// Items due since the start.
    pub fn due(&self) -> u64 {
        (self.start.elapsed().as_secs_f64() * self.rate) as u64
    }

    pub fn elapsed(&self) -> Duration {
        self.start.elapsed()
    }

    /// Sleep a little when nothing is due.
    pub fn idle() {
        std::thread::sleep(Duration::from_micros(500));
    }
}
