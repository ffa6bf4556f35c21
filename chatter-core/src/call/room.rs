//! One call's participants and their tracks, as the server keeps them. Media is not
//! here: the SFU tells the room when a participant's connection gains or loses a media
//! line, and the room decides which track that is and who hears of it.

use crate::id::{CallId, ChatId, ParticipantId, SessionId, UserId};
use crate::protocol::call::{Participant, Track, TrackKind};
use crate::time::Timestamp;
use std::collections::VecDeque;
use thiserror::Error;

/// Why the room refused something.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum RoomError {
    /// The call holds as many participants as it may.
    #[error("the call is full ({max} participants)")]
    Full {
        /// The cap.
        max: usize,
    },
    /// No such participant in this call.
    #[error("not in this call")]
    NotInCall,
    /// The track is not one of the participant's own.
    #[error("no such track of yours: {0}")]
    NoSuchTrack(String),
}

#[derive(Debug, Clone)]
struct Member {
    participant_id: ParticipantId,
    user_id: UserId,
    session_id: SessionId,
    /// Tracks with the publisher's own mids.
    tracks: Vec<Track>,
    /// Kinds announced by `call.publish` whose media line has not appeared yet, in
    /// order, each marked when the client stopped it before its line arrived.
    announced: VecDeque<(TrackKind, bool)>,
    /// Since when the session has had no open socket.
    away_since: Option<Timestamp>,
}

impl Member {
    fn participant(&self) -> Participant {
        Participant {
            participant_id: self.participant_id.clone(),
            user_id: self.user_id.clone(),
            tracks: self.tracks.clone(),
        }
    }
}

/// What a participant's new sending line carries.
#[derive(Debug, Clone, PartialEq)]
pub enum NewLine {
    /// A track, published to the others.
    Published(Track),
    /// Nothing yet: the track of this kind was stopped before its line arrived.
    Stopped(TrackKind),
}

/// A running call: its participants in joining order.
#[derive(Debug, Clone)]
pub struct Room {
    call_id: CallId,
    chat_id: ChatId,
    max_participants: usize,
    members: Vec<Member>,
}

impl Room {
    /// A call with nobody in it yet.
    pub fn new(call_id: CallId, chat_id: ChatId, max_participants: usize) -> Self {
        Self { call_id, chat_id, max_participants: max_participants.max(1), members: Vec::new() }
    }

    /// The call's id.
    pub fn call_id(&self) -> &CallId {
        &self.call_id
    }

    /// The chat it belongs to.
    pub fn chat_id(&self) -> &ChatId {
        &self.chat_id
    }

    /// Whether the last participant left.
    pub fn is_empty(&self) -> bool {
        self.members.is_empty()
    }

    /// How many participants are in.
    pub fn len(&self) -> usize {
        self.members.len()
    }

    /// Everyone in the call, in joining order, with their own mids.
    pub fn participants(&self) -> Vec<Participant> {
        self.members.iter().map(Member::participant).collect()
    }

    /// One participant.
    pub fn participant(&self, id: &ParticipantId) -> Option<Participant> {
        self.member(id).map(Member::participant)
    }

    /// The participant a session holds in this call.
    pub fn by_session(&self, session_id: &SessionId) -> Option<&ParticipantId> {
        self.members.iter().find(|m| &m.session_id == session_id).map(|m| &m.participant_id)
    }

    /// The session and user behind a participant.
    pub fn owner(&self, id: &ParticipantId) -> Option<(&UserId, &SessionId)> {
        self.member(id).map(|m| (&m.user_id, &m.session_id))
    }

    /// Every participant's session.
    pub fn sessions(&self) -> impl Iterator<Item = (&ParticipantId, &SessionId)> {
        self.members.iter().map(|m| (&m.participant_id, &m.session_id))
    }

    /// Adds a participant for `session_id`. A session already in the call must leave
    /// first (the caller removes it, telling the others it was `removed`).
    pub fn join(
        &mut self,
        participant_id: ParticipantId,
        user_id: UserId,
        session_id: SessionId,
    ) -> Result<Participant, RoomError> {
        if self.members.len() >= self.max_participants {
            return Err(RoomError::Full { max: self.max_participants });
        }
        let member = Member {
            participant_id,
            user_id,
            session_id,
            tracks: Vec::new(),
            announced: VecDeque::new(),
            away_since: None,
        };
        let participant = member.participant();
        self.members.push(member);
        Ok(participant)
    }

    /// Takes a participant out; returns what it published.
    pub fn leave(&mut self, id: &ParticipantId) -> Option<Participant> {
        let at = self.members.iter().position(|m| &m.participant_id == id)?;
        Some(self.members.remove(at).participant())
    }

    /// The participant announced a track of `kind` (before its offer adds it).
    pub fn announce(&mut self, id: &ParticipantId, kind: TrackKind) -> Result<(), RoomError> {
        let member = self.member_mut(id)?;
        // Started again before its line arrived: the line is published after all.
        if let Some(entry) = member.announced.iter_mut().rev().find(|(k, stopped)| *k == kind && *stopped) {
            entry.1 = false;
            return Ok(());
        }
        // A client that keeps announcing without adding media cannot grow the queue.
        if member.announced.len() < 8 {
            member.announced.push_back((kind, false));
        }
        Ok(())
    }

    /// The participant stopped a track of `kind` whose media line has not appeared yet:
    /// whether one was pending (its line then arrives as [`NewLine::Stopped`]).
    pub fn withdraw(&mut self, id: &ParticipantId, kind: TrackKind) -> bool {
        let Ok(member) = self.member_mut(id) else { return false };
        let Some(entry) = member.announced.iter_mut().rev().find(|(k, stopped)| *k == kind && !*stopped) else {
            return false;
        };
        entry.1 = true;
        true
    }

    /// The participant's connection gained a media line it sends on (or sends on again):
    /// which track it is. With `kind` given (a stopped line started again) it is that;
    /// else video is a screen when a screen was announced before any camera still
    /// pending, and a line whose announcement was stopped meanwhile carries nothing yet.
    pub fn media_added(
        &mut self,
        id: &ParticipantId,
        mid: &str,
        is_video: bool,
        track_id: String,
        kind: Option<TrackKind>,
    ) -> Result<NewLine, RoomError> {
        let member = self.member_mut(id)?;
        if let Some(track) = member.tracks.iter().find(|t| t.mid.as_deref() == Some(mid)) {
            return Ok(NewLine::Published(track.clone()));
        }
        let kind = match kind {
            Some(kind) => kind,
            None => {
                let announced = member.announced.iter().position(|(k, _)| k.is_video() == is_video);
                match announced.and_then(|at| member.announced.remove(at)) {
                    Some((kind, true)) => return Ok(NewLine::Stopped(kind)),
                    Some((kind, false)) => kind,
                    None if is_video => TrackKind::Video,
                    None => TrackKind::Audio,
                }
            }
        };
        let track = Track { track_id, kind, mid: Some(mid.to_owned()), muted: false };
        member.tracks.push(track.clone());
        Ok(NewLine::Published(track))
    }

    /// The participant stopped sending on a media line: the track it carried, if any.
    pub fn media_removed(&mut self, id: &ParticipantId, mid: &str) -> Option<Track> {
        let member = self.member_mut(id).ok()?;
        let at = member.tracks.iter().position(|t| t.mid.as_deref() == Some(mid))?;
        Some(member.tracks.remove(at))
    }

    /// Mutes or unmutes one of the participant's own tracks.
    pub fn mute(&mut self, id: &ParticipantId, track_id: &str, muted: bool) -> Result<Track, RoomError> {
        let member = self.member_mut(id)?;
        let track = member
            .tracks
            .iter_mut()
            .find(|t| t.track_id == track_id)
            .ok_or_else(|| RoomError::NoSuchTrack(track_id.to_owned()))?;
        track.muted = muted;
        Ok(track.clone())
    }

    /// Records whether the participant's session has an open socket.
    pub fn set_connected(&mut self, id: &ParticipantId, connected: bool, now: Timestamp) {
        if let Ok(member) = self.member_mut(id) {
            match (connected, member.away_since) {
                (true, _) => member.away_since = None,
                (false, None) => member.away_since = Some(now),
                (false, Some(_)) => {}
            }
        }
    }

    /// Participants whose session has had no socket for `grace_micros` or more.
    pub fn gone(&self, now: Timestamp, grace_micros: i64) -> Vec<ParticipantId> {
        self.members
            .iter()
            .filter(|m| m.away_since.is_some_and(|since| since.plus_micros(grace_micros) <= now))
            .map(|m| m.participant_id.clone())
            .collect()
    }

    fn member(&self, id: &ParticipantId) -> Option<&Member> {
        self.members.iter().find(|m| &m.participant_id == id)
    }

    fn member_mut(&mut self, id: &ParticipantId) -> Result<&mut Member, RoomError> {
        self.members.iter_mut().find(|m| &m.participant_id == id).ok_or(RoomError::NotInCall)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn room() -> Room {
        let mut room = Room::new(CallId::new("k"), ChatId::new("c"), 2);
        room.join(ParticipantId::new("p1"), UserId::new("u1"), SessionId::new("s1")).unwrap();
        room
    }

    #[test]
    fn the_cap_holds_and_leaving_makes_room() {
        let mut room = room();
        room.join(ParticipantId::new("p2"), UserId::new("u2"), SessionId::new("s2")).unwrap();
        let full = room.join(ParticipantId::new("p3"), UserId::new("u3"), SessionId::new("s3"));
        assert_eq!(full, Err(RoomError::Full { max: 2 }));
        assert!(room.leave(&ParticipantId::new("p1")).is_some());
        assert!(room.join(ParticipantId::new("p3"), UserId::new("u3"), SessionId::new("s3")).is_ok());
        assert_eq!(room.by_session(&SessionId::new("s3")), Some(&ParticipantId::new("p3")));
        room.leave(&ParticipantId::new("p2"));
        room.leave(&ParticipantId::new("p3"));
        assert!(room.is_empty());
    }

    #[test]
    fn announced_kinds_name_new_media_lines() {
        let mut room = room();
        let p1 = ParticipantId::new("p1");
        // Unannounced lines default to microphone and camera.
        assert_eq!(added(&mut room, &p1, "0", false, "t0").kind, TrackKind::Audio);
        assert_eq!(added(&mut room, &p1, "1", true, "t1").kind, TrackKind::Video);
        room.announce(&p1, TrackKind::Screen).unwrap();
        let screen = added(&mut room, &p1, "2", true, "t2");
        assert_eq!((screen.kind, screen.mid.as_deref()), (TrackKind::Screen, Some("2")));
        // The same line seen again is the same track.
        assert_eq!(added(&mut room, &p1, "2", true, "other").track_id, "t2");
        assert_eq!(room.participant(&p1).unwrap().tracks.len(), 3);
        assert_eq!(room.media_removed(&p1, "2").unwrap().track_id, "t2");
        assert_eq!(room.participant(&p1).unwrap().tracks.len(), 2);
    }

    fn added(room: &mut Room, p: &ParticipantId, mid: &str, video: bool, track_id: &str) -> Track {
        match room.media_added(p, mid, video, track_id.into(), None).unwrap() {
            NewLine::Published(track) => track,
            NewLine::Stopped(kind) => panic!("line {mid} arrived stopped ({kind})"),
        }
    }

    #[test]
    fn a_track_stopped_before_its_line_leaves_the_line_silent_and_others_in_order() {
        let mut room = room();
        let p1 = ParticipantId::new("p1");
        // A camera and a screen announced; the screen stopped before either line arrived.
        room.announce(&p1, TrackKind::Video).unwrap();
        room.announce(&p1, TrackKind::Screen).unwrap();
        assert!(room.withdraw(&p1, TrackKind::Screen));
        assert!(!room.withdraw(&p1, TrackKind::Screen), "only one was pending");
        assert_eq!(added(&mut room, &p1, "0", true, "t0").kind, TrackKind::Video, "the camera's line");
        let screen = room.media_added(&p1, "1", true, "t1".into(), None).unwrap();
        assert_eq!(screen, NewLine::Stopped(TrackKind::Screen), "the screen's line");
        // Started again before its line arrived: published after all.
        room.announce(&p1, TrackKind::Screen).unwrap();
        assert!(room.withdraw(&p1, TrackKind::Screen));
        room.announce(&p1, TrackKind::Screen).unwrap();
        assert_eq!(added(&mut room, &p1, "2", true, "t2").kind, TrackKind::Screen);
        // A stopped line started again is the kind it is told.
        let resumed = room.media_added(&p1, "1", true, "t3".into(), Some(TrackKind::Screen)).unwrap();
        assert!(matches!(resumed, NewLine::Published(Track { kind: TrackKind::Screen, .. })));
        assert!(!room.withdraw(&ParticipantId::new("nobody"), TrackKind::Audio));
    }

    #[test]
    fn only_own_tracks_can_be_muted() {
        let mut room = room();
        let p1 = ParticipantId::new("p1");
        added(&mut room, &p1, "0", false, "t0");
        assert!(room.mute(&p1, "t0", true).unwrap().muted);
        assert_eq!(room.mute(&p1, "t9", true), Err(RoomError::NoSuchTrack("t9".into())));
        assert_eq!(room.mute(&ParticipantId::new("p2"), "t0", true), Err(RoomError::NotInCall));
    }

    #[test]
    fn a_session_away_past_the_grace_is_gone() {
        let mut room = room();
        let p1 = ParticipantId::new("p1");
        room.set_connected(&p1, false, Timestamp::from_micros(1_000));
        room.set_connected(&p1, false, Timestamp::from_micros(5_000));
        assert!(room.gone(Timestamp::from_micros(10_999), 10_000).is_empty());
        assert_eq!(room.gone(Timestamp::from_micros(11_000), 10_000), vec![p1.clone()]);
        room.set_connected(&p1, true, Timestamp::from_micros(11_500));
        assert!(room.gone(Timestamp::from_micros(99_000), 10_000).is_empty());
    }
}
