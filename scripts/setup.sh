#!/usr/bin/env bash
# Installs what Hotpatch needs to build and test, from Debian 12 packages.
# Fast and safe to re-run: apt is only called when something is missing.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

PACKAGES=(
  clang-19 lld-19 llvm-19-dev llvm-19-tools libclang-19-dev liblld-19-dev
  # thinlink links LLVM statically, and LLVM's LTO calls Polly's pass plugin.
  libpolly-19-dev
  libzstd-dev libgtest-dev cmake ninja-build python3
  libcpp-httplib-dev curl gdb libclang-rt-19-dev
  # WebAssembly (web/, llvm-lit-tests/wasm/): the wasi sysroot, libc++ and
  # builtins for wasm32, and Node (nodejs 20 may come from nodesource: any
  # installed nodejs satisfies the check, apt is not asked to replace it).
  wasi-libc libc++-19-dev-wasm32 libclang-rt-19-dev-wasm32 nodejs
  # The browser test drives Debian's chromium (headless).
  chromium
)

missing=()
for p in "${PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if ((${#missing[@]})); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "hotpatch setup: missing packages: ${missing[*]}" >&2
    echo "hotpatch setup: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
  echo "hotpatch setup: installing ${missing[*]}"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm packages of the browser test (web/test: puppeteer-core, which never
# downloads a browser), from the lock file, again only when it changed. A
# machine without the npm registry still builds; the browser test then says
# what is missing.
WEB_TEST="$ROOT/web/test"
if ! cmp -s "$WEB_TEST/package-lock.json" "$WEB_TEST/node_modules/.hotpatch-installed-lock" 2>/dev/null; then
  echo "hotpatch setup: npm ci in web/test"
  if (cd "$WEB_TEST" && npm ci --no-audit --no-fund --loglevel=error >/dev/null); then
    cp "$WEB_TEST/package-lock.json" "$WEB_TEST/node_modules/.hotpatch-installed-lock"
  else
    echo "hotpatch setup: warning: npm ci failed in web/test; the browser test will not run" >&2
  fi
fi
