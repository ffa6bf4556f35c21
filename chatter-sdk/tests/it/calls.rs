//! Calls between SDK clients through the server's SFU, with synthetic media over real
//! WebRTC on loopback: packets are counted on arrival, never assumed.

use crate::calls_support::{
    Joined, LIMIT, connected, feed, first_update, join, join_quiet, receiving, receiving_kind, team,
};
use crate::harness::{Proxy, Server, user, wait_until};
use chatter_sdk::call::CallUpdate;
use chatter_sdk::call::webrtc_media::LocalTrack;
use chatter_sdk::protocol::{CallLeaveReason, TrackKind};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

#[tokio::test]
async fn three_clients_hear_and_see_each_other_mute_shows_and_the_last_one_out_ends_the_call() {
    let server = Server::start().await;
    let (clients, chat) = team(&server, &["alice", "bob", "carol"]).await;
    let av = [TrackKind::Audio, TrackKind::Video];
    let a = join(&clients[0], &chat, &av).await;
    let b = join(&clients[1], &chat, &av).await;
    let c = join(&clients[2], &chat, &av).await;
    for (call, who) in [(&a, "alice"), (&b, "bob"), (&c, "carol")] {
        receiving(call, 4, &format!("{who} gets the other two's audio and video")).await;
        let kinds: Vec<TrackKind> = call.remote_tracks().iter().map(|t| t.kind()).collect();
        assert_eq!(kinds.iter().filter(|k| **k == TrackKind::Audio).count(), 2, "{who}: {kinds:?}");
        assert!(call.remote_tracks().iter().all(|t| t.participant_id() != call.participant_id()));
        assert_eq!(call.participants().len(), 3);
    }

    // Alice mutes her microphone: the others see it.
    let mut bob_updates = b.updates();
    a.set_muted(TrackKind::Audio, true).await.expect("mute");
    let muted = first_update(&mut bob_updates, "bob hears of the mute", |u| match u {
        CallUpdate::TrackMuted { participant_id, track } => Some((participant_id, track)),
        _ => None,
    })
    .await;
    assert_eq!((&muted.0, muted.1.kind, muted.1.muted), (a.participant_id(), TrackKind::Audio, true));
    wait_until("carol's view shows alice muted", LIMIT, || {
        c.participants().iter().any(|p| {
            &p.participant_id == a.participant_id() && p.tracks.iter().any(|t| t.kind == TrackKind::Audio && t.muted)
        })
    })
    .await;

    // Carol leaves: the others hear why, and her tracks stop being theirs.
    let mut alice_updates = a.updates();
    c.leave().await.expect("leave");
    let left = first_update(&mut alice_updates, "alice hears carol leave", |u| match u {
        CallUpdate::ParticipantLeft { participant_id, reason } => Some((participant_id, reason)),
        _ => None,
    })
    .await;
    assert_eq!((&left.0, left.1), (c.participant_id(), CallLeaveReason::Left));
    wait_until("alice keeps only bob's tracks", LIMIT, || a.remote_tracks().len() == 2).await;

    // The last one out ends the call.
    a.leave().await.expect("leave");
    let mut bob_updates = b.updates();
    b.leave().await.expect("leave");
    tokio::time::timeout(LIMIT, async { while !matches!(bob_updates.next().await, Some(CallUpdate::Ended) | None) {} })
        .await
        .expect("bob's call ends");
    assert!(clients[0].chat(&chat).running_call().await.expect("read").is_none());
}

#[tokio::test]
async fn a_late_joiner_gets_everyones_tracks_and_a_screen_share_reaches_the_others() {
    let server = Server::start().await;
    let (clients, chat) = team(&server, &["alice", "bob", "carol"]).await;
    let a = join(&clients[0], &chat, &[TrackKind::Audio, TrackKind::Video]).await;
    let b = join(&clients[1], &chat, &[TrackKind::Audio]).await;
    receiving(&b, 2, "bob gets alice's audio and video").await;

    // Carol joins late, listening only: she gets all three tracks already flowing.
    let c = join(&clients[2], &chat, &[]).await;
    receiving(&c, 3, "carol gets alice's two tracks and bob's one").await;
    assert_eq!(a.remote_tracks().len(), 1, "carol publishes nothing");

    // Bob shares his screen mid-call: it reaches alice and carol as a screen.
    let screen = b.publish(TrackKind::Screen).await;
    assert_eq!(screen.kind(), TrackKind::Screen);
    feed(screen);
    for (call, who) in [(&a, "alice"), (&c, "carol")] {
        wait_until(&format!("{who} gets bob's screen"), LIMIT, || {
            call.remote_tracks().iter().any(|t| {
                t.kind() == TrackKind::Screen && t.participant_id() == b.participant_id() && t.packets_received() > 10
            })
        })
        .await;
    }
    let bob_in_carols_view = c.participants().into_iter().find(|p| &p.participant_id == b.participant_id()).unwrap();
    let mut kinds: Vec<TrackKind> = bob_in_carols_view.tracks.iter().map(|t| t.kind).collect();
    kinds.sort();
    assert_eq!(kinds, [TrackKind::Audio, TrackKind::Screen]);

    // He stops sharing: the track is removed for the others.
    b.set_screen_share_enabled(false).await.expect("stop sharing");
    for (call, who) in [(&a, "alice"), (&c, "carol")] {
        wait_until(&format!("{who} loses bob's screen"), LIMIT, || {
            !call.remote_tracks().iter().any(|t| t.kind() == TrackKind::Screen)
                && !call.participants().iter().any(|p| p.tracks.iter().any(|t| t.kind == TrackKind::Screen))
        })
        .await;
    }
    // And shares again: the others get it on the line the first share left idle.
    feed(b.publish(TrackKind::Screen).await);
    for (call, who) in [(&a, "alice"), (&c, "carol")] {
        receiving_kind(call, TrackKind::Screen, &format!("{who} gets bob's second screen share")).await;
    }
}

#[tokio::test]
async fn with_five_percent_loss_each_way_video_is_repaired_by_retransmission() {
    let relay = crate::lossy::LossyRelay::bind(50).await;
    let announced = relay.addr;
    let server = Server::start_configured(tempfile::tempdir().unwrap(), None, |c| {
        c.calls.public_addr = Some(announced);
    })
    .await;
    relay.start(server.state.sfu.local_addr());
    let (clients, chat) = team(&server, &["alice", "bob"]).await;
    let a = join_quiet(&clients[0], &chat, &[TrackKind::Video]).await;
    let b = join(&clients[1], &chat, &[]).await;
    let camera = a.local_track(TrackKind::Video).expect("camera");
    feed(camera.clone());
    receiving(&b, 1, "bob gets alice's video through the lossy relay").await;

    // Measure a window of 6 s of steady flow.
    let video = b.remote_tracks().pop().expect("the video");
    tokio::time::sleep(Duration::from_secs(6)).await;
    let (got, lost) = (video.packets_received(), video.packets_lost());
    let dropped = relay.counts.drop_share();
    let stats = server.state.sfu.stats().await.expect("stats");
    eprintln!(
        "relay dropped {:.1}% of packets both ways; bob got {got} video packets, {lost} never repaired; sfu {stats:?}",
        dropped * 100.0
    );
    assert!(dropped > 0.035, "the relay must drop about 5%: {dropped}");
    assert!(got > 150, "video flowed: {got} packets");
    // Without repair two lossy legs would lose ~10%. Holes still waiting for their
    // retransmission when the window closes count too: 0-1 in a quiet run, 3 seen in a
    // loaded CI run.
    assert!((lost as f64) < got as f64 * 0.03, "{lost} of {got} packets lost for good");
}

/// Waits until the active speakers are `want`.
async fn speakers(updates: &mut chatter_sdk::call::CallUpdates, want: Vec<chatter_sdk::ParticipantId>) {
    first_update(updates, &format!("speakers become {want:?}"), |u| match u {
        CallUpdate::ActiveSpeakers(now) if now == want => Some(()),
        _ => None,
    })
    .await;
}

/// Sends audio at a loudness (-dBov) the test can change while it runs.
fn speak(track: LocalTrack, level: Arc<AtomicU8>) {
    tokio::spawn(async move {
        let every = Duration::from_millis(20);
        let mut tick = tokio::time::interval(every);
        loop {
            tick.tick().await;
            let frame = bytes::Bytes::from_static(&[0xfc; 80]);
            if track.write_audio_sample(frame, every, level.load(Ordering::Relaxed)).await.is_err() {
                return;
            }
        }
    });
}

#[tokio::test]
async fn the_loudest_participant_is_the_active_speaker() {
    let server = Server::start().await;
    let (clients, chat) = team(&server, &["alice", "bob", "carol"]).await;
    let (alice_level, bob_level) = (Arc::new(AtomicU8::new(20)), Arc::new(AtomicU8::new(110)));
    let a = join_quiet(&clients[0], &chat, &[TrackKind::Audio]).await;
    let b = join_quiet(&clients[1], &chat, &[TrackKind::Audio]).await;
    let c = join(&clients[2], &chat, &[]).await;
    let mut updates = c.updates();
    speak(a.local_track(TrackKind::Audio).unwrap(), alice_level.clone());
    speak(b.local_track(TrackKind::Audio).unwrap(), bob_level.clone());
    speakers(&mut updates, vec![a.participant_id().clone()]).await;
    assert_eq!(c.active_speakers(), [a.participant_id().clone()]);
    // Alice falls silent, Bob speaks up.
    alice_level.store(127, Ordering::Relaxed);
    bob_level.store(15, Ordering::Relaxed);
    speakers(&mut updates, vec![b.participant_id().clone()]).await;
    // Both speak: the louder first.
    alice_level.store(35, Ordering::Relaxed);
    speakers(&mut updates, vec![b.participant_id().clone(), a.participant_id().clone()]).await;
}

#[tokio::test]
async fn a_screen_shared_and_stopped_many_times_still_reaches_the_others() {
    let server = Server::start().await;
    let (clients, chat) = team(&server, &["alice", "bob"]).await;
    let a = join(&clients[0], &chat, &[]).await;
    let b = join(&clients[1], &chat, &[TrackKind::Audio]).await;
    receiving(&a, 1, "alice gets bob's audio").await;
    // Each share after the first goes out on the line the first one opened, with the
    // same track: 80 new lines would take the SDP past the server's 32 KiB limit.
    // A share stopped before the server saw its line never reaches alice.
    b.publish(TrackKind::Screen).await;
    b.set_screen_share_enabled(false).await.expect("stop at once");
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(!a.participants().iter().any(|p| p.tracks.iter().any(|t| t.kind == TrackKind::Screen)));
    let first = b.publish(TrackKind::Screen).await;
    let ssrc = first.ssrc();
    feed(first);
    receiving_kind(&a, TrackKind::Screen, "alice gets bob's first screen share").await;
    let bob = b.participant_id().clone();
    let shares = |a: &Joined| {
        a.participants().iter().any(|p| p.participant_id == bob && p.tracks.iter().any(|t| t.kind == TrackKind::Screen))
    };
    for round in 0..80 {
        wait_until(&format!("alice sees share {round}"), LIMIT, || shares(&a)).await;
        b.set_screen_share_enabled(false).await.expect("stop sharing");
        wait_until(&format!("alice sees share {round} stop"), LIMIT, || !shares(&a)).await;
        let track = b.publish(TrackKind::Screen).await;
        assert_eq!(track.ssrc(), ssrc, "the same track, on the same line");
    }
    // And quicker than the server can answer.
    for _ in 0..20 {
        b.set_screen_share_enabled(false).await.expect("stop sharing");
        b.set_screen_share_enabled(true).await.expect("share again");
    }
    receiving_kind(&a, TrackKind::Screen, "alice gets bob's last screen share").await;
}

#[tokio::test]
async fn a_camera_stopped_stays_stopped_when_a_screen_is_shared_and_comes_back_as_a_camera() {
    let server = Server::start().await;
    let (clients, chat) = team(&server, &["alice", "bob"]).await;
    let a = join(&clients[0], &chat, &[]).await;
    let b = join(&clients[1], &chat, &[TrackKind::Video]).await;
    receiving(&a, 1, "alice gets bob's camera").await;
    b.set_camera_enabled(false).await.expect("camera off");
    let kinds = |a: &Joined| {
        let mut kinds: Vec<TrackKind> = a.remote_tracks().iter().map(|t| t.kind()).collect();
        kinds.sort();
        kinds
    };
    wait_until("alice loses bob's camera", LIMIT, || kinds(&a).is_empty()).await;
    // The first screen share gets a line of its own, not the camera's paused one.
    feed(b.publish(TrackKind::Screen).await);
    receiving_kind(&a, TrackKind::Screen, "alice gets bob's screen").await;
    assert_eq!(kinds(&a), [TrackKind::Screen], "the camera stays off");
    b.publish(TrackKind::Video).await;
    receiving_kind(&a, TrackKind::Video, "alice gets bob's camera again, as a camera").await;
    assert_eq!(kinds(&a), [TrackKind::Video, TrackKind::Screen]);
}

#[tokio::test]
async fn a_client_whose_socket_was_away_catches_up_on_the_call_when_it_is_back() {
    let server = Server::start().await;
    // Alice reaches the server through a proxy that can keep her out; the others do not.
    let proxy = Proxy::start(server.addr).await;
    let alice = user(&proxy.url(), "alice").await;
    let (bob, carol) = (user(&server.url(), "bob").await, user(&server.url(), "carol").await);
    for client in [&alice, &bob, &carol] {
        connected(client).await;
    }
    let others = [bob.user_id().expect("id"), carol.user_id().expect("id")];
    let chat = alice.create_group("Call", chatter_sdk::model::Visibility::Private, &others).await.expect("group").id;
    let a = join(&alice, &chat, &[TrackKind::Audio]).await;
    let b = join(&bob, &chat, &[TrackKind::Audio]).await;
    receiving(&a, 1, "alice gets bob's audio").await;
    let mut alice_updates = a.updates();

    // Alice's socket drops and stays out (her media does not go through the proxy).
    proxy.hold(true);
    proxy.cut();
    let mut state = alice.sync_state();
    tokio::time::timeout(LIMIT, async {
        while matches!(state.next().await, Some(chatter_sdk::SyncState::Connected)) {}
    })
    .await
    .expect("alice's client sees its socket go");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Meanwhile Bob mutes and Carol joins: the frames saying so find no socket of Alice's.
    b.set_muted(TrackKind::Audio, true).await.expect("mute");
    let c = join(&carol, &chat, &[TrackKind::Audio]).await;
    receiving(&b, 2, "bob gets alice's and carol's audio").await;
    proxy.hold(false);

    // Back well within the 10 s grace, Alice catches up on both.
    let joined = first_update(&mut alice_updates, "alice hears carol joined", |u| match u {
        CallUpdate::ParticipantJoined(p) => Some(p.participant_id),
        _ => None,
    })
    .await;
    assert_eq!(&joined, c.participant_id());
    wait_until("alice's view shows bob muted", LIMIT, || {
        a.participants().iter().any(|p| &p.participant_id == b.participant_id() && p.tracks.iter().all(|t| t.muted))
    })
    .await;
    receiving(&a, 2, "alice gets bob's and carol's audio").await;
    assert_eq!(a.participants().len(), 3);
}

/// A backend of the app's own, as a phone or browser app brings: here it forwards to the
/// native one and keeps every offer it makes.
#[derive(Debug)]
struct RecordingMedia {
    inner: chatter_sdk::call::webrtc_media::WebrtcMedia,
    offers: std::sync::Mutex<Vec<String>>,
}

#[async_trait::async_trait]
impl chatter_sdk::call::MediaBackend for RecordingMedia {
    async fn open(
        &self,
        ice_servers: &[chatter_sdk::protocol::IceServer],
        events: chatter_sdk::call::MediaEvents,
    ) -> chatter_sdk::Result<()> {
        self.inner.open(ice_servers, events).await
    }
    async fn create_offer(&self) -> chatter_sdk::Result<String> {
        let offer = self.inner.create_offer().await?;
        self.offers.lock().unwrap().push(offer.clone());
        Ok(offer)
    }
    async fn accept_offer(&self, offer: String) -> chatter_sdk::Result<String> {
        self.inner.accept_offer(offer).await
    }
    async fn rollback(&self) -> chatter_sdk::Result<()> {
        self.inner.rollback().await
    }
    async fn accept_answer(&self, answer: String) -> chatter_sdk::Result<()> {
        self.inner.accept_answer(answer).await
    }
    async fn add_ice_candidate(&self, candidate: chatter_sdk::protocol::ws::IceCandidate) -> chatter_sdk::Result<()> {
        self.inner.add_ice_candidate(candidate).await
    }
    async fn add_receiver(&self, kind: TrackKind) -> chatter_sdk::Result<()> {
        self.inner.add_receiver(kind).await
    }
    async fn publish(&self, kind: TrackKind) -> chatter_sdk::Result<bool> {
        self.inner.publish(kind).await
    }
    async fn unpublish(&self, kind: TrackKind) -> chatter_sdk::Result<()> {
        self.inner.unpublish(kind).await
    }
    async fn set_muted(&self, kind: TrackKind, muted: bool) -> chatter_sdk::Result<()> {
        self.inner.set_muted(kind, muted).await
    }
    async fn restart_ice(&self) -> chatter_sdk::Result<()> {
        self.inner.restart_ice().await
    }
    fn remote_track_changed(&self, mid: &str, track: Option<&chatter_sdk::call::RemoteTrack>) {
        self.inner.remote_track_changed(mid, track)
    }
    async fn close(&self) {
        self.inner.close().await
    }
}

fn ice_ufrag(sdp: &str) -> Option<&str> {
    sdp.lines().find_map(|l| l.strip_prefix("a=ice-ufrag:")).map(str::trim)
}

#[tokio::test]
async fn an_ice_restart_on_an_apps_own_backend_renews_the_credentials_and_media_keeps_flowing() {
    let server = Server::start().await;
    let (clients, chat) = team(&server, &["alice", "bob"]).await;
    let media = crate::calls_support::media();
    let recording = Arc::new(RecordingMedia { inner: media.clone(), offers: Default::default() });
    let call = clients[0]
        .chat(&chat)
        .join_call(chatter_sdk::call::CallOptions::publishing(&[]), recording.clone())
        .await
        .expect("alice joins with her own backend");
    let a = Joined { call, media };
    let _b = join(&clients[1], &chat, &[TrackKind::Audio]).await;
    receiving(&a, 1, "alice gets bob's audio through her own backend").await;
    let first = recording.offers.lock().unwrap().first().cloned().expect("an offer");
    let before = a.remote_tracks()[0].packets_received();

    a.restart_ice().await.expect("restart ICE");
    wait_until("a new offer restarts ICE", LIMIT, || {
        recording.offers.lock().unwrap().last().and_then(|o| ice_ufrag(o)) != ice_ufrag(&first)
    })
    .await;
    wait_until("bob's audio keeps coming after the restart", LIMIT, || {
        a.remote_tracks().first().is_some_and(|t| t.packets_received() > before + 100)
    })
    .await;
    assert_eq!(a.connection_state(), chatter_sdk::call::ConnectionState::Connected);
}
