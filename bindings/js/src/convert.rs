//! Rust values to and from plain JavaScript objects, shaped as the REST API's JSON
//! (snake_case fields, ids and times as strings).

use crate::error::{JsResult, invalid};
use serde::Serialize;
use serde::de::DeserializeOwned;
use wasm_bindgen::JsValue;

/// `value` as a plain object (maps as objects, not `Map`s).
pub(crate) fn to_js<T: Serialize + ?Sized>(value: &T) -> JsValue {
    let serializer = serde_wasm_bindgen::Serializer::new().serialize_maps_as_objects(true);
    // Our types always serialize: they are the wire's own.
    value.serialize(&serializer).unwrap_or(JsValue::NULL)
}

/// A JavaScript object as `T`, or a `validation_failed` error naming `field`.
pub(crate) fn from_js<T: DeserializeOwned>(value: JsValue, field: &str) -> JsResult<T> {
    serde_wasm_bindgen::from_value(value).map_err(|e| invalid(field, e.to_string()))
}
