//! SDK errors as the package's `ChatterError` (a JavaScript `Error` subclass defined in
//! `js/errors.js`, so `instanceof` works in apps).

use chatter_sdk::SdkError;
use wasm_bindgen::prelude::*;

#[wasm_bindgen(module = "/js/errors.js")]
extern "C" {
    #[wasm_bindgen(js_name = ChatterError)]
    type JsChatterError;

    #[wasm_bindgen(constructor, js_class = ChatterError)]
    fn new(code: &str, message: &str, field: Option<String>, retry_after_ms: Option<f64>) -> JsChatterError;

    /// The class itself, for the package to export (the copy wasm-bindgen bundles is the
    /// one errors are made from, so it is the one `instanceof` must see).
    #[wasm_bindgen(thread_local_v2, js_name = ChatterError)]
    static CHATTER_ERROR_CLASS: JsValue;
}

/// The `ChatterError` class (the package's entry points export it).
#[wasm_bindgen(js_name = errorClass, skip_typescript)]
pub fn error_class() -> JsValue {
    CHATTER_ERROR_CLASS.with(JsValue::clone)
}

/// A rejected promise's value.
pub(crate) fn to_js(e: SdkError) -> JsValue {
    let retry = e.retry_after().map(|d| d.as_millis() as f64);
    JsChatterError::new(e.code(), &e.to_string(), e.field().map(str::to_owned), retry).into()
}

/// An input from JavaScript that is not what the API takes.
pub(crate) fn invalid(field: &str, message: impl Into<String>) -> JsValue {
    JsChatterError::new("validation_failed", &message.into(), Some(field.to_owned()), None).into()
}

/// The package's result type: errors are `ChatterError`s.
pub(crate) type JsResult<T> = Result<T, JsValue>;

/// Maps an SDK result.
pub(crate) fn js<T>(r: chatter_sdk::Result<T>) -> JsResult<T> {
    r.map_err(to_js)
}
