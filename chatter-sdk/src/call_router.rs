//! Routes the server's call frames from the sync connection to the call they are about.
//! A frame for a call not yet registered (it can arrive between the join's answer and
//! the call's start) is kept a little while for it.

use chatter_core::CallId;
use chatter_core::protocol::CallInfo;
use chatter_core::protocol::ws::{CallEvent, CallSignal};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;
use tokio::sync::mpsc;

/// Frames for unknown calls kept for a call that is about to register.
const ORPHANS: usize = 64;

/// A call frame from the server.
#[derive(Debug, Clone)]
pub(crate) enum CallFrame {
    /// SDP or ICE for this client's participant.
    Signal(CallSignal),
    /// Something happened in the call.
    Event(CallEvent),
    /// The call ended.
    Ended,
    /// The client is being disposed of: leave the call and stop.
    Leave,
    /// The sync connection is back (frames sent meanwhile were lost): read the call again.
    Reconnected,
    /// The call as read again after a reconnection.
    ReadAgain(ReadAgain),
}

/// What reading a call again found.
#[derive(Debug, Clone)]
pub(crate) enum ReadAgain {
    /// The call running in the chat.
    Running(CallInfo),
    /// No call runs in the chat.
    NoCall,
    /// The read failed every time.
    Unknown,
}

/// The client's running calls.
#[derive(Debug, Default)]
pub(crate) struct CallRouter {
    inner: Mutex<Routes>,
}

#[derive(Debug, Default)]
struct Routes {
    calls: HashMap<CallId, mpsc::UnboundedSender<CallFrame>>,
    orphans: VecDeque<(CallId, CallFrame)>,
}

impl CallRouter {
    fn routes(&self) -> std::sync::MutexGuard<'_, Routes> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Starts routing `call_id` to `to`, with the frames that came before.
    pub(crate) fn register(&self, call_id: CallId, to: mpsc::UnboundedSender<CallFrame>) {
        let mut routes = self.routes();
        let (early, rest): (VecDeque<_>, VecDeque<_>) = routes.orphans.drain(..).partition(|(id, _)| id == &call_id);
        routes.orphans = rest;
        for (_, frame) in early {
            let _ = to.send(frame);
        }
        routes.calls.insert(call_id, to);
    }

    /// Stops routing `call_id` to `to` (not to a later registration of the same call),
    /// and forgets the call's early frames.
    pub(crate) fn unregister(&self, call_id: &CallId, to: &mpsc::UnboundedSender<CallFrame>) {
        let mut routes = self.routes();
        if routes.calls.get(call_id).is_some_and(|current| current.same_channel(to)) {
            routes.calls.remove(call_id);
        }
        routes.orphans.retain(|(id, _)| id != call_id);
    }

    /// Asks every running call to leave and stop (the client is disposed of).
    pub(crate) fn leave_all(&self) {
        for (_, to) in self.routes().calls.drain() {
            let _ = to.send(CallFrame::Leave);
        }
    }

    /// Tells every running call that the sync connection is back.
    pub(crate) fn reconnected(&self) {
        self.routes().calls.retain(|_, to| to.send(CallFrame::Reconnected).is_ok());
    }

    /// Hands a frame to its call.
    pub(crate) fn route(&self, call_id: &CallId, frame: CallFrame) {
        let mut routes = self.routes();
        match routes.calls.get(call_id) {
            Some(to) => {
                if to.send(frame).is_err() {
                    routes.calls.remove(call_id);
                }
            }
            None => {
                if routes.orphans.len() == ORPHANS {
                    routes.orphans.pop_front();
                }
                routes.orphans.push_back((call_id.clone(), frame));
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn early_frames_wait_for_their_call() {
        let router = CallRouter::default();
        let (k1, k2) = (CallId::new("k1"), CallId::new("k2"));
        router.route(&k1, CallFrame::Ended);
        router.route(&k2, CallFrame::Ended);
        let (tx, mut rx) = mpsc::unbounded_channel();
        router.register(k1.clone(), tx.clone());
        assert!(matches!(rx.try_recv(), Ok(CallFrame::Ended)));
        assert!(rx.try_recv().is_err(), "another call's frame is not delivered");
        router.route(&k1, CallFrame::Ended);
        assert!(matches!(rx.try_recv(), Ok(CallFrame::Ended)));
        // A later registration of the same call keeps its route when the old one goes.
        let (newer, mut newer_rx) = mpsc::unbounded_channel();
        router.register(k1.clone(), newer.clone());
        router.unregister(&k1, &tx);
        router.route(&k1, CallFrame::Ended);
        assert!(matches!(newer_rx.try_recv(), Ok(CallFrame::Ended)));
        router.unregister(&k1, &newer);
        router.route(&k1, CallFrame::Ended);
        assert!(rx.try_recv().is_err() && newer_rx.try_recv().is_err());
    }
}
