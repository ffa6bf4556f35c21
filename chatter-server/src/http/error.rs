//! The one place core errors become HTTP answers: status, `{"error": …}` body,
//! `Retry-After`. Internal details go to the log, never to the client.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chatter_core::Error;
use chatter_core::protocol::{ErrorBody, ErrorDetail};

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

/// Builds an error answer from its parts (also used for rejections and fallbacks).
pub fn error_response(status: StatusCode, code: &str, message: String, field: Option<String>) -> Response {
    let body = ErrorBody { error: ErrorDetail { code: code.to_owned(), message, field } };
    (status, Json(body)).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let e = self.0;
        let status = status_of(&e);
        let message = match &e {
            Error::Internal(detail) => {
                tracing::error!(%detail, "internal error");
                "internal error".to_owned()
            }
            Error::Unavailable(detail) => {
                tracing::warn!(%detail, "store unavailable");
                "the service is unavailable, retry shortly".to_owned()
            }
            Error::NotFound { what, .. } => format!("{what} not found"),
            Error::Validation { message, .. } => message.clone(),
            other => other.to_string(),
        };
        let retry_after = match &e {
            Error::RateLimited { retry_after_secs } => Some(*retry_after_secs),
            Error::Unavailable(_) => Some(1),
            _ => None,
        };
        let mut response = error_response(status, e.code(), message, e.field().map(str::to_owned));
        if let Some(secs) = retry_after {
            response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(secs));
        }
        response
    }
}

/// The result type of handlers.
pub type ApiResult<T> = Result<T, ApiError>;
