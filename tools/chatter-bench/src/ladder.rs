//! The rates a scenario tries, rising until a step fails, then refined below it.

/// The rates to try: up by `factor` until a step fails, then up from the last passing
/// rate by the finer `refine` factor while below the failed rate, so the result is
/// within `refine` of the capacity rather than within `factor`.
#[derive(Debug)]
pub struct Ladder {
    /// The next rate to try, if any.
    pub next: Option<f64>,
    factor: f64,
    refine: f64,
    last_pass: Option<f64>,
    failed_at: Option<f64>,
}

impl Ladder {
    /// Starts at `start`, rising by `factor`, refining by `refine`.
    pub fn new(start: f64, factor: f64, refine: f64) -> Self {
        Self { next: Some(start), factor, refine, last_pass: None, failed_at: None }
    }

    /// Records the outcome of the step at `self.next`; answers whether it was the first
    /// failure (the caller lets the server recover before refining).
    pub fn record(&mut self, passed: bool) -> bool {
        let Some(rate) = self.next else { return false };
        let first_failure = !passed && self.failed_at.is_none();
        if passed {
            self.last_pass = Some(rate);
        } else if self.failed_at.is_none() {
            self.failed_at = Some(rate);
        }
        self.next = match (passed, self.failed_at) {
            (true, None) => Some(rate * self.factor),
            (_, Some(failed)) if self.refine > 1.0 && (passed || first_failure) => {
                self.last_pass.map(|p| p * self.refine).filter(|&r| r < failed * 0.999)
            }
            _ => None,
        };
        first_failure
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_ladder_climbs_coarsely_then_refines_below_the_first_failure() {
        let mut ladder = Ladder::new(100.0, 2.0, 1.1);
        let mut tried = Vec::new();
        // Capacity 450: passes below it, fails above.
        while let Some(rate) = ladder.next {
            tried.push(rate.round() as u64);
            ladder.record(rate <= 450.0);
        }
        assert_eq!(tried, [100, 200, 400, 800, 440, 484]);
        let mut once = Ladder::new(100.0, 2.0, 1.0);
        once.record(true);
        once.record(false);
        assert_eq!(once.next, None, "refinement off");
    }
}
