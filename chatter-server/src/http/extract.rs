//! Extractors whose rejections speak the API's error shape: malformed or unknown input
//! is a 400 `invalid_request`, an oversized body a 413 `payload_too_large`.

use super::error::{ApiError, error_response};
use axum::extract::rejection::{JsonRejection, QueryRejection};
use axum::extract::{FromRequest, FromRequestParts, Request};
use axum::http::StatusCode;
use axum::http::request::Parts;
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

/// A JSON body.
#[derive(Debug)]
pub struct Json<T>(pub T);

impl<S: Send + Sync, T: DeserializeOwned> FromRequest<S> for Json<T> {
    type Rejection = Rejection;

    async fn from_request(req: Request, state: &S) -> Result<Self, Self::Rejection> {
        match axum::Json::<T>::from_request(req, state).await {
            Ok(axum::Json(v)) => Ok(Self(v)),
            Err(rejection) => Err(Rejection(json_rejection(rejection))),
        }
    }
}

fn json_rejection(rejection: JsonRejection) -> Response {
    if rejection.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return error_response(
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
            "the request body is over the limit".into(),
            None,
        );
    }
    let message = match &rejection {
        JsonRejection::MissingJsonContentType(_) => "expected Content-Type: application/json".to_owned(),
        other => other.body_text(),
    };
    error_response(StatusCode::BAD_REQUEST, "invalid_request", message, None)
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
