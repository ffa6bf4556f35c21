//! The HTTP surface: one file per resource, one route table, one error mapping.

mod auth;
mod calls;
mod chats;
mod cookie;
mod cors;
pub(crate) mod error;
mod extract;
mod health;
mod members;
mod messages;
pub mod openapi;
mod reference;
mod request_id;
mod sessions;
mod users;
mod ws;

pub use auth::origin_allowed;
pub use error::ApiError;

use crate::app::AppState;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::{Method, StatusCode};
use axum::response::Response;
use axum::routing::{MethodRouter, delete, get, patch, post};
use error::error_response;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::request_id::{PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

/// Every route the server serves: method, path, handler. The API reference
/// (`docs/openapi.json`) must list exactly these; a test compares the two.
fn routes() -> Vec<(Method, &'static str, MethodRouter<AppState>)> {
    vec![
        (Method::GET, "/healthz", get(health::healthz)),
        (Method::GET, "/readyz", get(health::readyz)),
        (Method::POST, "/v1/users", post(users::register)),
        (Method::GET, "/v1/users", get(users::search)),
        (Method::GET, "/v1/users/me", get(users::me)),
        (Method::PATCH, "/v1/users/me", patch(users::update_me)),
        (Method::DELETE, "/v1/users/me", delete(users::delete_me)),
        (Method::POST, "/v1/users/me/password", post(users::change_password)),
        (Method::GET, "/v1/users/{id}", get(users::get)),
        (Method::POST, "/v1/sessions", post(sessions::login)),
        (Method::GET, "/v1/sessions", get(sessions::list)),
        (Method::DELETE, "/v1/sessions/current", delete(sessions::logout)),
        (Method::DELETE, "/v1/sessions/{id}", delete(sessions::revoke)),
        (Method::POST, "/v1/chats", post(chats::create)),
        (Method::GET, "/v1/chats", get(chats::list)),
        (Method::GET, "/v1/chats/public", get(chats::public)),
        (Method::GET, "/v1/chats/{id}", get(chats::get)),
        (Method::PATCH, "/v1/chats/{id}", patch(chats::update)),
        (Method::POST, "/v1/chats/{id}/join", post(chats::join)),
        (Method::POST, "/v1/chats/{id}/leave", post(chats::leave)),
        (Method::POST, "/v1/chats/{id}/read", post(chats::read)),
        (Method::GET, "/v1/chats/{id}/members", get(members::list)),
        (Method::POST, "/v1/chats/{id}/members", post(members::add)),
        (Method::PATCH, "/v1/chats/{id}/members/{user_id}", patch(members::set_role)),
        (Method::DELETE, "/v1/chats/{id}/members/{user_id}", delete(members::remove)),
        (Method::GET, "/v1/chats/{id}/messages", get(messages::list)),
        (Method::POST, "/v1/chats/{id}/messages", post(messages::send)),
        (Method::PATCH, "/v1/chats/{id}/messages/{message_id}", patch(messages::edit)),
        (Method::DELETE, "/v1/chats/{id}/messages/{message_id}", delete(messages::delete)),
        (Method::POST, "/v1/chats/{id}/call", post(calls::join)),
        (Method::GET, "/v1/chats/{id}/call", get(calls::get)),
        (Method::POST, "/v1/chats/{id}/call/leave", post(calls::leave)),
        (Method::GET, "/v1/ws", get(ws::upgrade)),
    ]
}

/// Routes outside the API itself: its reference. Not listed in the reference.
fn reference_routes() -> Vec<(&'static str, MethodRouter<AppState>)> {
    vec![("/openapi.json", get(reference::json)), ("/docs", get(reference::page))]
}

/// The (method, path) pairs of every route, for documentation checks.
pub fn route_list() -> Vec<(String, String)> {
    routes().into_iter().map(|(m, p, _)| (m.to_string(), p.to_owned())).collect()
}

async fn not_found() -> Response {
    error_response(StatusCode::NOT_FOUND, "not_found", "no such endpoint".into(), None)
}

async fn method_not_allowed() -> Response {
    error_response(
        StatusCode::METHOD_NOT_ALLOWED,
        "invalid_request",
        "method not allowed on this endpoint".into(),
        None,
    )
}

fn panic_response(_: Box<dyn std::any::Any + Send + 'static>) -> Response {
    tracing::error!("a request handler panicked");
    error_response(StatusCode::INTERNAL_SERVER_ERROR, "internal", "internal error".into(), None)
}

/// The whole app as an axum router, ready to serve or to mount in a host app.
pub fn router(state: AppState) -> Router {
    let body_limit = state.http.body_limit;
    let mut router = Router::new();
    for (_, path, handler) in routes() {
        router = router.route(path, handler);
    }
    for (path, handler) in reference_routes() {
        router = router.route(path, handler);
    }
    let cors = cors::layer(&state.http.allowed_origins);
    router
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(tower::util::option_layer(cors))
        .layer(CatchPanicLayer::custom(panic_response))
        .layer(PropagateRequestIdLayer::x_request_id())
        .layer(TraceLayer::new_for_http().make_span_with(request_id::span))
        .layer(SetRequestIdLayer::x_request_id(request_id::MakeId))
        .with_state(state)
}
