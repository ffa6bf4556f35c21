//! The page's (or worker's) `localStorage`, with errors the SDK can report.

use crate::error::{Result, SdkError};
use wasm_bindgen::JsCast;

fn storage_error(what: &str, e: impl std::fmt::Debug) -> SdkError {
    SdkError::Storage(format!("localStorage {what}: {e:?}"))
}

/// The global `localStorage` (not in workers: there it is an error).
pub(super) fn local_storage() -> Result<web_sys::Storage> {
    let global = js_sys::global();
    let value = js_sys::Reflect::get(&global, &"localStorage".into()).map_err(|e| storage_error("access", e))?;
    value.dyn_into::<web_sys::Storage>().map_err(|_| storage_error("access", "not available here (a worker?)"))
}

pub(super) fn get(key: &str) -> Result<Option<String>> {
    local_storage()?.get_item(key).map_err(|e| storage_error("read", e))
}

pub(super) fn set(key: &str, value: &str) -> Result<()> {
    // Fails when the quota is full or storage is disabled: the caller reports it.
    local_storage()?.set_item(key, value).map_err(|e| storage_error("write", e))
}

pub(super) fn remove(key: &str) -> Result<()> {
    local_storage()?.remove_item(key).map_err(|e| storage_error("remove", e))
}

/// Every key starting with `prefix`.
pub(super) fn keys_with_prefix(prefix: &str) -> Result<Vec<String>> {
    let storage = local_storage()?;
    let len = storage.length().map_err(|e| storage_error("read", e))?;
    let mut keys = Vec::new();
    for i in 0..len {
        if let Ok(Some(key)) = storage.key(i)
            && key.starts_with(prefix)
        {
            keys.push(key);
        }
    }
    Ok(keys)
}
