//! A client's picture of a call: who is in it, what each publishes and under which mid
//! it arrives on this client's connection, who is speaking. Built from the join answer
//! and kept current by the server's call events.

use crate::id::{CallId, ParticipantId};
use crate::protocol::call::{JoinedCall, Participant, Track};
use crate::protocol::ws::CallEvent;

/// The call as this client knows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallView {
    call_id: CallId,
    me: ParticipantId,
    participants: Vec<Participant>,
    speakers: Vec<ParticipantId>,
}

impl CallView {
    /// The call just joined.
    pub fn new(joined: &JoinedCall) -> Self {
        Self {
            call_id: joined.call_id.clone(),
            me: joined.participant_id.clone(),
            participants: joined.participants.clone(),
            speakers: Vec::new(),
        }
    }

    /// The call's id.
    pub fn call_id(&self) -> &CallId {
        &self.call_id
    }

    /// This client's own participant id.
    pub fn me(&self) -> &ParticipantId {
        &self.me
    }

    /// Everyone in the call (this client included), in joining order.
    pub fn participants(&self) -> &[Participant] {
        &self.participants
    }

    /// One participant.
    pub fn participant(&self, id: &ParticipantId) -> Option<&Participant> {
        self.participants.iter().find(|p| &p.participant_id == id)
    }

    /// Who is speaking, loudest first.
    pub fn speakers(&self) -> &[ParticipantId] {
        &self.speakers
    }

    /// The remote track arriving on this client's connection under `mid`.
    pub fn track_by_mid(&self, mid: &str) -> Option<(&Participant, &Track)> {
        self.participants
            .iter()
            .filter(|p| p.participant_id != self.me)
            .find_map(|p| p.tracks.iter().find(|t| t.mid.as_deref() == Some(mid)).map(|t| (p, t)))
    }

    /// Applies a server event; false when it is about another call.
    pub fn apply(&mut self, event: &CallEvent) -> bool {
        if event.call_id() != &self.call_id {
            return false;
        }
        match event {
            CallEvent::ParticipantJoined { participant, .. } => {
                match self.participants.iter_mut().find(|p| p.participant_id == participant.participant_id) {
                    Some(known) => *known = participant.clone(),
                    None => self.participants.push(participant.clone()),
                }
            }
            CallEvent::ParticipantLeft { participant_id, .. } => {
                self.participants.retain(|p| &p.participant_id != participant_id);
                self.speakers.retain(|p| p != participant_id);
            }
            CallEvent::Track { participant_id, track, .. } => {
                if let Some(p) = self.participants.iter_mut().find(|p| &p.participant_id == participant_id) {
                    match p.tracks.iter_mut().find(|t| t.track_id == track.track_id) {
                        Some(known) => *known = track.clone(),
                        None => p.tracks.push(track.clone()),
                    }
                }
            }
            CallEvent::TrackRemoved { participant_id, track_id, .. } => {
                if let Some(p) = self.participants.iter_mut().find(|p| &p.participant_id == participant_id) {
                    p.tracks.retain(|t| &t.track_id != track_id);
                }
            }
            CallEvent::ActiveSpeaker { participant_ids, .. } => self.speakers = participant_ids.clone(),
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::id::UserId;
    use crate::protocol::call::{CallLeaveReason, TrackKind};

    fn participant(id: &str) -> Participant {
        Participant { participant_id: ParticipantId::new(id), user_id: UserId::new(id), tracks: vec![] }
    }

    #[test]
    fn events_keep_the_view_current() {
        let joined = JoinedCall {
            call_id: CallId::new("k"),
            participant_id: ParticipantId::new("me"),
            participants: vec![participant("a"), participant("me")],
            ice_servers: vec![],
        };
        let mut view = CallView::new(&joined);
        let k = CallId::new("k");
        let track = Track { track_id: "t".into(), kind: TrackKind::Audio, mid: Some("3".into()), muted: false };
        view.apply(&CallEvent::Track { call_id: k.clone(), participant_id: ParticipantId::new("a"), track });
        assert_eq!(view.track_by_mid("3").unwrap().0.participant_id, ParticipantId::new("a"));
        let muted = Track { track_id: "t".into(), kind: TrackKind::Audio, mid: Some("3".into()), muted: true };
        view.apply(&CallEvent::Track { call_id: k.clone(), participant_id: ParticipantId::new("a"), track: muted });
        assert!(view.participant(&ParticipantId::new("a")).unwrap().tracks[0].muted);
        view.apply(&CallEvent::ParticipantJoined { call_id: k.clone(), participant: participant("b") });
        view.apply(&CallEvent::ActiveSpeaker { call_id: k.clone(), participant_ids: vec![ParticipantId::new("a")] });
        view.apply(&CallEvent::ParticipantLeft {
            call_id: k.clone(),
            participant_id: ParticipantId::new("a"),
            reason: CallLeaveReason::Left,
        });
        assert_eq!(view.participants().len(), 2);
        assert!(view.speakers().is_empty());
        assert!(view.track_by_mid("3").is_none());
        let other = CallEvent::ParticipantJoined { call_id: CallId::new("x"), participant: participant("z") };
        assert!(!view.apply(&other));
    }
}
