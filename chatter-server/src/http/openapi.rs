//! The API reference, generated from the code: the protocol types' schemas (with the
//! rules of the values the server parses them into) and each handler's `utoipa::path`.
//! Served at `/openapi.json`, rendered at `/docs`, and written to `docs/openapi.json`
//! by `make openapi` (a test fails when the committed file is stale).

use super::error::{
    BadRequest, Conflict, Forbidden, ForbiddenOrWrongPassword, Internal, NotFound, PayloadTooLarge, RateLimited,
    Unauthenticated, Unavailable,
};
use super::{calls, chats, health, members, messages, sessions, users, ws};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(title = "Chatter API", version = "1", description = include_str!("openapi_intro.md")),
    servers((url = "http://127.0.0.1:8080", description = "`make run`")),
    paths(
        health::healthz,
        health::readyz,
        users::register,
        users::search,
        users::me,
        users::update_me,
        users::delete_me,
        users::change_password,
        users::get,
        sessions::login,
        sessions::list,
        sessions::logout,
        sessions::revoke,
        chats::create,
        chats::list,
        chats::public,
        chats::get,
        chats::update,
        chats::join,
        chats::leave,
        chats::read,
        members::list,
        members::add,
        members::set_role,
        members::remove,
        messages::list,
        messages::send,
        messages::edit,
        messages::delete,
        calls::join,
        calls::get,
        calls::leave,
        ws::upgrade,
    ),
    components(schemas(chatter_core::protocol::ErrorBody, chatter_core::paging::Cursor), responses(
        BadRequest,
        Unauthenticated,
        Forbidden,
        ForbiddenOrWrongPassword,
        NotFound,
        Conflict,
        PayloadTooLarge,
        RateLimited,
        Unavailable,
        Internal
    )),
    modifiers(&Security),
    security(("bearer" = []), ("cookie" = [])),
    tags(
        (name = "Health", description = "Liveness and readiness probes."),
        (name = "Users", description = "Accounts and profiles."),
        (name = "Sessions", description = "Logins (one per device)."),
        (name = "Chats", description = "Groups and direct chats. Who may do what: see each operation."),
        (name = "Members", description = "Chat membership and roles."),
        (name = "Messages", description = "Chat history, sending, editing and deleting."),
        (name = "Calls", description = "Voice and video calls in a chat (one call at a time per chat). Media flows over WebRTC to the server's SFU; signalling (`call.offer`, `call.answer`, `call.ice`, `call.publish`, `call.mute`) and call events travel on the WebSocket (see docs/api.md)."),
        (name = "Realtime", description = "The WebSocket: chat events with gap-free resume, typing, read markers, presence, call signalling."),
    )
)]
pub struct ApiDoc;

/// The reference as served and committed.
pub fn document() -> utoipa::openapi::OpenApi {
    ApiDoc::openapi()
}

/// The reference as pretty JSON with a final newline (the committed file's form).
pub fn document_json() -> String {
    let mut json = document().to_pretty_json().unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"));
    json.push('\n');
    json
}

/// The two ways to authenticate.
struct Security;

impl Modify for Security {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let bearer = HttpBuilder::new()
            .scheme(HttpAuthScheme::Bearer)
            .description(Some("The token from register or login: `Authorization: Bearer <token>`."))
            .build();
        components.add_security_scheme("bearer", SecurityScheme::Http(bearer));
        let cookie = ApiKeyValue::with_description(
            "chatter_session",
            "Set by register or login with `\"cookie\": true` (HttpOnly; SameSite=Strict; Path=/). Writes \
             authenticated this way need an accepted `Origin`.",
        );
        components.add_security_scheme("cookie", SecurityScheme::ApiKey(ApiKey::Cookie(cookie)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_document_is_openapi_3_1_with_both_ways_to_authenticate() {
        let doc: serde_json::Value = serde_json::from_str(&document_json()).expect("JSON");
        assert_eq!(doc["openapi"].as_str().map(|v| v.starts_with("3.1")), Some(true));
        let schemes = &doc["components"]["securitySchemes"];
        assert_eq!(
            (schemes["bearer"]["scheme"].as_str(), schemes["cookie"]["in"].as_str()),
            (Some("bearer"), Some("cookie"))
        );
    }
}
