//! Calls between SDK clients through the server's SFU, with synthetic media over real
//! WebRTC on loopback: packets are counted on arrival, never assumed.

use crate::harness::{Server, user, wait_until};
use chatter_sdk::call::{Call, CallOptions, CallUpdate, LocalTrack};
use chatter_sdk::model::Visibility;
use chatter_sdk::protocol::{CallLeaveReason, TrackKind};
use chatter_sdk::{Client, SyncState};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(15);

fn options(kinds: &[TrackKind]) -> CallOptions {
    CallOptions::publishing(kinds).udp_addrs(&["127.0.0.1:0"])
}

/// Feeds a published track with synthetic frames: 20 ms Opus-sized audio or 30 fps
/// video (a keyframe every second), until the track's call is over.
fn feed(track: LocalTrack) {
    tokio::spawn(async move {
        let video = track.kind().is_video();
        let every = Duration::from_millis(if video { 33 } else { 20 });
        let mut tick = tokio::time::interval(every);
        for n in 0u64.. {
            tick.tick().await;
            let data = if video {
                let mut frame = vec![0x42u8; 1000];
                frame[0] = if n % 30 == 0 { 0x10 } else { 0x11 };
                frame
            } else {
                vec![0xfc; 80]
            };
            if track.write_sample(data.into(), every).await.is_err() {
                return;
            }
        }
    });
}

async fn connected(client: &Client) {
    client.start_sync();
    let mut state = client.sync_state();
    tokio::time::timeout(LIMIT, async { while state.next().await != Some(SyncState::Connected) {} })
        .await
        .expect("sync connects");
}

async fn join(client: &Client, chat: &chatter_sdk::ChatId, kinds: &[TrackKind]) -> Call {
    let call = client.join_call(chat, options(kinds)).await.expect("join");
    for kind in kinds {
        feed(call.local_track(*kind).expect("published"));
    }
    call
}

/// Waits until `call` receives `count` remote tracks, each with packets flowing.
async fn receiving(call: &Call, count: usize, what: &str) {
    wait_until(what, LIMIT, || {
        let tracks = call.remote_tracks();
        tracks.len() == count && tracks.iter().all(|t| t.packets_received() > 10)
    })
    .await;
}

async fn team(server: &Server, names: &[&str]) -> (Vec<Client>, chatter_sdk::ChatId) {
    let mut clients = Vec::new();
    for name in names {
        let c = user(&server.url(), name).await;
        connected(&c).await;
        clients.push(c);
    }
    let others: Vec<_> = clients[1..].iter().map(|c| c.user_id().expect("id")).collect();
    let chat = clients[0].create_group("Call", Visibility::Private, &others).await.expect("group");
    (clients, chat.id)
}

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
    let muted = tokio::time::timeout(LIMIT, async {
        loop {
            if let Some(CallUpdate::TrackMuted { participant_id, track }) = bob_updates.next().await {
                return (participant_id, track);
            }
        }
    })
    .await
    .expect("bob hears of the mute");
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
    let left = tokio::time::timeout(LIMIT, async {
        loop {
            if let Some(CallUpdate::ParticipantLeft { participant_id, reason }) = alice_updates.next().await {
                return (participant_id, reason);
            }
        }
    })
    .await
    .expect("alice hears carol leave");
    assert_eq!((&left.0, left.1), (c.participant_id(), CallLeaveReason::Left));
    wait_until("alice keeps only bob's tracks", LIMIT, || a.remote_tracks().len() == 2).await;

    // The last one out ends the call.
    a.leave().await.expect("leave");
    let mut bob_updates = b.updates();
    b.leave().await.expect("leave");
    tokio::time::timeout(LIMIT, async { while !matches!(bob_updates.next().await, Some(CallUpdate::Ended) | None) {} })
        .await
        .expect("bob's call ends");
    assert!(clients[0].running_call(&chat).await.expect("read").is_none());
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
    let screen = b.set_screen_share_enabled(true).await.expect("share").expect("a track");
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
}

/// Resident memory of this process (server and clients), in KiB.
fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_join_and_leave_cycles_leave_nothing_behind() {
    if std::env::var_os("CALL_LOG").is_some() {
        let _ = tracing_subscriber::fmt().with_env_filter("chatter_sdk=debug,chatter_server::sfu=debug").try_init();
    }
    let server = Server::start().await;
    let (clients, chat) = team(&server, &["alice", "bob"]).await;
    // Alice stays in the call publishing audio; Bob comes and goes, each time publishing
    // audio and receiving hers.
    let a = join(&clients[0], &chat, &[TrackKind::Audio]).await;
    let sfu = server.state.sfu.clone();
    let metrics = tokio::runtime::Handle::current().metrics();
    let cycle = |n: usize| {
        let bob = clients[1].clone();
        let chat = chat.clone();
        async move {
            let b = bob.join_call(&chat, options(&[TrackKind::Audio])).await.expect("join");
            feed(b.local_track(TrackKind::Audio).expect("mic"));
            receiving(&b, 1, &format!("cycle {n}: bob hears alice")).await;
            b.leave().await.expect("leave");
        }
    };
    for n in 0..10 {
        cycle(n).await;
    }
    wait_until("warm-up cycles are cleaned up", LIMIT, || a.remote_tracks().is_empty()).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    let (tasks_before, rss_before) = (metrics.num_alive_tasks(), rss_kib());
    let cycles: usize = std::env::var("CALL_CYCLES").ok().and_then(|v| v.parse().ok()).unwrap_or(200);
    for n in 10..cycles {
        cycle(n).await;
    }
    let left = sfu.stats().await.expect("stats");
    wait_until("bob's last participant is gone", LIMIT, || a.remote_tracks().is_empty()).await;
    let mut stats = sfu.stats().await.expect("stats");
    for _ in 0..50 {
        if (stats.peers, stats.tracks_out) == (1, 0) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        stats = sfu.stats().await.expect("stats");
    }
    // Only Alice remains: one call, her connection, her one track, nothing sent anywhere.
    assert_eq!(
        (stats.calls, stats.peers, stats.tracks_in, stats.tracks_out),
        (1, 1, 1, 0),
        "after: {stats:?} (just after the last leave: {left:?})"
    );
    // Tasks: every peer connection's tasks and every remote track's reader ended.
    let mut tasks_after = metrics.num_alive_tasks();
    for _ in 0..50 {
        if tasks_after <= tasks_before {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        tasks_after = metrics.num_alive_tasks();
    }
    let rss_after = rss_kib();
    eprintln!(
        "190 cycles: tasks {tasks_before} -> {tasks_after}, RSS {} -> {} MiB, sfu {stats:?}",
        rss_before / 1024,
        rss_after / 1024
    );
    assert!(tasks_after <= tasks_before, "tasks left behind: {tasks_before} -> {tasks_after}");
    // Server and clients share this process: 190 connections that each held buffers may
    // leave allocator slack, not growth per cycle.
    assert!(rss_after < rss_before + 40 * 1024, "RSS grew from {rss_before} KiB to {rss_after} KiB");
    assert_eq!(a.participants().len(), 1);
}

#[tokio::test]
async fn with_five_percent_loss_each_way_video_is_repaired_by_retransmission() {
    let relay = crate::lossy::LossyRelay::bind(50).await;
    let announced = relay.addr;
    let server = Server::start_configured(tempfile::tempdir().unwrap(), None, |c| {
        c.rtc_public_addr = Some(announced);
    })
    .await;
    relay.start(server.state.sfu.local_addr());
    let (clients, chat) = team(&server, &["alice", "bob"]).await;
    let a = clients[0].join_call(&chat, options(&[TrackKind::Video])).await.expect("alice joins");
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
    // Without repair two lossy legs would lose ~10%.
    assert!((lost as f64) < got as f64 * 0.01, "{lost} of {got} packets lost for good");
}

/// Waits until the active speakers are `want`.
async fn speakers(updates: &mut chatter_sdk::call::CallUpdates, want: Vec<chatter_sdk::ParticipantId>) {
    tokio::time::timeout(LIMIT, async {
        loop {
            if let Some(CallUpdate::ActiveSpeakers(now)) = updates.next().await
                && now == want
            {
                return;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("speakers never became {want:?}"));
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
    let a = clients[0].join_call(&chat, options(&[TrackKind::Audio])).await.expect("join");
    let b = clients[1].join_call(&chat, options(&[TrackKind::Audio])).await.expect("join");
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
