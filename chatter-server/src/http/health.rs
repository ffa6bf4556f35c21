//! `/healthz` and `/readyz`.

use super::error::{Unavailable, error_response};
use crate::app::AppState;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// Liveness
///
/// Answers 200 while the process runs. Needs no credentials.
#[utoipa::path(
    get,
    path = "/healthz",
    operation_id = "healthz",
    tag = "Health",
    responses(
        (status = 200, description = "The process is running.")
    ),
    security(())
)]
pub async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

/// Readiness
///
/// Answers 200 when the store (and the broker, when one is configured) answer, else 503
/// `unavailable`. Needs no credentials.
#[utoipa::path(
    get,
    path = "/readyz",
    operation_id = "readyz",
    tag = "Health",
    responses(
        (status = 200, description = "The store (and broker) answer."),
        (status = 503, response = Unavailable)
    ),
    security(())
)]
pub async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), state.service.store().ping()).await {
        Ok(Ok(())) => axum::Json(serde_json::json!({"status": "ready"})).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            not_ready("the store does not answer")
        }
        Err(_) => not_ready("the store timed out"),
    }
}

fn not_ready(message: &str) -> Response {
    let mut response = error_response(StatusCode::SERVICE_UNAVAILABLE, "unavailable", message.into(), None);
    response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(1u32));
    response
}
