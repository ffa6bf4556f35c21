//! `chatter-openapi`: prints the API reference generated from the server's code (what
//! `/openapi.json` serves). `make openapi` writes it to `docs/openapi.json`.

fn main() {
    print!("{}", chatter_server::http::openapi::document_json());
}
