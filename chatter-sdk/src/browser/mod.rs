//! Storage in the browser: the session and the send queue in `localStorage`, with Web
//! Locks so that each tab owns its queue and a closed tab's unsent messages are taken
//! over by the next tab that starts.

mod local_storage;
mod send_queue_store;
mod session_store;
mod web_locks;

pub use send_queue_store::BrowserSendQueueStore;
pub use session_store::BrowserSessionStore;
