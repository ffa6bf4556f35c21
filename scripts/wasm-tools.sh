# Tools for the wasm32 builds. Source it, then call ensure_wasm_bindgen: it puts
# wasm-bindgen and wasm-bindgen-test-runner, at exactly the version of the wasm-bindgen
# crate in Cargo.lock, on PATH (installed once under target/tools; ~6 min cold).

ensure_wasm_bindgen() {
  local version root
  version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/[^0-9.]/, ""); print; exit }' Cargo.lock)
  root="$PWD/target/tools/wasm-bindgen-$version"
  if [ ! -x "$root/bin/wasm-bindgen-test-runner" ]; then
    # Not --locked: the registry index here lags a little (TOOLCHAIN.md).
    cargo install -q wasm-bindgen-cli --version "$version" --root "$root"
  fi
  export PATH="$root/bin:$PATH"
}

# Installs Debian's chromedriver (as root), which drives Chromium for the wasm tests.
ensure_chromedriver() {
  if ! command -v chromedriver >/dev/null && [ "$(id -u)" = 0 ]; then
    apt_install chromium-driver
  fi
  command -v chromedriver >/dev/null || { echo "chromedriver is missing (run as root to install it)" >&2; return 1; }
}
