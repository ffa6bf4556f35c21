//! The client's side of SDP negotiation with the SFU: "perfect negotiation" with the
//! client as the polite peer. The client makes the first offer; later either side may
//! offer; when both offer at once the client rolls its own offer back and answers the
//! server's, then offers again if it still needs to.
//!
//! The host drives its own WebRTC stack and asks this machine what to do at each step,
//! so the browser, mobile and native clients negotiate the same way.

/// What the host does with an offer that arrived from the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NegotiationStep {
    /// Apply the offer, create an answer, apply it locally and send it.
    Answer,
    /// Roll the local offer back first (glare), then answer as above.
    RollbackThenAnswer,
}

/// Where the client's negotiation stands.
#[derive(Debug, Clone, Default)]
pub struct Negotiation {
    /// An offer of ours is being made or awaits its answer.
    offering: bool,
    /// Something changed while an exchange was running: offer again after it.
    wanted: bool,
}

impl Negotiation {
    /// Nothing negotiated yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// The local tracks changed (or the call starts): whether to create and send an
    /// offer now. When an exchange is running, the offer is owed and [`Self::answered`]
    /// or [`Self::answer_applied`] says when to make it.
    pub fn offer_needed(&mut self) -> bool {
        if self.offering {
            self.wanted = true;
            return false;
        }
        self.offering = true;
        self.wanted = false;
        true
    }

    /// Creating or sending the offer failed: the exchange is over, the need stays.
    pub fn offer_failed(&mut self) {
        self.offering = false;
        self.wanted = true;
    }

    /// An offer came from the server.
    pub fn remote_offer(&mut self) -> NegotiationStep {
        if self.offering {
            // Glare: the polite side yields; its changes are offered again afterwards.
            self.offering = false;
            self.wanted = true;
            NegotiationStep::RollbackThenAnswer
        } else {
            NegotiationStep::Answer
        }
    }

    /// The answer to the server's offer is applied and sent: whether to offer now.
    pub fn answered(&mut self) -> bool {
        self.take_wanted()
    }

    /// An answer came from the server: whether it answers an offer of ours (else it is
    /// stale, from an offer rolled back, and is dropped).
    pub fn remote_answer(&mut self) -> bool {
        std::mem::take(&mut self.offering)
    }

    /// The server's answer is applied: whether to offer now.
    pub fn answer_applied(&mut self) -> bool {
        self.take_wanted()
    }

    fn take_wanted(&mut self) -> bool {
        if self.wanted && !self.offering {
            self.wanted = false;
            self.offering = true;
            return true;
        }
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_exchange_at_a_time_and_owed_offers_follow() {
        let mut n = Negotiation::new();
        assert!(n.offer_needed());
        // A second change while the first offer runs is owed, not sent.
        assert!(!n.offer_needed());
        assert!(n.remote_answer());
        assert!(n.answer_applied(), "the owed offer follows the answer");
        assert!(n.remote_answer());
        assert!(!n.answer_applied());
        // A stray answer is dropped.
        assert!(!n.remote_answer());
    }

    #[test]
    fn on_glare_the_client_yields_and_offers_again() {
        let mut n = Negotiation::new();
        assert!(n.offer_needed());
        assert_eq!(n.remote_offer(), NegotiationStep::RollbackThenAnswer);
        assert!(n.answered(), "the rolled-back changes are offered again");
        // The server's answer to our rolled-back offer never comes; the new one's does.
        assert!(n.remote_answer());
        assert!(!n.answer_applied());
        assert_eq!(n.remote_offer(), NegotiationStep::Answer);
        assert!(!n.answered());
    }

    #[test]
    fn a_failed_offer_is_tried_again_after_the_next_exchange() {
        let mut n = Negotiation::new();
        assert!(n.offer_needed());
        n.offer_failed();
        assert_eq!(n.remote_offer(), NegotiationStep::Answer);
        assert!(n.answered());
    }
}
