//! Which call participants' sessions hold a socket on another node. A participant
//! leaves after its *session* has had no socket for the grace, whatever the user's other
//! sessions do, so the node hosting a call asks every node, each round, about its
//! participants' sessions without a socket here (`Broadcast::SocketsAsked`), and the
//! nodes holding one of them answer (`Broadcast::SocketsHeld`). An answer keeps its
//! sessions connected for two rounds and a second; a session no node has named since
//! counts as gone from the round after its last answer.

use chatter_core::SessionId;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// Whether a session holds a socket, as far as this node knows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocketState {
    /// On this node, or named by another node lately.
    Held,
    /// No node holds one: since when, if another node named it before.
    Away {
        /// When it was last known to hold one.
        since: Option<Instant>,
    },
}

/// Sessions named by other nodes, and when.
#[derive(Debug)]
pub struct SocketsElsewhere {
    seen: Mutex<HashMap<SessionId, Instant>>,
    /// How often the hosting node asks.
    every: Duration,
}

impl SocketsElsewhere {
    /// Answers to questions asked every `every`.
    pub fn new(every: Duration) -> Self {
        Self { seen: Mutex::default(), every }
    }

    /// How long an answer counts: two rounds (one answer may be late or lost) and a
    /// second.
    fn fresh_for(&self) -> Duration {
        self.every * 2 + Duration::from_secs(1)
    }

    fn seen(&self) -> std::sync::MutexGuard<'_, HashMap<SessionId, Instant>> {
        self.seen.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Another node holds a socket of each of `sessions`.
    pub fn held(&self, sessions: &[SessionId], at: Instant) {
        let mut seen = self.seen();
        for session in sessions {
            seen.insert(session.clone(), at);
        }
    }

    /// Whether `session_id` holds a socket at `now`: `here` (on this node), else as the
    /// other nodes last said. A session held here is forgotten from their answers, which
    /// then stop (it is not asked about): once it goes from here, it is away from then.
    pub fn state(&self, session_id: &SessionId, here: bool, now: Instant) -> SocketState {
        if here {
            self.seen().remove(session_id);
            return SocketState::Held;
        }
        match self.seen().get(session_id) {
            Some(&at) if now.saturating_duration_since(at) <= self.fresh_for() => SocketState::Held,
            // It was there at `at` and may have stayed until the next round asked.
            Some(&at) => SocketState::Away { since: Some(at + self.every) },
            None => SocketState::Away { since: None },
        }
    }

    /// A round whose question could not go out (the broker's Redis is away): sessions
    /// that counted as connected stay so, rather than leave for want of an answer.
    pub fn unknown_round(&self, now: Instant) {
        let fresh_for = self.fresh_for();
        for at in self.seen().values_mut() {
            if now.saturating_duration_since(*at) <= fresh_for {
                *at = now;
            }
        }
    }

    /// Forgets answers far older than any grace needs.
    pub fn forget_old(&self, now: Instant, older_than: Duration) {
        self.seen().retain(|_, at| now.saturating_duration_since(*at) <= older_than);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_answer_counts_for_two_rounds_and_a_second_then_the_session_is_away_from_the_round_after() {
        let every = Duration::from_secs(3);
        let sockets = SocketsElsewhere::new(every);
        let (s, other) = (SessionId::new("s"), SessionId::new("o"));
        let t0 = Instant::now();
        assert_eq!(sockets.state(&s, false, t0), SocketState::Away { since: None }, "never named");
        sockets.held(std::slice::from_ref(&s), t0);
        assert_eq!(sockets.state(&s, false, t0 + Duration::from_secs(7)), SocketState::Held);
        assert_eq!(
            sockets.state(&s, false, t0 + Duration::from_secs(8)),
            SocketState::Away { since: Some(t0 + every) }
        );
        assert_eq!(sockets.state(&other, false, t0), SocketState::Away { since: None });
    }

    #[test]
    fn a_round_that_could_not_ask_keeps_the_connected_connected_but_not_the_gone() {
        let sockets = SocketsElsewhere::new(Duration::from_secs(1));
        let (fresh, stale) = (SessionId::new("fresh"), SessionId::new("stale"));
        let t0 = Instant::now();
        sockets.held(std::slice::from_ref(&stale), t0);
        sockets.held(std::slice::from_ref(&fresh), t0 + Duration::from_secs(3));
        let t1 = t0 + Duration::from_secs(5);
        sockets.unknown_round(t1);
        assert_eq!(sockets.state(&fresh, false, t1 + Duration::from_secs(3)), SocketState::Held);
        assert!(matches!(sockets.state(&stale, false, t1), SocketState::Away { .. }));
        sockets.forget_old(t1, Duration::from_secs(4));
        assert_eq!(sockets.state(&stale, false, t1), SocketState::Away { since: None }, "forgotten");
    }

    #[test]
    fn a_session_that_moved_here_and_went_is_away_from_when_it_went_not_from_an_old_answer() {
        let sockets = SocketsElsewhere::new(Duration::from_secs(3));
        let s = SessionId::new("s");
        let t0 = Instant::now();
        sockets.held(std::slice::from_ref(&s), t0);
        // Its socket moved to this node: the old answer no longer counts.
        assert_eq!(sockets.state(&s, true, t0 + Duration::from_secs(20)), SocketState::Held);
        assert_eq!(sockets.state(&s, false, t0 + Duration::from_secs(21)), SocketState::Away { since: None });
        // Gone from here right after another node named it: not held on that word alone.
        sockets.held(std::slice::from_ref(&s), t0 + Duration::from_secs(22));
        assert_eq!(sockets.state(&s, true, t0 + Duration::from_secs(23)), SocketState::Held);
        assert_eq!(sockets.state(&s, false, t0 + Duration::from_secs(23)), SocketState::Away { since: None });
    }
}
