//! Realtime: the node's socket registry and fan-out (`hub`), per-socket event ordering
//! (`sequencer`), and the connection task that speaks the WebSocket protocol.

mod close;
mod connection;
mod feed;
pub(crate) mod frames;
mod hub;
mod outbox;
mod sequencer;
mod socket;
mod wire;

pub use close::{CloseCode, CloseSignal};
pub use connection::{Credentials, serve_socket};
pub use hub::{Hub, HubLimits, Outbound, Registration, TooMany};
pub use outbox::{Full, Outbox};
pub use sequencer::{Decision, Sequencer};
pub use socket::{SocketIn, SocketOut, open as open_socket};
pub use wire::accept_key;
