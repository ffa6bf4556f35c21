//! The one place an error becomes what a client sees, over HTTP and on the WebSocket
//! alike: the public code (API.md's table), message and input field, the HTTP status,
//! and how long to wait before retrying. The details of `internal` and `unavailable`
//! go to the log (inside the request's span, which carries its request id), never to
//! the client.

use crate::sfu::SfuError;
use axum::http::StatusCode;
use chatter_core::Error;

/// An error as clients see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PublicError {
    /// The HTTP status (a socket's `error` frame has none, but the same code).
    pub status: StatusCode,
    /// The code of API.md's table.
    pub code: &'static str,
    /// What went wrong, for people; never internal details.
    pub message: String,
    /// The input field at fault, if any.
    pub field: Option<String>,
    /// Seconds to wait before trying again (`Retry-After`), if the client should.
    pub retry_after_secs: Option<u64>,
}

/// What `internal` answers say.
const INTERNAL_MESSAGE: &str = "internal error";
/// What `unavailable` answers say.
const UNAVAILABLE_MESSAGE: &str = "the service is unavailable, retry shortly";

impl PublicError {
    /// What a client is told of `e`. Logs the details it hides.
    pub fn of(e: &Error) -> Self {
        let message = match e {
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                INTERNAL_MESSAGE.to_owned()
            }
            Error::Unavailable(detail) => {
                tracing::warn!(%detail, "unavailable");
                UNAVAILABLE_MESSAGE.to_owned()
            }
            Error::NotFound { what, .. } => format!("{what} not found"),
            Error::Validation { message, .. } => message.clone(),
            other => other.to_string(),
        };
        let retry_after_secs = match e {
            Error::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            Error::Unavailable(_) => Some(1),
            _ => None,
        };
        Self { status: status_of(e), code: e.code(), message, field: e.field().map(str::to_owned), retry_after_secs }
    }
}

fn status_of(e: &Error) -> StatusCode {
    match e {
        Error::InvalidRequest { .. } | Error::Validation { .. } => StatusCode::BAD_REQUEST,
        Error::Unauthenticated => StatusCode::UNAUTHORIZED,
        Error::WrongPassword | Error::Forbidden(_) => StatusCode::FORBIDDEN,
        Error::NotFound { .. } => StatusCode::NOT_FOUND,
        Error::UsernameTaken | Error::Conflict(_) => StatusCode::CONFLICT,
        Error::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        Error::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
        _ => StatusCode::INTERNAL_SERVER_ERROR,
    }
}

/// The SFU's errors in the core's terms, so they reach clients through [`PublicError`]
/// like every other error.
impl From<SfuError> for Error {
    fn from(e: SfuError) -> Self {
        match e {
            SfuError::Full { .. } => Error::forbidden(e.to_string()),
            SfuError::NotInCall => Error::not_found("call participant"),
            SfuError::NoCall => Error::not_found("call"),
            SfuError::NoSuchTrack(_) => Error::not_found("track"),
            SfuError::Invalid(message) => Error::invalid(message),
            // A field of a signalling frame, not the request body: a rule on a value.
            SfuError::TooLarge { what, max } => Error::validation(what, format!("is over {max} bytes")),
            SfuError::Io(_) | SfuError::Stopped | SfuError::Unavailable(_) => Error::Unavailable(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every core error, with the status and code API.md's table gives it.
    fn table() -> Vec<(Error, u16, &'static str)> {
        vec![
            (Error::invalid("leaving a direct chat makes no sense"), 400, "invalid_request"),
            (Error::validation("text", "must not be empty"), 400, "validation_failed"),
            (Error::Unauthenticated, 401, "unauthenticated"),
            (Error::WrongPassword, 403, "wrong_password"),
            (Error::forbidden("only members may post"), 403, "forbidden"),
            (Error::not_found_in("message", "reply_to"), 404, "not_found"),
            (Error::UsernameTaken, 409, "username_taken"),
            (Error::Conflict("the message was deleted".into()), 409, "conflict"),
            (Error::RateLimited { retry_after_secs: 7 }, 429, "rate_limited"),
            (Error::Unavailable("connection refused by 10.0.0.5:5432".into()), 503, "unavailable"),
            (Error::Internal("bad event payload at row 42".into()), 500, "internal"),
        ]
    }

    #[test]
    fn every_error_has_the_status_and_code_of_the_api_table() {
        for (e, status, code) in table() {
            let public = PublicError::of(&e);
            assert_eq!((public.status.as_u16(), public.code), (status, code), "{e:?}");
        }
    }

    #[test]
    fn internal_and_unavailable_details_never_reach_the_client() {
        for e in [Error::Unavailable("connection refused by 10.0.0.5:5432".into()), Error::Internal("row 42".into())] {
            let public = PublicError::of(&e);
            assert!(!public.message.contains("10.0.0.5") && !public.message.contains("42"), "{public:?}");
        }
        let sfu = Error::from(SfuError::Io(std::io::Error::other("bind 0.0.0.0:3478: in use")));
        assert_eq!(PublicError::of(&sfu).message, UNAVAILABLE_MESSAGE);
    }

    #[test]
    fn field_and_retry_after_come_from_the_error() {
        let public = PublicError::of(&Error::not_found_in("message", "reply_to"));
        assert_eq!((public.field.as_deref(), public.retry_after_secs), (Some("reply_to"), None));
        assert_eq!(PublicError::of(&Error::RateLimited { retry_after_secs: 7 }).retry_after_secs, Some(7));
        assert_eq!(PublicError::of(&Error::Unavailable(String::new())).retry_after_secs, Some(1));
    }

    #[test]
    fn sfu_errors_map_to_the_codes_of_the_api_table() {
        let cases = [
            (SfuError::Full { max: 3 }, 403, "forbidden"),
            (SfuError::NotInCall, 404, "not_found"),
            (SfuError::NoCall, 404, "not_found"),
            (SfuError::NoSuchTrack("t1".into()), 404, "not_found"),
            (SfuError::Invalid("bad sdp".into()), 400, "invalid_request"),
            (SfuError::TooLarge { what: "sdp", max: 9 }, 400, "validation_failed"),
            (SfuError::Stopped, 503, "unavailable"),
            (SfuError::Unavailable("redis at 10.0.0.6".into()), 503, "unavailable"),
        ];
        for (e, status, code) in cases {
            let public = PublicError::of(&Error::from(e));
            assert_eq!((public.status.as_u16(), public.code), (status, code));
        }
        let too_large = PublicError::of(&Error::from(SfuError::TooLarge { what: "sdp", max: 9 }));
        assert_eq!(too_large.field.as_deref(), Some("sdp"));
    }

    #[tokio::test]
    async fn http_and_the_socket_tell_the_same_of_every_error() {
        use crate::http::error::ApiError;
        use axum::response::IntoResponse;
        for (e, status, code) in table() {
            let response = ApiError(e.clone()).into_response();
            assert_eq!(response.status().as_u16(), status, "{e:?}");
            let body = axum::body::to_bytes(response.into_body(), 1 << 16).await.expect("body");
            let http: serde_json::Value = serde_json::from_slice(&body).expect("json");
            let frame = crate::realtime::frames::failed(&e, Some("r1".into()));
            let frame: serde_json::Value = serde_json::from_slice(&frame).expect("json");
            assert_eq!((frame["type"].as_str(), frame["ref"].as_str()), (Some("error"), Some("r1")));
            assert_eq!(http["error"]["code"], code);
            for key in ["code", "message", "field"] {
                assert_eq!(http["error"][key], frame[key], "{key} of {e:?}");
            }
        }
    }
}
