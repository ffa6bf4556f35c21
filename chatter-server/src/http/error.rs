//! Core errors as HTTP answers: the `{"error": …}` body, status and `Retry-After` of
//! [`PublicError`], the one mapping HTTP and the WebSocket share.

use crate::public_error::PublicError;
use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chatter_core::Error;
use chatter_core::protocol::{ErrorBody, ErrorDetail};
use utoipa::ToResponse;
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response as DocResponse};

/// An error answer.
#[derive(Debug)]
pub struct ApiError(pub Error);

impl From<Error> for ApiError {
    fn from(e: Error) -> Self {
        Self(e)
    }
}

impl From<chatter_core::StoreError> for ApiError {
    fn from(e: chatter_core::StoreError) -> Self {
        Self(e.into())
    }
}

/// A 400 `invalid_request` with this message.
pub fn invalid(message: impl Into<String>) -> ApiError {
    ApiError(Error::invalid(message))
}

/// Builds an error answer from its parts (also used for rejections and fallbacks).
pub fn error_response(status: StatusCode, code: &str, message: String, field: Option<String>) -> Response {
    let body = ErrorBody { error: ErrorDetail { code: code.to_owned(), message, field } };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let public = PublicError::of(&self.0);
        let mut response = error_response(public.status, public.code, public.message, public.field);
        if let Some(secs) = public.retry_after_secs {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;

// The error answers as the API reference names them (`response = NotFound` in a
// handler's `utoipa::path`).

/// An error answer of the API's error shape, with `Retry-After` when it says to wait.
fn documented(description: &str, retry_after: bool) -> RefOr<DocResponse> {
    let mut response = ResponseBuilder::new()
        .description(description)
        .content("application/json", ContentBuilder::new().schema(Some(Ref::from_schema_name("ErrorBody"))).build());
    if retry_after {
        let seconds = ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(0));
        let header =
            HeaderBuilder::new().schema(Some(seconds)).description(Some("Seconds to wait before trying again."));
        response = response.header("Retry-After", header.build());
    }
    response.build().into()
}

/// Declares the error answers operations refer to by name.
macro_rules! error_responses {
    ($($name:ident: $retry:expr, $description:expr;)*) => {$(
        #[doc = $description]
        pub struct $name;

        impl<'r> ToResponse<'r> for $name {
            fn response() -> (&'r str, RefOr<DocResponse>) {
                (stringify!($name), documented($description, $retry))
            }
        }
    )*};
}

error_responses! {
    BadRequest: false, "`invalid_request` (malformed JSON, unknown or missing fields, wrong types, or a call that \
        makes no sense) or `validation_failed` (a value breaks a rule; `field` names it).";
    Unauthenticated: false, "`unauthenticated`: missing, invalid, expired or revoked credentials. The only case in \
        which a client must log in again.";
    Forbidden: false, "`forbidden`: the caller can see the thing but may not do this. Also answered to a \
        cookie-authenticated write whose `Origin` is missing or not accepted.";
    ForbiddenOrWrongPassword: false, "`wrong_password`: the re-authentication password is wrong; or `forbidden`: a \
        cookie-authenticated write without an accepted `Origin`.";
    NotFound: false, "`not_found`: it does not exist, or the caller may not see it (a private chat is never \
        revealed).";
    Conflict: false, "`username_taken`: the username already exists (usernames are never reused).";
    PayloadTooLarge: false, "`payload_too_large`: the body is over the limit (1 MiB by default).";
    RateLimited: true, "`rate_limited`: too many requests; for password calls, the bounded password-hashing pool \
        is saturated. Retry after `Retry-After` seconds.";
    Unavailable: true, "`unavailable`: the store is unreachable. Answered within about 2 s, never hangs. Retry \
        after `Retry-After` seconds.";
    Internal: false, "`internal`: a bug. Details are only in the server log.";
}

/// Refers to the error answer `name` among the document's components.
fn answer_ref(name: &str) -> RefOr<DocResponse> {
    RefOr::Ref(Ref::new(format!("#/components/responses/{name}")))
}

/// Declares bundles of error answers nearly every operation can give, so each
/// `utoipa::path` names the bundle instead of repeating its lines.
macro_rules! answer_bundles {
    ($($(#[$doc:meta])* $bundle:ident: [$(($status:literal, $name:ident)),*];)*) => {$(
        $(#[$doc])*
        pub struct $bundle;

        impl utoipa::IntoResponses for $bundle {
            fn responses() -> std::collections::BTreeMap<String, RefOr<DocResponse>> {
                [$(($status.to_owned(), answer_ref(stringify!($name)))),*].into_iter().collect()
            }
        }
    )*};
}

answer_bundles! {
    /// A store failure or outage: any operation that reads or writes the store.
    StoreFailures: [("500", Internal), ("503", Unavailable)];
    /// An authenticated operation's answers to a bad token and to a store failure.
    SignedIn: [("401", Unauthenticated), ("500", Internal), ("503", Unavailable)];
}
