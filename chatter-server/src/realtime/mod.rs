//! Realtime: the node's socket registry and fan-out (`hub`), per-socket event ordering
//! (`sequencer`), and the connection task that speaks the WebSocket protocol.

mod close;
mod connection;
mod frames;
mod hub;
mod sequencer;

pub use close::{CloseCode, CloseSignal};
pub use connection::{Credentials, serve_socket};
pub use hub::{Hub, HubLimits, Outbound, Registration, TooMany};
pub use sequencer::{Decision, Sequencer};
