//! The SDK's media backend in the browser: one `RTCPeerConnection` (through web-sys) to
//! the server's SFU, the microphone and camera from `getUserMedia`, the screen from
//! `getDisplayMedia`, and the others' tracks as `MediaStreamTrack`s by line (`mid`).

mod devices;

pub(crate) use devices::list_devices;

use chatter_sdk::SdkError;
use chatter_sdk::call::{ConnectionState, MediaBackend, MediaEvents, RemoteTrack};
use chatter_sdk::protocol::ws::IceCandidate;
use chatter_sdk::protocol::{IceServer, TrackKind};
use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{
    MediaStream, MediaStreamTrack, RtcConfiguration, RtcIceCandidateInit, RtcIceServer, RtcPeerConnection,
    RtcPeerConnectionIceEvent, RtcPeerConnectionState, RtcRtpTransceiver, RtcRtpTransceiverDirection,
    RtcRtpTransceiverInit, RtcSdpType, RtcSessionDescriptionInit, RtcTrackEvent,
};

type Result<T> = chatter_sdk::Result<T>;

fn media_error(e: impl std::fmt::Debug) -> SdkError {
    SdkError::Media(format!("{e:?}").trim_matches('"').to_owned())
}

/// A published (or paused) local track: its line, and the track while it is on.
struct Local {
    transceiver: RtcRtpTransceiver,
    track: Option<MediaStreamTrack>,
}

/// The browser's media for one call. Cheap to clone; the call owns one clone, the
/// package's `Call` another (for the tracks and devices).
#[derive(Clone, Default)]
pub(crate) struct BrowserMedia {
    state: Rc<RefCell<State>>,
}

#[derive(Default)]
struct State {
    pc: Option<RtcPeerConnection>,
    local: HashMap<TrackKind, Local>,
    /// Tracks arriving, by line.
    remote: HashMap<String, MediaStreamTrack>,
    /// The device chosen for the microphone and the camera (`deviceId`), if not the
    /// default.
    devices: HashMap<TrackKind, String>,
    /// The connection's event handlers, alive as long as it is.
    handlers: Vec<Closure<dyn FnMut(JsValue)>>,
}

impl std::fmt::Debug for BrowserMedia {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.state.borrow();
        f.debug_struct("BrowserMedia")
            .field("open", &state.pc.is_some())
            .field("published", &state.local.iter().filter(|(_, l)| l.track.is_some()).count())
            .field("receiving", &state.remote.len())
            .finish()
    }
}

fn kind_name(kind: TrackKind) -> &'static str {
    if kind.is_video() { "video" } else { "audio" }
}

fn description(kind: RtcSdpType, sdp: Option<&str>) -> RtcSessionDescriptionInit {
    let init = RtcSessionDescriptionInit::new(kind);
    if let Some(sdp) = sdp {
        init.set_sdp(sdp);
    }
    init
}

/// Waits for a promise of the connection, its rejection as a media error.
async fn settle(promise: js_sys::Promise) -> Result<JsValue> {
    JsFuture::from(promise).await.map_err(media_error)
}

/// Sets the local description (`sdp: None` for a rollback).
async fn set_local(pc: &RtcPeerConnection, kind: RtcSdpType, sdp: Option<&str>) -> Result<()> {
    settle(pc.set_local_description(&description(kind, sdp))).await.map(drop)
}

/// Sets the remote description.
async fn set_remote(pc: &RtcPeerConnection, kind: RtcSdpType, sdp: &str) -> Result<()> {
    settle(pc.set_remote_description(&description(kind, Some(sdp)))).await.map(drop)
}

/// The `sdp` of a description a promise answered.
fn sdp_of(value: &JsValue) -> Result<String> {
    js_sys::Reflect::get(value, &"sdp".into()).ok().and_then(|s| s.as_string()).ok_or_else(|| media_error("no sdp"))
}

impl BrowserMedia {
    fn pc(&self) -> Result<RtcPeerConnection> {
        self.state.borrow().pc.clone().ok_or_else(|| media_error("the media connection is not open"))
    }

    /// The track arriving on line `mid`.
    pub(crate) fn remote_track(&self, mid: &str) -> Option<MediaStreamTrack> {
        self.state.borrow().remote.get(mid).cloned()
    }

    /// The local track of `kind` while it is published.
    pub(crate) fn local_track(&self, kind: TrackKind) -> Option<MediaStreamTrack> {
        self.state.borrow().local.get(&kind).and_then(|l| l.track.clone())
    }

    /// The peer connection, for `getStats()`.
    pub(crate) fn connection(&self) -> Option<RtcPeerConnection> {
        self.state.borrow().pc.clone()
    }

    /// Uses device `device_id` for `kind` (microphone or camera) from now on; a published
    /// track switches at once (`replaceTrack`, no renegotiation).
    pub(crate) async fn switch_device(&self, kind: TrackKind, device_id: String) -> Result<()> {
        if kind == TrackKind::Screen {
            return Err(SdkError::InvalidRequest("the screen has no device to choose".into()));
        }
        self.state.borrow_mut().devices.insert(kind, device_id);
        let published = self.state.borrow().local.get(&kind).map(|l| (l.transceiver.clone(), l.track.clone()));
        if let Some((transceiver, Some(old))) = published {
            let (track, _) = self.capture(kind).await?;
            track.set_enabled(old.enabled());
            settle(transceiver.sender().replace_track(Some(&track))).await?;
            old.stop();
            if let Some(local) = self.state.borrow_mut().local.get_mut(&kind) {
                local.track = Some(track);
            }
        }
        Ok(())
    }

    /// A new track of `kind` from the chosen device (or the screen).
    async fn capture(&self, kind: TrackKind) -> Result<(MediaStreamTrack, MediaStream)> {
        let device = self.state.borrow().devices.get(&kind).cloned();
        let stream = devices::capture(kind, device.as_deref()).await?;
        let track = stream
            .get_tracks()
            .iter()
            .next()
            .and_then(|t| t.dyn_into::<MediaStreamTrack>().ok())
            .ok_or_else(|| media_error(format!("no {kind} track was given")))?;
        Ok((track, stream))
    }
}

#[async_trait::async_trait(?Send)]
impl MediaBackend for BrowserMedia {
    async fn open(&self, ice_servers: &[IceServer], events: MediaEvents) -> Result<()> {
        let servers = js_sys::Array::new();
        for s in ice_servers {
            let server = RtcIceServer::new();
            server.set_urls(&s.urls.iter().map(|u| JsValue::from_str(u)).collect::<js_sys::Array>());
            if let Some(username) = &s.username {
                server.set_username(username);
            }
            if let Some(credential) = &s.credential {
                server.set_credential(credential);
            }
            servers.push(&server);
        }
        let config = RtcConfiguration::new();
        config.set_ice_servers(&servers);
        let pc = RtcPeerConnection::new_with_configuration(&config).map_err(media_error)?;

        let on_candidate = {
            let events = events.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                let Some(candidate) = e.unchecked_into::<RtcPeerConnectionIceEvent>().candidate() else { return };
                let json = candidate.to_json();
                let field = |name: &str| js_sys::Reflect::get(&json, &name.into()).ok();
                events.ice_candidate(IceCandidate {
                    candidate: candidate.candidate(),
                    sdp_mid: candidate.sdp_mid(),
                    sdp_mline_index: candidate.sdp_m_line_index(),
                    username_fragment: field("usernameFragment").and_then(|v| v.as_string()),
                });
            })
        };
        let on_state = {
            let (events, pc) = (events.clone(), pc.clone());
            Closure::<dyn FnMut(JsValue)>::new(move |_| {
                events.connection_state(match pc.connection_state() {
                    RtcPeerConnectionState::Connected => ConnectionState::Connected,
                    RtcPeerConnectionState::Disconnected => ConnectionState::Disconnected,
                    RtcPeerConnectionState::Failed => ConnectionState::Failed,
                    RtcPeerConnectionState::Closed => ConnectionState::Closed,
                    _ => ConnectionState::Connecting,
                });
            })
        };
        let on_track = {
            let state = self.state.clone();
            Closure::<dyn FnMut(JsValue)>::new(move |e: JsValue| {
                let event = e.unchecked_into::<RtcTrackEvent>();
                let Some(mid) = event.transceiver().mid() else { return };
                state.borrow_mut().remote.insert(mid.clone(), event.track());
                events.remote_track(mid);
            })
        };
        pc.set_onicecandidate(Some(on_candidate.as_ref().unchecked_ref()));
        pc.set_onconnectionstatechange(Some(on_state.as_ref().unchecked_ref()));
        pc.set_ontrack(Some(on_track.as_ref().unchecked_ref()));
        let mut state = self.state.borrow_mut();
        state.handlers = vec![on_candidate, on_state, on_track];
        state.pc = Some(pc);
        Ok(())
    }

    async fn create_offer(&self) -> Result<String> {
        let pc = self.pc()?;
        let sdp = sdp_of(&settle(pc.create_offer()).await?)?;
        set_local(&pc, RtcSdpType::Offer, Some(&sdp)).await?;
        Ok(sdp)
    }

    async fn accept_offer(&self, offer: String) -> Result<String> {
        let pc = self.pc()?;
        set_remote(&pc, RtcSdpType::Offer, &offer).await?;
        let sdp = sdp_of(&settle(pc.create_answer()).await?)?;
        set_local(&pc, RtcSdpType::Answer, Some(&sdp)).await?;
        Ok(sdp)
    }

    async fn rollback(&self) -> Result<()> {
        set_local(&self.pc()?, RtcSdpType::Rollback, None).await
    }

    async fn accept_answer(&self, answer: String) -> Result<()> {
        set_remote(&self.pc()?, RtcSdpType::Answer, &answer).await
    }

    async fn add_ice_candidate(&self, candidate: IceCandidate) -> Result<()> {
        let init = RtcIceCandidateInit::new(&candidate.candidate);
        init.set_sdp_mid(candidate.sdp_mid.as_deref());
        init.set_sdp_m_line_index(candidate.sdp_mline_index);
        if let Some(ufrag) = &candidate.username_fragment {
            let _ = js_sys::Reflect::set(&init, &"usernameFragment".into(), &ufrag.into());
        }
        settle(self.pc()?.add_ice_candidate_with_opt_rtc_ice_candidate_init(Some(&init))).await.map(drop)
    }

    async fn add_receiver(&self, kind: TrackKind) -> Result<()> {
        let init = RtcRtpTransceiverInit::new();
        init.set_direction(RtcRtpTransceiverDirection::Recvonly);
        self.pc()?.add_transceiver_with_str_and_init(kind_name(kind), &init);
        Ok(())
    }

    async fn publish(&self, kind: TrackKind) -> Result<bool> {
        if self.local_track(kind).is_some() {
            return Ok(false);
        }
        let (track, stream) = self.capture(kind).await?;
        let kept = self.state.borrow().local.get(&kind).map(|l| l.transceiver.clone());
        if let Some(transceiver) = kept {
            // Its line is still negotiated: the new track goes out on it, no offer needed.
            settle(transceiver.sender().replace_track(Some(&track))).await?;
            if let Some(local) = self.state.borrow_mut().local.get_mut(&kind) {
                local.track = Some(track);
            }
            return Ok(false);
        }
        let init = RtcRtpTransceiverInit::new();
        init.set_direction(RtcRtpTransceiverDirection::Sendonly);
        init.set_streams(&js_sys::Array::of1(&stream));
        let transceiver = self.pc()?.add_transceiver_with_media_stream_track_and_init(&track, &init);
        self.state.borrow_mut().local.insert(kind, Local { transceiver, track: Some(track) });
        Ok(true)
    }

    async fn unpublish(&self, kind: TrackKind) -> Result<()> {
        let local = self.state.borrow_mut().local.get_mut(&kind).map(|l| (l.transceiver.clone(), l.track.take()));
        if let Some((transceiver, Some(track))) = local {
            // The line stays for the next time; the device is released (its light goes off).
            track.stop();
            settle(transceiver.sender().replace_track(None)).await?;
        }
        Ok(())
    }

    async fn set_muted(&self, kind: TrackKind, muted: bool) -> Result<()> {
        let track =
            self.local_track(kind).ok_or_else(|| SdkError::InvalidRequest(format!("no {kind} track is published")))?;
        track.set_enabled(!muted);
        Ok(())
    }

    async fn restart_ice(&self) -> Result<()> {
        let pc = self.pc()?;
        let restart = js_sys::Reflect::get(&pc, &"restartIce".into()).map_err(media_error)?;
        js_sys::Function::from(restart).call0(&pc).map_err(media_error)?;
        Ok(())
    }

    fn remote_track_changed(&self, _mid: &str, _track: Option<&RemoteTrack>) {
        // The browser keeps one MediaStreamTrack per line; the app shows it under whoever
        // the call says the line carries now.
    }

    async fn close(&self) {
        let mut state = self.state.borrow_mut();
        for local in state.local.values() {
            if let Some(track) = &local.track {
                track.stop();
            }
        }
        if let Some(pc) = state.pc.take() {
            pc.set_onicecandidate(None);
            pc.set_onconnectionstatechange(None);
            pc.set_ontrack(None);
            pc.close();
        }
        state.local.clear();
        state.remote.clear();
        state.handlers.clear();
    }
}
