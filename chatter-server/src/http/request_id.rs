//! Request ids: taken from `X-Request-Id` or made here, echoed in the answer and put on
//! the request's log span (with method and path; never headers, tokens or bodies).

use axum::http::{HeaderValue, Request};
use rand::Rng;
use tower_http::request_id::{MakeRequestId, RequestId};
use tracing::Span;

/// Makes random request ids.
#[derive(Clone, Copy, Debug, Default)]
pub struct MakeId;

impl MakeRequestId for MakeId {
    fn make_request_id<B>(&mut self, _: &Request<B>) -> Option<RequestId> {
        let id = format!("{:016x}", rand::rng().random::<u64>());
        HeaderValue::from_str(&id).ok().map(RequestId::new)
    }
}

/// The log span of a request.
pub fn span<B>(req: &Request<B>) -> Span {
    let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("-");
    tracing::info_span!("request", id, method = %req.method(), path = %req.uri().path())
}
