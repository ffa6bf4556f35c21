//! `/healthz` and `/readyz`.

use super::error::error_response;
use crate::app::AppState;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use std::time::Duration;

/// `GET /healthz`: 200 while the process runs.
pub async fn healthz() -> impl IntoResponse {
    axum::Json(serde_json::json!({"status": "ok"}))
}

/// `GET /readyz`: 200 when the store answers within 2 s, else 503.
pub async fn readyz(State(state): State<AppState>) -> Response {
    match tokio::time::timeout(Duration::from_secs(2), state.service.store().ping()).await {
        Ok(Ok(())) => axum::Json(serde_json::json!({"status": "ready"})).into_response(),
        Ok(Err(e)) => {
            tracing::warn!(error = %e, "not ready");
            error_response(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the store does not answer".into(), None)
        }
        Err(_) => error_response(StatusCode::SERVICE_UNAVAILABLE, "unavailable", "the store timed out".into(), None),
    }
}
