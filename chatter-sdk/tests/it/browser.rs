//! Interop with a real browser: headless Chromium (fake camera and microphone) joins a
//! call through a plain page (tests/browser/call.html: WebSocket + RTCPeerConnection)
//! beside a native SDK participant sending real VP8. Each receives the other's video:
//! the page's getStats shows frames decoded rising, the native side counts packets.

use crate::calls_support::join_quiet;
use crate::harness::{Server, user};
use chatter_sdk::SyncState;
use chatter_sdk::call::webrtc_media::LocalTrack;
use chatter_sdk::model::Visibility;
use chatter_sdk::protocol::TrackKind;
use std::path::{Path, PathBuf};
use std::time::Duration;

fn browser_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/browser")
}

/// Whether Chromium and the page's driver are installed (`scripts/test.sh` installs
/// both); with `CHATTER_REQUIRE_SERVICES` set, their absence fails the test.
fn browser_ready() -> bool {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".into());
    let ready = Path::new(&chromium).exists() && browser_dir().join("node_modules/playwright-core").exists();
    if !ready && std::env::var_os("CHATTER_REQUIRE_SERVICES").is_some() {
        panic!("Chromium or playwright-core missing: run scripts/test.sh (it installs them)");
    }
    ready
}

/// The frames of an IVF file (VP8), in order.
fn ivf_frames(path: &Path) -> Vec<Vec<u8>> {
    let data = std::fs::read(path).expect("fixture");
    assert_eq!(&data[..4], b"DKIF");
    let header = u16::from_le_bytes([data[6], data[7]]) as usize;
    let mut frames = Vec::new();
    let mut at = header;
    while at + 12 <= data.len() {
        let size = u32::from_le_bytes([data[at], data[at + 1], data[at + 2], data[at + 3]]) as usize;
        frames.push(data[at + 12..at + 12 + size].to_vec());
        at += 12 + size;
    }
    frames
}

/// Sends the fixture's VP8 frames in a loop at 30 fps, jumping to a keyframe when a
/// receiver asks for one (as an encoder would make one).
fn send_video(track: LocalTrack) {
    let frames = ivf_frames(&Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/testsrc-160x120-vp8.ivf"));
    // VP8: bit 0 of the first byte is 0 on a keyframe.
    let keyframes: Vec<usize> = (0..frames.len()).filter(|i| frames[*i][0] & 1 == 0).collect();
    assert!(keyframes.len() >= 2, "the fixture has keyframes");
    tokio::spawn(async move {
        let every = Duration::from_millis(33);
        let mut tick = tokio::time::interval(every);
        let mut at = 0;
        loop {
            tokio::select! {
                _ = tick.tick() => {
                    if track.write_sample(frames[at].clone().into(), every).await.is_err() {
                        return;
                    }
                    at = (at + 1) % frames.len();
                }
                _ = track.keyframe_requested() => {
                    at = keyframes.iter().copied().find(|k| *k >= at).unwrap_or(keyframes[0]);
                }
            }
        }
    });
}

#[tokio::test]
async fn chromium_and_a_native_client_receive_each_others_video() {
    if !browser_ready() {
        eprintln!("skipped: Chromium or playwright-core missing");
        return;
    }
    interop(Server::start().await, None).await;
}

#[tokio::test]
async fn with_five_percent_loss_chromium_keeps_decoding_the_native_video() {
    if !browser_ready() {
        eprintln!("skipped: Chromium or playwright-core missing");
        return;
    }
    let relay = crate::lossy::LossyRelay::bind(50).await;
    let announced = relay.addr;
    let server =
        Server::start_configured(tempfile::tempdir().unwrap(), None, |c| c.calls.public_addr = Some(announced)).await;
    relay.start(server.state.sfu.local_addr());
    interop(server, Some(&relay)).await;
    let dropped = relay.counts.drop_share();
    assert!(dropped > 0.035, "the relay must drop about 5%: {dropped}");
}

/// A native client and the page in one call: each must receive the other's video.
async fn interop(server: Server, relay: Option<&crate::lossy::LossyRelay>) {
    let alice = user(&server.url(), "alice").await;
    let bob = user(&server.url(), "bob").await;
    alice.start_sync();
    let mut state = alice.sync_state();
    tokio::time::timeout(Duration::from_secs(10), async { while state.next().await != Some(SyncState::Connected) {} })
        .await
        .expect("alice connects");
    let chat = alice.create_group("Interop", Visibility::Private, &[bob.user_id().unwrap()]).await.unwrap();

    let call = join_quiet(&alice, &chat.id, &[TrackKind::Video]).await;
    send_video(call.local_track(TrackKind::Video).unwrap());

    // Bob is the browser.
    let token = bob.session().expect("bob's session").token;
    let seconds = 8;
    let args = [server.url(), token, chat.id.to_string(), seconds.to_string()];
    let page = tokio::task::spawn_blocking(move || {
        std::process::Command::new("node").arg(browser_dir().join("call.mjs")).args(args).output()
    });
    let output = tokio::time::timeout(Duration::from_secs(60), page)
        .await
        .expect("the page finishes")
        .expect("the page's task")
        .expect("node runs");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "the page failed: {stderr}");
    let result: serde_json::Value = serde_json::from_slice(&output.stdout).expect("the page's JSON");
    assert_eq!(result["log"], serde_json::json!([]), "the page logged trouble; stderr: {stderr}");

    // The browser decoded the native client's video, more frames every second for 5 s.
    let samples = result["samples"].as_array().unwrap();
    let decoded: Vec<u64> = samples.iter().map(|s| s["framesDecoded"].as_u64().unwrap()).collect();
    eprintln!("the page's last sample: {}", samples.last().unwrap());
    let last5 = &decoded[decoded.len() - 6..];
    assert!(last5.windows(2).all(|w| w[1] > w[0]), "frames decoded by the browser, per second: {decoded:?}");
    // Loss costs frames until a retransmission or keyframe repairs it.
    let least = if relay.is_some() { 30 } else { 60 };
    assert!(last5[5] - last5[0] >= least, "at least {least} frames decoded over 5 s: {decoded:?}");
    if relay.is_some() {
        // The browser's keyframe requests reached the native sender through the SFU.
        let camera = call.local_track(TrackKind::Video).unwrap();
        assert!(camera.keyframe_requests() > 0, "no keyframe request reached the sender");
        eprintln!("keyframe requests reaching the native sender: {}", camera.keyframe_requests());
    }
    assert_eq!(samples.last().unwrap()["state"], "connected");

    // The native client received the browser's camera and microphone.
    let remote = call.remote_tracks();
    let video = remote.iter().find(|t| t.kind() == TrackKind::Video).expect("the browser's video");
    let audio = remote.iter().find(|t| t.kind() == TrackKind::Audio).expect("the browser's audio");
    eprintln!(
        "browser decoded {decoded:?}; native got {} video ({} lost for good) and {} audio packets from the browser{}",
        video.packets_received(),
        video.packets_lost(),
        audio.packets_received(),
        relay.map(|r| format!("; the relay dropped {:.1}%", r.counts.drop_share() * 100.0)).unwrap_or_default()
    );
    assert!(video.packets_received() > 100, "video packets from the browser: {}", video.packets_received());
    assert!(audio.packets_received() > 100, "audio packets from the browser: {}", audio.packets_received());
    assert_eq!(video.participant_id().as_str(), result["participantId"].as_str().unwrap());
    call.leave().await.unwrap();
}
