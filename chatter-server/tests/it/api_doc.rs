//! The API reference: generated from the code, committed as docs/openapi.json (never
//! stale), listing exactly the routes the router serves, and served by the server.

use crate::harness::Server;
use std::collections::BTreeSet;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");

#[test]
fn the_committed_reference_is_the_generated_one() {
    let committed = std::fs::read_to_string(COMMITTED).expect("docs/openapi.json");
    let generated = chatter_server::http::openapi::document_json();
    assert!(committed == generated, "docs/openapi.json is stale: run `make openapi` and commit it");
}

#[test]
fn openapi_lists_exactly_the_routes_the_router_serves() {
    let doc: serde_json::Value =
        serde_json::from_str(&chatter_server::http::openapi::document_json()).expect("valid JSON");
    assert!(doc["openapi"].as_str().unwrap_or("").starts_with("3."));
    let methods = ["get", "post", "put", "patch", "delete", "head", "options"];
    let documented: BTreeSet<(String, String)> = doc["paths"]
        .as_object()
        .expect("paths")
        .iter()
        .flat_map(|(path, item)| {
            methods
                .iter()
                .filter(|m| item.get(**m).is_some())
                .map(|m| (m.to_uppercase(), path.clone()))
                .collect::<Vec<_>>()
        })
        .collect();
    let served: BTreeSet<(String, String)> = chatter_server::http::route_list().into_iter().collect();
    let missing: Vec<_> = served.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&served).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "undocumented routes: {missing:?}; documented but not served: {extra:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_server_serves_its_reference_as_json_and_as_a_page() {
    let s = Server::start().await;
    let json = s.get("/openapi.json").send().await;
    assert_eq!(json.status, 200);
    assert_eq!(json.headers["content-type"], "application/json");
    assert_eq!(json.body["info"]["title"], "Chatter API");
    let page = s.get("/docs").send().await;
    assert_eq!(page.status, 200);
    assert!(page.headers["content-type"].to_str().unwrap().starts_with("text/html"));
    assert!(page.headers["content-security-policy"].to_str().unwrap().contains("default-src 'none'"));
    let html = page.body.as_str().expect("an HTML page");
    assert!(
        html.contains("POST</span> <code>/v1/chats/{id}/messages</code>") && html.contains("id=\"schema-Message\"")
    );
}
