//! Call bot: logs in (signing up the first time), joins a chat's call publishing audio
//! (Opus silence, at a speaking level) and a looping VP8 clip from an IVF file, and
//! prints what it receives every half second as one JSON line. Lines on stdin steer it:
//! `mute audio`, `unmute audio`, `leave`.

mod ivf;

use chatter_sdk::call::webrtc_media::{LocalTrack, WebrtcMedia};
use chatter_sdk::call::{Call, CallOptions};
use chatter_sdk::protocol::TrackKind;
use chatter_sdk::{ChatId, Client, SdkError, SyncState};
use std::time::Duration;
use tokio::io::AsyncBufReadExt;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [server, username, password, chat, clip] = args.as_slice() else {
        return Err("usage: call-bot <server-url> <username> <password> <chat-id> <clip.ivf>".into());
    };
    let frames = ivf::frames(&std::fs::read(clip)?)?;
    let client = Client::builder().server(server).build().await?;
    if let Err(SdkError::Unauthenticated) = client.login(username, password).await {
        client.register(username, password, Some("Call bot")).await?;
    }
    client.start_sync();
    let mut state = client.sync_state();
    while state.get() != SyncState::Connected {
        state.next().await;
    }
    // CALL_BOT_UDP: where media binds (tests on one machine use 127.0.0.1:0).
    let udp = std::env::var("CALL_BOT_UDP").unwrap_or_else(|_| "0.0.0.0:0".into());
    let media = WebrtcMedia::new().udp_addrs(&[udp.as_str()]);
    let call = client
        .chat(&ChatId::new(chat.as_str()))
        .join_call(CallOptions::publishing(&[TrackKind::Audio, TrackKind::Video]), media.clone())
        .await?;
    let (mic, camera) = (media.local_track(TrackKind::Audio), media.local_track(TrackKind::Video));
    tokio::spawn(speak(mic.ok_or("no microphone track")?));
    tokio::spawn(show(camera.ok_or("no camera track")?, frames));

    let mut commands = tokio::io::BufReader::new(tokio::io::stdin()).lines();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    loop {
        tokio::select! {
            _ = tick.tick() => println!("{}", report(&call, &media)),
            line = commands.next_line() => match line?.as_deref().map(str::trim) {
                Some("mute audio") => call.set_muted(TrackKind::Audio, true).await?,
                Some("unmute audio") => call.set_muted(TrackKind::Audio, false).await?,
                Some("leave") | None => break,
                Some(other) => eprintln!("call-bot: unknown command {other:?}"),
            },
        }
    }
    call.leave().await?;
    client.dispose();
    Ok(())
}

/// What the bot sees of the call now.
fn report(call: &Call, media: &WebrtcMedia) -> serde_json::Value {
    let received: Vec<_> = media
        .received_tracks()
        .iter()
        .map(|t| {
            serde_json::json!({
                "participant_id": t.participant_id().to_string(),
                "kind": t.kind().to_string(),
                "packets": t.packets_received(),
            })
        })
        .collect();
    let muted: Vec<_> = call
        .participants()
        .iter()
        .flat_map(|p| {
            p.tracks.iter().filter(|t| t.muted).map(|t| format!("{}:{}", p.participant_id, t.kind)).collect::<Vec<_>>()
        })
        .collect();
    serde_json::json!({
        "participant_id": call.participant_id().to_string(),
        "participants": call.participants().len(),
        "connection": format!("{:?}", call.connection_state()),
        "received": received,
        "muted": muted,
    })
}

/// 20 ms Opus silence frames, marked as speech so the server may pick the bot as a
/// speaker.
async fn speak(mic: LocalTrack) {
    const OPUS_SILENCE: &[u8] = &[0xf8, 0xff, 0xfe];
    let every = Duration::from_millis(20);
    let mut tick = tokio::time::interval(every);
    loop {
        tick.tick().await;
        if mic.write_audio_sample(bytes::Bytes::from_static(OPUS_SILENCE), every, 40).await.is_err() {
            return;
        }
    }
}

/// The clip at 30 fps, looping, jumping to the next keyframe when a receiver asks.
async fn show(camera: LocalTrack, frames: Vec<bytes::Bytes>) {
    // VP8: bit 0 of the first byte is 0 on a keyframe.
    let keyframes: Vec<usize> = (0..frames.len()).filter(|i| frames[*i].first().is_some_and(|b| b & 1 == 0)).collect();
    let every = Duration::from_millis(33);
    let mut tick = tokio::time::interval(every);
    let mut at = 0;
    loop {
        tokio::select! {
            _ = tick.tick() => {
                if camera.write_sample(frames[at].clone(), every).await.is_err() {
                    return;
                }
                at = (at + 1) % frames.len();
            }
            _ = camera.keyframe_requested() => {
                at = keyframes.iter().copied().find(|k| *k >= at).or(keyframes.first().copied()).unwrap_or(0);
            }
        }
    }
}
