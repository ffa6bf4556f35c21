//! What the call tests share: joining with synthetic media, waiting for packets.

use crate::harness::{Server, user, wait_until};
use chatter_sdk::call::webrtc_media::{LocalTrack, ReceivedTrack, WebrtcMedia};
use chatter_sdk::call::{Call, CallOptions, CallUpdate, CallUpdates};
use chatter_sdk::model::Visibility;
use chatter_sdk::protocol::TrackKind;
use chatter_sdk::{Client, SyncState};
use std::time::Duration;

pub const LIMIT: Duration = Duration::from_secs(15);

/// Native media on loopback.
pub fn media() -> WebrtcMedia {
    WebrtcMedia::new().udp_addrs(&["127.0.0.1:0"])
}

/// A call joined with native media, and that media.
pub struct Joined {
    pub call: Call,
    pub media: WebrtcMedia,
}

impl std::ops::Deref for Joined {
    type Target = Call;
    fn deref(&self) -> &Call {
        &self.call
    }
}

impl Joined {
    /// The tracks of others arriving now, with their packet counts.
    pub fn remote_tracks(&self) -> Vec<ReceivedTrack> {
        self.media.received_tracks()
    }

    /// The track published of `kind`.
    pub fn local_track(&self, kind: TrackKind) -> Option<LocalTrack> {
        self.media.local_track(kind)
    }

    /// Publishes `kind` through the call's API and answers the track to feed.
    pub async fn publish(&self, kind: TrackKind) -> LocalTrack {
        match kind {
            TrackKind::Audio => self.call.set_microphone_enabled(true).await,
            TrackKind::Video => self.call.set_camera_enabled(true).await,
            TrackKind::Screen => self.call.set_screen_share_enabled(true).await,
        }
        .expect("publish");
        self.local_track(kind).expect("published")
    }
}

/// Joins with loopback media publishing `kinds`, without feeding them.
pub async fn join_quiet(client: &Client, chat: &chatter_sdk::ChatId, kinds: &[TrackKind]) -> Joined {
    let media = media();
    let call = client.chat(chat).join_call(CallOptions::publishing(kinds), media.clone()).await.expect("join");
    Joined { call, media }
}

/// Feeds a published track with synthetic frames: 20 ms Opus-sized audio or 30 fps
/// video (a keyframe every second), until the track's call is over.
pub fn feed(track: LocalTrack) {
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

pub async fn connected(client: &Client) {
    client.start_sync();
    let mut state = client.sync_state();
    tokio::time::timeout(LIMIT, async { while state.next().await != Some(SyncState::Connected) {} })
        .await
        .expect("sync connects");
}

/// Joins publishing `kinds`, fed with synthetic media.
pub async fn join(client: &Client, chat: &chatter_sdk::ChatId, kinds: &[TrackKind]) -> Joined {
    let call = join_quiet(client, chat, kinds).await;
    for kind in kinds {
        feed(call.local_track(*kind).expect("published"));
    }
    call
}

/// Waits until `call` receives a remote track of `kind` with packets flowing.
pub async fn receiving_kind(call: &Joined, kind: TrackKind, what: &str) {
    wait_until(what, LIMIT, || call.remote_tracks().iter().any(|t| t.kind() == kind && t.packets_received() > 10))
        .await;
}

/// Waits until `call` receives `count` remote tracks, each with packets flowing.
pub async fn receiving(call: &Joined, count: usize, what: &str) {
    wait_until(what, LIMIT, || {
        let tracks = call.remote_tracks();
        tracks.len() == count && tracks.iter().all(|t| t.packets_received() > 10)
    })
    .await;
}

pub async fn team(server: &Server, names: &[&str]) -> (Vec<Client>, chatter_sdk::ChatId) {
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

/// The first update `pick` takes (within the limit), skipping the others.
pub async fn first_update<T>(
    updates: &mut CallUpdates,
    what: &str,
    mut pick: impl FnMut(CallUpdate) -> Option<T>,
) -> T {
    tokio::time::timeout(LIMIT, async {
        loop {
            if let Some(found) = updates.next().await.and_then(&mut pick) {
                return found;
            }
        }
    })
    .await
    .unwrap_or_else(|_| panic!("no update: {what}"))
}
