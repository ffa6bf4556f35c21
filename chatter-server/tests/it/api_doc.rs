//! The API reference (docs/openapi.json) lists exactly the routes the router serves.

use std::collections::BTreeSet;

#[test]
fn openapi_lists_exactly_the_routes_the_router_serves() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../docs/openapi.json");
    let doc: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).expect("docs/openapi.json")).expect("valid JSON");
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
