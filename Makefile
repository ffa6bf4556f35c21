# Thin targets: the logic lives in the crates and in scripts/.
.PHONY: run test check fmt clippy wasm wasm-test js js-test bench openapi

# Runs the server with its embedded defaults: http://127.0.0.1:8080, data in ./chatter-data.
run:
	cargo run --release -p chatter-server

# Runs the whole test suite, installing what it needs first.
test:
	./scripts/test.sh

# Writes the API reference generated from the code to docs/openapi.json (a test fails
# when the committed file is stale).
openapi:
	cargo run -q -p chatter-server --bin chatter-openapi > docs/openapi.json

fmt:
	cargo fmt --all

clippy:
	cargo clippy --workspace --all-targets --all-features -- -D warnings

wasm:
	cargo build -p chatter-core -p chatter-sdk --target wasm32-unknown-unknown

# The SDK's wasm32 suite in headless Chromium (installs wasm-bindgen-cli and chromedriver
# when missing).
wasm-test:
	cargo build -p chatter-server
	./scripts/wasm-test.sh target/debug/chatter-server

# The npm package @chatter/sdk in bindings/js (wasm module, JS glue, TypeScript types).
js:
	./scripts/js-build.sh

# Its suites: the types type-check an app, and Node drives two clients against a server.
js-test: js
	cargo build -p chatter-server
	./scripts/js-test.sh target/debug/chatter-server

# The benchmarks (release builds): fanout against the `ws` peer, e2e-send on two nodes
# with a throwaway Postgres and Redis, then sfu-audio; results on stdout and in
# target/bench-*.md.
bench:
	./scripts/bench.sh
