//! The API reference, generated from the code: the protocol types' schemas (with the
//! rules of the values the server parses them into) and each handler's `utoipa::path`.
//! Served at `/openapi.json`, rendered at `/docs`, and written to `docs/openapi.json`
//! by `make openapi` (a test fails when the committed file is stale).

use super::{calls, chats, health, members, messages, sessions, users, ws};
use utoipa::openapi::header::HeaderBuilder;
use utoipa::openapi::response::ResponseBuilder;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::{ApiKey, ApiKeyValue, HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::openapi::{ContentBuilder, Ref, RefOr, Response};
use utoipa::{Modify, OpenApi, ToResponse};

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

/// An error answer of the API's error shape, with `Retry-After` when it says to wait.
fn error(description: &str, retry_after: bool) -> RefOr<Response> {
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
            fn response() -> (&'r str, RefOr<Response>) {
                (stringify!($name), error($description, $retry))
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
