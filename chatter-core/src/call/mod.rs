//! Calls without media: who is in a call and what they publish (`room`, the server's
//! bookkeeping), the client's side of SDP negotiation (`negotiation`), and the client's
//! picture of a call built from the server's events (`view`). The media itself is the
//! host's: str0m in the server, the platform's WebRTC in apps and browsers.

pub mod negotiation;
pub mod room;
pub mod view;

pub use negotiation::{Negotiation, NegotiationStep};
pub use room::{NewLine, Room, RoomError};
pub use view::CallView;
