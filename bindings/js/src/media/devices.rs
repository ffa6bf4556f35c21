//! The browser's cameras, microphones and screens (`navigator.mediaDevices`).

use super::media_error;
use chatter_sdk::protocol::TrackKind;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;
use web_sys::{DisplayMediaStreamConstraints, MediaDevices, MediaStream, MediaStreamConstraints};

/// `navigator.mediaDevices` (only in a secure context: https, or localhost).
pub(crate) fn media_devices() -> chatter_sdk::Result<MediaDevices> {
    let navigator = js_sys::Reflect::get(&js_sys::global(), &"navigator".into()).map_err(media_error)?;
    let devices = js_sys::Reflect::get(&navigator, &"mediaDevices".into()).map_err(media_error)?;
    if devices.is_undefined() {
        return Err(media_error("no media devices here (a secure context is needed: https or localhost)"));
    }
    Ok(devices.unchecked_into())
}

/// A stream with one track of `kind`: the microphone or camera (`device`, or the
/// default), or a screen the user picks.
pub(crate) async fn capture(kind: TrackKind, device: Option<&str>) -> chatter_sdk::Result<MediaStream> {
    let devices = media_devices()?;
    let wanted: JsValue = match device {
        Some(id) => {
            let exact = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&exact, &"exact".into(), &id.into());
            let constraints = js_sys::Object::new();
            let _ = js_sys::Reflect::set(&constraints, &"deviceId".into(), &exact);
            constraints.into()
        }
        None => JsValue::TRUE,
    };
    let promise = match kind {
        TrackKind::Audio => {
            let c = MediaStreamConstraints::new();
            c.set_audio(&wanted);
            devices.get_user_media_with_constraints(&c)
        }
        TrackKind::Video => {
            let c = MediaStreamConstraints::new();
            c.set_video(&wanted);
            devices.get_user_media_with_constraints(&c)
        }
        TrackKind::Screen => {
            let c = DisplayMediaStreamConstraints::new();
            c.set_video(&JsValue::TRUE);
            devices.get_display_media_with_constraints(&c)
        }
    }
    .map_err(media_error)?;
    Ok(JsFuture::from(promise).await.map_err(media_error)?.unchecked_into())
}

/// The cameras, microphones and speakers (`MediaDeviceInfo`s; labels once the user
/// allowed a capture).
pub(crate) async fn list_devices() -> chatter_sdk::Result<JsValue> {
    let promise = media_devices()?.enumerate_devices().map_err(media_error)?;
    JsFuture::from(promise).await.map_err(media_error)
}
