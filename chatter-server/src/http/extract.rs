//! Extractors whose rejections speak the API's error shape: malformed or unknown input
//! is a 400 `invalid_request`, an oversized body a 413 `payload_too_large`.

use super::error::{ApiError, error_response};
use axum::body::Bytes;
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::de::DeserializeOwned;

/// A rejection, ready to answer.
#[derive(Debug)]
pub struct Rejection(Response);

impl IntoResponse for Rejection {
    fn into_response(self) -> Response {
        self.0
    }
}

impl From<ApiError> for Rejection {
    fn from(e: ApiError) -> Self {
        Self(e.into_response())
    }
}

/// A JSON body: always an object (serde would also take an array as a struct's fields
/// in order, which the API does not offer).
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        if !json_content_type(req.headers()) {
            return Err(Rejection(json_rejection(JsonRejection::MissingJsonContentType(Default::default()))));
        }
        let bytes = match Bytes::from_request(req, state).await {
            Ok(bytes) => bytes,
            Err(rejection) if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                return Err(Rejection(too_large()));
            }
            Err(rejection) => return Err(Rejection(invalid(rejection.body_text()))),
        };
        if bytes.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[') {
            return Err(Rejection(invalid("the body must be a JSON object".to_owned())));
        }
        match axum::Json::<T>::from_bytes(&bytes) {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(Rejection(json_rejection(rejection))),
        }
    }
}

/// `application/json`, or a `+json` type, with any parameters.
fn json_content_type(headers: &HeaderMap) -> bool {
    let Some(value) = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return false };
    let essence = value.split(';').next().unwrap_or_default().trim().to_ascii_lowercase();
    essence == "application/json" || (essence.starts_with("application/") && essence.ends_with("+json"))
}

fn invalid(message: String) -> Response {
    error_response(StatusCode::BAD_REQUEST, "invalid_request", message, None)
}

fn too_large() -> Response {
    error_response(
        StatusCode::PAYLOAD_TOO_LARGE,
        "payload_too_large",
        "the request body is over the limit".into(),
        None,
    )
}

fn json_rejection(rejection: JsonRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large();
    }
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => "expected Content-Type: application/json".to_owned(),
        other => other.body_text(),
    };
    invalid(message)
}

/// Query-string parameters.
#[derive(Debug)]
pub struct Query<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequestParts<S> for Query<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Query::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Query(v)) => Ok(Self(v)),
            Err(rejection) => Err(Rejection(query_rejection(rejection))),
        }
    }
}

fn query_rejection(rejection: QueryRejection) -> Response {
    error_response(StatusCode::BAD_REQUEST, "invalid_request", rejection.body_text(), None)
}

/// Path parameters.
#[derive(Debug)]
pub struct Path<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned + Send> FromRequestParts<S> for Path<T> {
    type Rejection = Rejection;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        match axum::extract::Path::<T>::from_request_parts(parts, state).await {
            Ok(axum::extract::Path(v)) => Ok(Self(v)),
            Err(rejection) => {
                Err(Rejection(error_response(StatusCode::BAD_REQUEST, "invalid_request", rejection.body_text(), None)))
            }
        }
    }
}
