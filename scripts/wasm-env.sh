# Source me: selects the toolchain for wasm32-unknown-unknown work.
#
# Where rustup has the wasm32 target (an ordinary machine), nothing changes. Where it cannot
# download it (these machines), Debian's rustc-web toolchain is used; scripts/setup built its
# wasm32 std into Debian's sysroot, so it then behaves like an installed target.
_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
export PATH="$_root/tools/node22/node_modules/.bin:$HOME/.cargo/bin:$PATH"
export WRANGLER_SEND_METRICS=false CLOUDFLARE_CF_FETCH_ENABLED=false
export CHROMEDRIVER=/usr/bin/chromedriver
if [ "${SIMOPT_WASM_TOOLCHAIN:-}" != debian ] \
   && rustup target list --installed 2>/dev/null | grep -qx wasm32-unknown-unknown; then
  export SIMOPT_WASM_TOOLCHAIN=rustup
else
  export SIMOPT_WASM_TOOLCHAIN=debian
  # Tools that spawn plain `cargo`/`rustc` (worker-build) must find Debian's first.
  mkdir -p "$_root/target/debian-bin"
  for _b in rustc cargo rustdoc cargo-clippy clippy-driver; do
    [ -e "/usr/bin/$_b" ] && ln -sfn "/usr/bin/$_b" "$_root/target/debian-bin/$_b"
  done
  export PATH="$_root/target/debian-bin:$PATH"
  export RUSTC=/usr/bin/rustc RUSTDOC=/usr/bin/rustdoc CARGO=/usr/bin/cargo
fi
# wasm artefacts live apart from native ones (and, on the Debian path, from another rustc's).
export CARGO_TARGET_DIR="$_root/target/wasm"
export CARGO_TARGET_WASM32_UNKNOWN_UNKNOWN_RUNNER=wasm-bindgen-test-runner
unset _root _b
