//! Core errors as HTTP answers: the `{"error": …}` body, status and `Retry-After` of
//! [`PublicError`], the one mapping HTTP and the WebSocket share.

use crate::public_error::PublicError;
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
