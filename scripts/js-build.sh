#!/usr/bin/env bash
# Builds the npm package in bindings/js: chatter-js compiled to wasm32 (size-optimised),
# its JS glue and TypeScript declarations from wasm-bindgen, then wasm-opt from npm's
# binaryen (never Debian's: it breaks externref tables). Output: bindings/js/dist.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/wasm-tools.sh

rustup target add wasm32-unknown-unknown >/dev/null 2>&1
ensure_wasm_bindgen
npm ci --prefix bindings/js --no-audit --no-fund --silent
cargo build -q -p chatter-js --target wasm32-unknown-unknown --profile wasm-release
out=bindings/js/dist
rm -rf "$out"
wasm-bindgen --target web --out-dir "$out" target/wasm32-unknown-unknown/wasm-release/chatter_js.wasm
# The features rustc's wasm32 target emits; not --all-features, which lets wasm-opt use
# proposals (stringref) that Node and browsers do not ship.
bindings/js/node_modules/.bin/wasm-opt -Oz --enable-bulk-memory --enable-nontrapping-float-to-int \
  --enable-sign-ext --enable-mutable-globals --enable-reference-types --enable-multivalue \
  "$out/chatter_js_bg.wasm" -o "$out/chatter_js_bg.wasm"
# The package's own package.json (an ES module) governs dist/.
rm -f "$out/package.json" "$out/.gitignore"
printf 'bindings/js: %s bytes of wasm, %s gzipped\n' \
  "$(stat -c %s "$out/chatter_js_bg.wasm")" "$(gzip -9 -c "$out/chatter_js_bg.wasm" | wc -c)"
