//! Who is speaking in a call, from the audio level each publisher's packets carry (RFC
//! 6464: 0 is the loudest, -127 silence). Levels are smoothed per participant; someone
//! speaks while the smoothed level is above a threshold and packets keep coming. The
//! answer changes at most every `EVERY`, so the event does not flap.

use chatter_core::ParticipantId;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// How often the speakers are re-decided.
pub const EVERY: Duration = Duration::from_millis(300);
/// Smoothed level (dBov) above which a participant speaks.
const SPEAKING_DBOV: f32 = -50.0;
/// Silence assumed after this long without a level.
const STALE: Duration = Duration::from_millis(600);
/// Weight of a new sample in the smoothed level (50 packets/s: ~0.2 s to follow).
const ALPHA: f32 = 0.1;
/// Speakers named, loudest first.
const MAX_SPEAKERS: usize = 3;

#[derive(Debug)]
struct Level {
    smoothed: f32,
    heard: Instant,
}

/// One call's speaker detection.
#[derive(Debug, Default)]
pub struct Speakers {
    levels: HashMap<ParticipantId, Level>,
    current: Vec<ParticipantId>,
    decided: Option<Instant>,
}

impl Speakers {
    /// A packet from `participant` carried `level` (-dBov).
    pub fn observe(&mut self, participant: &ParticipantId, level: i8, now: Instant) {
        let dbov = f32::from(level.clamp(-127, 0));
        match self.levels.get_mut(participant) {
            Some(l) => {
                l.smoothed += ALPHA * (dbov - l.smoothed);
                l.heard = now;
            }
            None => {
                self.levels.insert(participant.clone(), Level { smoothed: dbov, heard: now });
            }
        }
    }

    /// The participant left.
    pub fn forget(&mut self, participant: &ParticipantId) {
        self.levels.remove(participant);
    }

    /// The new speakers, if they changed and it is time to decide again.
    pub fn decide(&mut self, now: Instant) -> Option<Vec<ParticipantId>> {
        if self.decided.is_some_and(|at| now.duration_since(at) < EVERY) {
            return None;
        }
        self.decided = Some(now);
        let mut speaking: Vec<(&ParticipantId, f32)> = self
            .levels
            .iter()
            .filter(|(_, l)| now.duration_since(l.heard) < STALE && l.smoothed > SPEAKING_DBOV)
            .map(|(p, l)| (p, l.smoothed))
            .collect();
        speaking.sort_by(|a, b| b.1.total_cmp(&a.1).then_with(|| a.0.cmp(b.0)));
        let speakers: Vec<ParticipantId> = speaking.into_iter().take(MAX_SPEAKERS).map(|(p, _)| p.clone()).collect();
        if speakers == self.current {
            return None;
        }
        self.current = speakers.clone();
        Some(speakers)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_loud_one_speaks_and_silence_ends_it() {
        let (a, b) = (ParticipantId::new("a"), ParticipantId::new("b"));
        let mut s = Speakers::default();
        let t0 = Instant::now();
        for i in 0..50 {
            let at = t0 + Duration::from_millis(20 * i);
            s.observe(&a, -20, at);
            s.observe(&b, -90, at);
        }
        assert_eq!(s.decide(t0 + Duration::from_secs(1)), Some(vec![a.clone()]));
        // Unchanged: nothing new to say; too soon: not decided again.
        assert_eq!(s.decide(t0 + Duration::from_millis(1400)), None);
        // `a` stops sending: after the stale time nobody speaks.
        assert_eq!(s.decide(t0 + Duration::from_secs(3)), Some(vec![]));
        s.observe(&b, -10, t0 + Duration::from_secs(4));
        assert_eq!(s.decide(t0 + Duration::from_millis(4100)), None, "one loud packet after silence is not speech");
        s.forget(&b);
        assert!(!s.levels.contains_key(&b));
    }
}
