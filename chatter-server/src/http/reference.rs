//! `/openapi.json` and `/docs`: the generated API reference as JSON, and rendered as one
//! self-contained HTML page (no script, no outside assets), both built once.

use super::openapi;
use axum::http::header;
use axum::response::{Html, IntoResponse, Response};
use serde_json::Value;
use std::fmt::Write;
use std::sync::LazyLock;

static JSON: LazyLock<String> = LazyLock::new(openapi::document_json);
static PAGE: LazyLock<String> = LazyLock::new(|| render(&serde_json::from_str(&JSON).unwrap_or(Value::Null)));

/// `GET /openapi.json`.
pub async fn json() -> Response {
    ([(header::CONTENT_TYPE, "application/json")], JSON.as_str()).into_response()
}

/// `GET /docs`.
pub async fn page() -> Response {
    let csp = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'";
    ([(header::CONTENT_SECURITY_POLICY, csp)], Html(PAGE.as_str())).into_response()
}

/// Escapes text for HTML, then shows `code` spans as code.
fn text(s: &str) -> String {
    let escaped = s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;");
    let mut out = String::new();
    for (i, part) in escaped.split('`').enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

/// Paragraphs of a description.
fn paragraphs(s: &str) -> String {
    s.split("\n\n").map(|p| format!("<p>{}</p>", text(p))).collect()
}

/// The name a `$ref` points to.
fn ref_name(v: &Value) -> Option<&str> {
    v.get("$ref").and_then(Value::as_str).and_then(|r| r.rsplit('/').next())
}

/// A schema in one line: a link to a named one, else its type and rules.
fn summary(schema: &Value) -> String {
    if let Some(name) = ref_name(schema) {
        return format!("<a href=\"#schema-{name}\">{name}</a>");
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(items) = schema.get(key).and_then(Value::as_array) {
            let parts: Vec<String> = items.iter().map(summary).collect();
            return parts.join(if key == "allOf" { " and " } else { " or " });
        }
    }
    let kind = match &schema["type"] {
        Value::String(t) => t.clone(),
        Value::Array(ts) => ts.iter().filter_map(Value::as_str).collect::<Vec<_>>().join(" or "),
        _ => String::from("any"),
    };
    let mut out =
        if kind.starts_with("array") { format!("array of {}", summary(&schema["items"])) } else { text(&kind) };
    for (key, label) in [
        ("format", "format"),
        ("enum", "one of"),
        ("minLength", "min length"),
        ("maxLength", "max length"),
        ("minimum", "min"),
        ("maximum", "max"),
        ("pattern", "pattern"),
    ] {
        if let Some(v) = schema.get(key) {
            let shown = match v {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            let _ = write!(out, ", {label} <code>{}</code>", text(&shown).replace('`', ""));
        }
    }
    out
}

fn operation(out: &mut String, method: &str, path: &str, op: &Value) {
    let id = op["operationId"].as_str().unwrap_or_default();
    let _ = write!(
        out,
        "<section id=\"op-{id}\"><h3><span class=\"m\">{}</span> <code>{}</code></h3><p><b>{}</b></p>{}",
        method.to_uppercase(),
        text(path),
        text(op["summary"].as_str().unwrap_or_default()),
        paragraphs(op["description"].as_str().unwrap_or_default())
    );
    if let Some(params) = op["parameters"].as_array().filter(|p| !p.is_empty()) {
        out.push_str("<table><tr><th>parameter</th><th>in</th><th>schema</th><th>description</th></tr>");
        for p in params {
            let required = if p["required"].as_bool() == Some(true) { " (required)" } else { "" };
            let _ = write!(
                out,
                "<tr><td><code>{}</code>{required}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                text(p["name"].as_str().unwrap_or_default()),
                text(p["in"].as_str().unwrap_or_default()),
                summary(&p["schema"]),
                text(p["description"].as_str().unwrap_or_default())
            );
        }
        out.push_str("</table>");
    }
    if let Some(body) = op["requestBody"]["content"]["application/json"]["schema"].as_object() {
        let _ = write!(out, "<p>Body: {}</p>", summary(&Value::Object(body.clone())));
    }
    out.push_str("<table><tr><th>status</th><th>answer</th></tr>");
    if let Some(responses) = op["responses"].as_object() {
        for (status, r) in responses {
            let (description, body) = match ref_name(r) {
                Some(name) => (format!("<a href=\"#response-{name}\">{name}</a>"), String::new()),
                None => (
                    text(r["description"].as_str().unwrap_or_default()),
                    r["content"]["application/json"]["schema"]
                        .as_object()
                        .map_or(String::new(), |s| format!(" ({})", summary(&Value::Object(s.clone())))),
                ),
            };
            let _ = write!(out, "<tr><td>{status}</td><td>{description}{body}</td></tr>");
        }
    }
    out.push_str("</table></section>");
}

fn schema_section(out: &mut String, name: &str, schema: &Value) {
    let _ = write!(
        out,
        "<section id=\"schema-{name}\"><h3>{name}</h3>{}",
        paragraphs(schema["description"].as_str().unwrap_or_default())
    );
    let required: Vec<&str> =
        schema["required"].as_array().map(|r| r.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
    if let Some(properties) = schema["properties"].as_object() {
        out.push_str("<table><tr><th>field</th><th>schema</th><th>description</th></tr>");
        for (field, p) in properties {
            let req = if required.contains(&field.as_str()) { " (required)" } else { "" };
            let _ = write!(
                out,
                "<tr><td><code>{}</code>{req}</td><td>{}</td><td>{}</td></tr>",
                text(field),
                summary(p),
                text(p["description"].as_str().unwrap_or_default())
            );
        }
        out.push_str("</table>");
    } else {
        let _ = write!(out, "<p>{}</p>", summary(schema));
    }
    out.push_str("</section>");
}

/// The whole page.
fn render(doc: &Value) -> String {
    let mut out = String::from(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>Chatter API reference</title><style>\
         body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:auto;padding:1rem;color:#1d2330}\
         code{background:#f1f3f7;padding:0 .2em;border-radius:3px;overflow-wrap:anywhere}\
         table{border-collapse:collapse;width:100%;margin:.5rem 0}td,th{border:1px solid #d7dbe3;padding:.25rem .5rem;\
         text-align:left;vertical-align:top}section{border-top:1px solid #d7dbe3;margin-top:1.5rem}\
         .m{background:#2f5bd3;color:#fff;border-radius:3px;padding:0 .4em;font-size:.85em}</style></head><body>",
    );
    let _ = write!(
        out,
        "<h1>{}</h1><p>Version {}. The same document as JSON: <a href=\"/openapi.json\">/openapi.json</a>.</p>{}",
        text(doc["info"]["title"].as_str().unwrap_or("API")),
        text(doc["info"]["version"].as_str().unwrap_or("")),
        paragraphs(doc["info"]["description"].as_str().unwrap_or_default())
    );
    let paths = doc["paths"].as_object().cloned().unwrap_or_default();
    out.push_str("<h2>Operations</h2><ul>");
    for (path, item) in &paths {
        for (method, op) in item.as_object().into_iter().flatten() {
            let id = op["operationId"].as_str().unwrap_or_default();
            let _ = write!(
                out,
                "<li><a href=\"#op-{id}\">{} {}</a>: {}</li>",
                method.to_uppercase(),
                text(path),
                text(op["summary"].as_str().unwrap_or_default())
            );
        }
    }
    out.push_str("</ul>");
    for (path, item) in &paths {
        for (method, op) in item.as_object().into_iter().flatten() {
            operation(&mut out, method, path, op);
        }
    }
    out.push_str("<h2>Error answers</h2>");
    for (name, r) in doc["components"]["responses"].as_object().into_iter().flatten() {
        let _ = write!(
            out,
            "<section id=\"response-{name}\"><h3>{name}</h3>{}</section>",
            paragraphs(r["description"].as_str().unwrap_or_default())
        );
    }
    out.push_str("<h2>Schemas</h2>");
    for (name, schema) in doc["components"]["schemas"].as_object().into_iter().flatten() {
        schema_section(&mut out, name, schema);
    }
    out.push_str("</body></html>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_page_lists_every_operation_and_escapes_text() {
        let page = PAGE.as_str();
        for route in crate::http::route_list() {
            assert!(page.contains(&format!("{} {}", route.0, text(&route.1))), "{route:?} is not on the page");
        }
        assert_eq!(text("a <b> `c`"), "a &lt;b&gt; <code>c</code>");
        assert!(!page.contains("<script"));
    }
}
