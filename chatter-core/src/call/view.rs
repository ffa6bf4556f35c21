//! A client's picture of a call: who is in it, what each publishes and under which mid
//! it arrives on this client's connection, who is speaking. Built from the join answer
//! and kept current by the server's call events.

use crate::id::{CallId, ParticipantId};
use crate::protocol::call::{CallInfo, CallLeaveReason, JoinedCall, Participant, Track};
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

    /// The events that bring this view to `current`, the call as the server has it now
    /// (`None`: no call runs). Frames sent while this client had no socket are lost: it
    /// reads the call again when its socket is back and applies these. Someone gone
    /// meanwhile left for a reason it cannot know: `left`. This client's own participant
    /// gone (or the call over, or another call running) ends the call for it:
    /// `disconnected`, as it was ended without asking.
    pub fn catch_up(&self, current: Option<&CallInfo>) -> Vec<CallEvent> {
        let call_id = || self.call_id.clone();
        let left = |participant_id: &ParticipantId, reason| CallEvent::ParticipantLeft {
            call_id: call_id(),
            participant_id: participant_id.clone(),
            reason,
        };
        let current = current.filter(|c| c.call_id == self.call_id);
        let Some(current) = current.filter(|c| c.participants.iter().any(|p| p.participant_id == self.me)) else {
            return vec![left(&self.me, CallLeaveReason::Disconnected)];
        };
        let mut events = Vec::new();
        for known in &self.participants {
            if !current.participants.iter().any(|p| p.participant_id == known.participant_id) {
                events.push(left(&known.participant_id, CallLeaveReason::Left));
            }
        }
        for now in &current.participants {
            let known = self.participant(&now.participant_id);
            if known.is_none() {
                // Joined without its tracks; each track follows as the server sends them.
                let participant = Participant { tracks: Vec::new(), ..now.clone() };
                events.push(CallEvent::ParticipantJoined { call_id: call_id(), participant });
            }
            let known_tracks = known.map_or(&[][..], |k| &k.tracks[..]);
            for track in known_tracks {
                if !now.tracks.iter().any(|t| t.track_id == track.track_id) {
                    events.push(CallEvent::TrackRemoved {
                        call_id: call_id(),
                        participant_id: now.participant_id.clone(),
                        track_id: track.track_id.clone(),
                    });
                }
            }
            for track in &now.tracks {
                if !known_tracks.contains(track) {
                    events.push(CallEvent::Track {
                        call_id: call_id(),
                        participant_id: now.participant_id.clone(),
                        track: track.clone(),
                    });
                }
            }
        }
        events
    }

    /// Applies a server event; false when it is about another call.
    pub fn apply(&mut self, event: &CallEvent) -> bool {
        if event.call_id() != &self.call_id {
            return false;
        }
        match event {
            CallEvent::ParticipantJoined { participant, .. } => {
                // Known already (a repeat after catching up): its tracks since are newer.
                if self.participant(&participant.participant_id).is_none() {
                    self.participants.push(participant.clone());
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
        view.apply(&CallEvent::ParticipantJoined { call_id: k.clone(), participant: participant("a") });
        assert_eq!(view.participant(&ParticipantId::new("a")).unwrap().tracks.len(), 1, "a repeat keeps the tracks");
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

    #[test]
    fn catching_up_gives_the_events_missed_and_applying_them_gives_the_servers_call() {
        let k = CallId::new("k");
        let track = |id: &str, mid: &str, muted| Track {
            track_id: id.into(),
            kind: TrackKind::Audio,
            mid: Some(mid.into()),
            muted,
        };
        let with = |id: &str, tracks: Vec<Track>| Participant { tracks, ..participant(id) };
        let joined = JoinedCall {
            call_id: k.clone(),
            participant_id: ParticipantId::new("me"),
            participants: vec![
                with("a", vec![track("a1", "1", false), track("a2", "2", false)]),
                participant("gone"),
                participant("me"),
            ],
            ice_servers: vec![],
        };
        let mut view = CallView::new(&joined);
        let current = CallInfo {
            call_id: k.clone(),
            participants: vec![
                with("a", vec![track("a1", "1", true), track("a3", "4", false)]),
                participant("me"),
                with("new", vec![track("n1", "3", false)]),
            ],
        };
        let events = view.catch_up(Some(&current));
        let pid = ParticipantId::new;
        assert_eq!(
            events,
            vec![
                CallEvent::ParticipantLeft {
                    call_id: k.clone(),
                    participant_id: pid("gone"),
                    reason: CallLeaveReason::Left
                },
                CallEvent::TrackRemoved { call_id: k.clone(), participant_id: pid("a"), track_id: "a2".into() },
                CallEvent::Track { call_id: k.clone(), participant_id: pid("a"), track: track("a1", "1", true) },
                CallEvent::Track { call_id: k.clone(), participant_id: pid("a"), track: track("a3", "4", false) },
                CallEvent::ParticipantJoined { call_id: k.clone(), participant: participant("new") },
                CallEvent::Track { call_id: k.clone(), participant_id: pid("new"), track: track("n1", "3", false) },
            ]
        );
        for event in &events {
            view.apply(event);
        }
        let mut theirs = current.participants.clone();
        let mut ours = view.participants().to_vec();
        theirs.sort_by(|x, y| x.participant_id.as_str().cmp(y.participant_id.as_str()));
        ours.sort_by(|x, y| x.participant_id.as_str().cmp(y.participant_id.as_str()));
        assert_eq!(ours, theirs);
        assert!(view.catch_up(Some(&current)).is_empty(), "nothing more to catch up");

        let me_gone = CallEvent::ParticipantLeft {
            call_id: k.clone(),
            participant_id: pid("me"),
            reason: CallLeaveReason::Disconnected,
        };
        assert_eq!(view.catch_up(None), vec![me_gone.clone()], "the call is over");
        let without_me = CallInfo { call_id: k.clone(), participants: vec![participant("a")] };
        assert_eq!(view.catch_up(Some(&without_me)), vec![me_gone.clone()]);
        let another = CallInfo { call_id: CallId::new("k2"), participants: vec![participant("me")] };
        assert_eq!(view.catch_up(Some(&another)), vec![me_gone], "another call runs in the chat now");
    }
}
