//! WebSockets through the browser's `WebSocket`.

use super::{TransportError, WebSocket, WebSocketConnector, WsEvent};
use tokio::sync::mpsc;
use wasm_bindgen::JsCast;
use wasm_bindgen::closure::Closure;
use web_sys::{CloseEvent, Event, MessageEvent};

/// Opens WebSockets with the browser's `WebSocket`.
#[derive(Debug, Clone, Default)]
pub struct BrowserWebSocketConnector;

enum Signal {
    Open,
    Event(WsEvent),
}

struct BrowserSocket {
    socket: web_sys::WebSocket,
    events: mpsc::UnboundedReceiver<Signal>,
    closed: Option<WsEvent>,
    // Kept alive as long as the socket: the browser calls them.
    _on_open: Closure<dyn FnMut(Event)>,
    _on_message: Closure<dyn FnMut(MessageEvent)>,
    _on_close: Closure<dyn FnMut(CloseEvent)>,
    _on_error: Closure<dyn FnMut(Event)>,
}

#[async_trait::async_trait(?Send)]
impl WebSocketConnector for BrowserWebSocketConnector {
    async fn connect(&self, url: &str) -> Result<Box<dyn WebSocket>, TransportError> {
        let socket = web_sys::WebSocket::new(url).map_err(|e| TransportError(format!("{e:?}")))?;
        let (tx, events) = mpsc::unbounded_channel();
        let open_tx = tx.clone();
        let on_open = Closure::<dyn FnMut(Event)>::new(move |_| {
            let _ = open_tx.send(Signal::Open);
        });
        let message_tx = tx.clone();
        let on_message = Closure::<dyn FnMut(MessageEvent)>::new(move |e: MessageEvent| {
            if let Some(text) = e.data().as_string() {
                let _ = message_tx.send(Signal::Event(WsEvent::Text(text)));
            }
        });
        let close_tx = tx.clone();
        let on_close = Closure::<dyn FnMut(CloseEvent)>::new(move |e: CloseEvent| {
            let _ = close_tx.send(Signal::Event(WsEvent::Closed { code: Some(e.code()), reason: e.reason() }));
        });
        let on_error = Closure::<dyn FnMut(Event)>::new(move |_| {
            let _ = tx.send(Signal::Event(WsEvent::Closed { code: None, reason: "WebSocket error".into() }));
        });
        socket.set_onopen(Some(on_open.as_ref().unchecked_ref()));
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        socket.set_onerror(Some(on_error.as_ref().unchecked_ref()));
        let mut opened = BrowserSocket {
            socket,
            events,
            closed: None,
            _on_open: on_open,
            _on_message: on_message,
            _on_close: on_close,
            _on_error: on_error,
        };
        match opened.events.recv().await {
            Some(Signal::Open) => Ok(Box::new(opened)),
            Some(Signal::Event(WsEvent::Closed { reason, .. })) => Err(TransportError(reason)),
            _ => Err(TransportError("the WebSocket did not open".into())),
        }
    }
}

/// A dropped socket closes, and the browser forgets its handlers before their closures
/// are freed: a late event would otherwise call into freed memory (a JavaScript error),
/// and the open connection would outlive everything that could read it.
impl Drop for BrowserSocket {
    fn drop(&mut self) {
        self.socket.set_onopen(None);
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        self.socket.set_onerror(None);
        let state = self.socket.ready_state();
        if state == web_sys::WebSocket::CONNECTING || state == web_sys::WebSocket::OPEN {
            let _ = self.socket.close_with_code(1000);
        }
    }
}

#[async_trait::async_trait(?Send)]
impl WebSocket for BrowserSocket {
    async fn send(&mut self, text: String) -> Result<(), TransportError> {
        self.socket.send_with_str(&text).map_err(|e| TransportError(format!("{e:?}")))
    }

    async fn receive(&mut self) -> WsEvent {
        if let Some(event) = &self.closed {
            return event.clone();
        }
        loop {
            let event = match self.events.recv().await {
                Some(Signal::Event(WsEvent::Text(text))) => return WsEvent::Text(text),
                Some(Signal::Open) => continue,
                Some(Signal::Event(closed)) => closed,
                None => WsEvent::Closed { code: None, reason: String::new() },
            };
            self.closed = Some(event.clone());
            return event;
        }
    }

    async fn close(&mut self) {
        let _ = self.socket.close_with_code(1000);
    }
}
