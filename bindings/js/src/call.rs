//! `Call`: a chat's call in the browser, media on `RTCPeerConnection`.

use crate::convert::{from_js, to_js};
use crate::error::{JsResult, invalid, js};
use crate::media::{BrowserMedia, list_devices};
use crate::subscription::{Subscription, spawn};
use chatter_sdk::call::{CallOptions, CallUpdate, RemoteTrack};
use chatter_sdk::protocol::TrackKind;
use serde::{Deserialize, Serialize};
use tsify::Tsify;
use wasm_bindgen::prelude::*;

/// `joinCall`'s options.
#[derive(Deserialize, Tsify)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct JoinCallOptions {
    /// Publish the microphone from the start (default `true`).
    #[serde(default)]
    #[tsify(optional)]
    pub microphone: Option<bool>,
    /// Publish the camera from the start (default `false`).
    #[serde(default)]
    #[tsify(optional)]
    pub camera: Option<bool>,
}

/// A track another participant publishes, as the call knows it (the media is
/// `Call.remoteTrack(mid)`).
#[derive(Serialize, Tsify)]
pub struct RemoteTrackInfo {
    participant_id: String,
    track_id: String,
    kind: TrackKind,
    mid: String,
}

impl From<&RemoteTrack> for RemoteTrackInfo {
    fn from(t: &RemoteTrack) -> Self {
        Self {
            participant_id: t.participant_id().to_string(),
            track_id: t.track_id().to_owned(),
            kind: t.kind(),
            mid: t.mid().to_owned(),
        }
    }
}

fn connection_state(s: chatter_sdk::call::ConnectionState) -> &'static str {
    use chatter_sdk::call::ConnectionState::*;
    match s {
        Connecting => "connecting",
        Connected => "connected",
        Disconnected => "disconnected",
        Failed => "failed",
        Closed => "closed",
    }
}

/// A call this client is in. `leave()` ends it for this client.
#[wasm_bindgen]
pub struct Call {
    inner: chatter_sdk::call::Call,
    media: BrowserMedia,
}

pub(crate) async fn join(chat: &chatter_sdk::ChatHandle, options: JsValue) -> JsResult<Call> {
    let options: JoinCallOptions = if options.is_undefined() {
        JoinCallOptions { microphone: None, camera: None }
    } else {
        from_js(options, "options")?
    };
    let mut publish = Vec::new();
    if options.microphone.unwrap_or(true) {
        publish.push(TrackKind::Audio);
    }
    if options.camera.unwrap_or(false) {
        publish.push(TrackKind::Video);
    }
    let media = BrowserMedia::default();
    let inner = js(chat.join_call(CallOptions::publishing(&publish), media.clone()).await)?;
    Ok(Call { inner, media })
}

fn kind(value: &str) -> JsResult<TrackKind> {
    match value {
        "audio" => Ok(TrackKind::Audio),
        "video" => Ok(TrackKind::Video),
        "screen" => Ok(TrackKind::Screen),
        other => Err(invalid("kind", format!("`{other}` is not audio, video or screen"))),
    }
}

#[wasm_bindgen]
impl Call {
    /// The call's id.
    #[wasm_bindgen(getter, js_name = callId)]
    pub fn call_id(&self) -> String {
        self.inner.call_id().to_string()
    }

    /// This client's participant id.
    #[wasm_bindgen(getter, js_name = participantId)]
    pub fn participant_id(&self) -> String {
        self.inner.participant_id().to_string()
    }

    /// Everyone in the call, this client included, with their tracks and mutes.
    #[wasm_bindgen(unchecked_return_type = "Participant[]")]
    pub fn participants(&self) -> JsValue {
        to_js(&self.inner.participants())
    }

    /// Who is speaking, loudest first.
    #[wasm_bindgen(js_name = activeSpeakers, unchecked_return_type = "ParticipantId[]")]
    pub fn active_speakers(&self) -> JsValue {
        to_js(&self.inner.active_speakers())
    }

    /// The media connection's state: `connecting`, `connected`, `disconnected`,
    /// `failed` or `closed`.
    #[wasm_bindgen(js_name = connectionState)]
    pub fn connection_state(&self) -> String {
        connection_state(self.inner.connection_state()).to_owned()
    }

    /// The tracks of others arriving now.
    #[wasm_bindgen(js_name = remoteTracks, unchecked_return_type = "RemoteTrackInfo[]")]
    pub fn remote_tracks(&self) -> JsValue {
        to_js(&self.inner.remote_tracks().iter().map(RemoteTrackInfo::from).collect::<Vec<_>>())
    }

    /// The `MediaStreamTrack` arriving on line `mid` (see `RemoteTrackInfo.mid`).
    #[wasm_bindgen(js_name = remoteTrack)]
    pub fn remote_track(&self, mid: String) -> Option<web_sys::MediaStreamTrack> {
        self.media.remote_track(&mid)
    }

    /// This client's own track of `kind` (`audio`, `video`, `screen`) while published,
    /// for a self view.
    #[wasm_bindgen(js_name = localTrack)]
    pub fn local_track(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TrackKind")] kind_: String,
    ) -> JsResult<Option<web_sys::MediaStreamTrack>> {
        Ok(self.media.local_track(kind(&kind_)?))
    }

    /// The peer connection's statistics (`RTCStatsReport`).
    #[wasm_bindgen(js_name = getStats)]
    pub async fn get_stats(&self) -> JsResult<JsValue> {
        let pc = self.media.connection().ok_or_else(|| invalid("call", "the call is over"))?;
        wasm_bindgen_futures::JsFuture::from(pc.get_stats()).await
    }

    /// Starts or stops publishing the microphone.
    #[wasm_bindgen(js_name = setMicrophoneEnabled)]
    pub async fn set_microphone_enabled(&self, enabled: bool) -> JsResult<()> {
        js(self.inner.set_microphone_enabled(enabled).await)
    }

    /// Starts or stops publishing the camera.
    #[wasm_bindgen(js_name = setCameraEnabled)]
    pub async fn set_camera_enabled(&self, enabled: bool) -> JsResult<()> {
        js(self.inner.set_camera_enabled(enabled).await)
    }

    /// Starts or stops sharing a screen (the browser asks the user which).
    #[wasm_bindgen(js_name = setScreenShareEnabled)]
    pub async fn set_screen_share_enabled(&self, enabled: bool) -> JsResult<()> {
        js(self.inner.set_screen_share_enabled(enabled).await)
    }

    /// Mutes or unmutes a published track; the others see it.
    #[wasm_bindgen(js_name = setMuted)]
    pub async fn set_muted(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TrackKind")] kind_: String,
        muted: bool,
    ) -> JsResult<()> {
        js(self.inner.set_muted(kind(&kind_)?, muted).await)
    }

    /// Uses another microphone (`audio`) or camera (`video`): a `deviceId` from
    /// `Client.listDevices()`. A published track switches at once.
    #[wasm_bindgen(js_name = switchDevice)]
    pub async fn switch_device(
        &self,
        #[wasm_bindgen(unchecked_param_type = "TrackKind")] kind_: String,
        device_id: String,
    ) -> JsResult<()> {
        js(self.media.switch_device(kind(&kind_)?, device_id).await)
    }

    /// Restarts ICE (after a network change): the media finds a path again.
    #[wasm_bindgen(js_name = restartIce)]
    pub async fn restart_ice(&self) -> JsResult<()> {
        js(self.inner.restart_ice().await)
    }

    /// Leaves the call and closes its media.
    pub async fn leave(&self) -> JsResult<()> {
        js(self.inner.leave().await)
    }

    /// Calls `callback` on each `event` of the call from now on:
    /// `participantJoined (participant)`, `participantLeft (participantId, reason)`,
    /// `trackSubscribed (track: MediaStreamTrack, info: RemoteTrackInfo)`,
    /// `trackUnsubscribed (participantId, trackId)`, `trackMuted (participantId, track)`,
    /// `activeSpeakers (participantIds)`, `connectionState (state)`, `ended ()`.
    pub fn on(&self, event: String, callback: js_sys::Function) -> JsResult<Subscription> {
        const EVENTS: [&str; 8] = [
            "participantJoined",
            "participantLeft",
            "trackSubscribed",
            "trackUnsubscribed",
            "trackMuted",
            "activeSpeakers",
            "connectionState",
            "ended",
        ];
        if !EVENTS.contains(&event.as_str()) {
            return Err(invalid("event", format!("`{event}` is not one of {}", EVENTS.join(", "))));
        }
        let mut updates = self.inner.updates();
        let media = self.media.clone();
        Ok(spawn(async move {
            while let Some(update) = updates.next().await {
                let args: Option<(&str, Vec<JsValue>)> = match &update {
                    CallUpdate::ParticipantJoined(p) => Some(("participantJoined", vec![to_js(p)])),
                    CallUpdate::ParticipantLeft { participant_id, reason } => {
                        Some(("participantLeft", vec![participant_id.to_string().into(), to_js(reason)]))
                    }
                    CallUpdate::TrackSubscribed(t) => media
                        .remote_track(t.mid())
                        .map(|track| ("trackSubscribed", vec![track.into(), to_js(&RemoteTrackInfo::from(t))])),
                    CallUpdate::TrackUnsubscribed { participant_id, track_id } => {
                        Some(("trackUnsubscribed", vec![participant_id.to_string().into(), track_id.clone().into()]))
                    }
                    CallUpdate::TrackMuted { participant_id, track } => {
                        Some(("trackMuted", vec![participant_id.to_string().into(), to_js(track)]))
                    }
                    CallUpdate::ActiveSpeakers(ids) => Some(("activeSpeakers", vec![to_js(ids)])),
                    CallUpdate::ConnectionState(s) => Some(("connectionState", vec![connection_state(*s).into()])),
                    CallUpdate::Ended => Some(("ended", vec![])),
                    _ => None,
                };
                if let Some((name, args)) = args
                    && name == event
                {
                    let args: js_sys::Array = args.into_iter().collect();
                    if let Err(e) = callback.apply(&JsValue::NULL, &args) {
                        crate::subscription::log_error(&e);
                    }
                }
            }
        }))
    }
}

/// The cameras, microphones and speakers (`MediaDeviceInfo[]`).
#[wasm_bindgen(js_name = listDevices, unchecked_return_type = "MediaDeviceInfo[]")]
pub async fn list_media_devices() -> JsResult<JsValue> {
    js(list_devices().await)
}
