#!/usr/bin/env bash
# Everything Confide needs on a fresh Debian 12 machine, idempotently:
# apt packages (only those missing), the mediasoup worker (built once, cached),
# npm ci (only when package-lock.json changed) and the client build (only when
# its sources changed). `npm start` and `npm test` both run it first.
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

# --- Node ---------------------------------------------------------------------
node -e 'const [a,b]=process.versions.node.split(".").map(Number); process.exit(a>20||(a===20&&b>=19)?0:1)' ||
  { say "Node >= 20.19 is required (found $(node -v))"; exit 1; }

# --- apt packages -------------------------------------------------------------
# firefox-esr: the second browser engine of the call tests; iproute2: their network namespace;
# coturn: the TURN relay Confide runs when CONFIDE_TURN_HOST is set (and its tests);
# nftables: the tests' firewall rules; openssl: the HTTPS test's self-signed certificate;
# nginx: the reverse proxy of docs/deployment.md, whose sample (deploy/nginx/) a test runs;
# redis-server: the cross-node state of several nodes (CONFIDE_REDIS_URL; its tests start their own).
# postgresql: the store's second dialect (CONFIDE_DATABASE_URL), which the store tests start in a temp dir.
RUNTIME_PKGS=(libssl3 libuv1 libsrtp2-1 libusrsctp2 libabsl20220623 chromium firefox-esr coturn iproute2 nftables openssl ffmpeg nginx
  redis-server postgresql)
BUILD_PKGS=(build-essential python3 pkg-config meson ninja-build libssl-dev libuv1-dev libsrtp2-dev
  libusrsctp-dev libabsl-dev nlohmann-json3-dev)
WORKER_VERSION=$(node -p "require('./package.json').dependencies.mediasoup")
WORKER_BIN="$PWD/.cache/mediasoup-worker/$WORKER_VERSION/mediasoup-worker"

wanted=("${RUNTIME_PKGS[@]}")
[ -x "$WORKER_BIN" ] || wanted+=("${BUILD_PKGS[@]}")
missing=()
for p in "${wanted[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  say "installing apt packages: ${missing[*]}"
  SUDO=""; [ "$(id -u)" = 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  # Confide starts its own coturn (its own config and secret), and the tests
  # their own nginx, Redis and PostgreSQL: the packages' system services would hold
  # ports 3478, 80, 6379 and 5432. A policy-rc.d that denies (Debian's switch for maintainer scripts)
  # keeps the install from starting them, with or without systemd.
  NOSTART=/usr/sbin/policy-rc.d; placed=""
  if [ ! -e "$NOSTART" ]; then
    printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$NOSTART" >/dev/null && $SUDO chmod 755 "$NOSTART" && placed=1
    trap '$SUDO rm -f "$NOSTART"' EXIT
  fi
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  if [ -n "$placed" ]; then $SUDO rm -f "$NOSTART"; trap - EXIT; fi
  # Nor at boot (the nginx sample's route: `systemctl enable --now nginx` then).
  for svc in coturn nginx redis-server postgresql; do
    if [[ " ${missing[*]} " == *" $svc "* ]] && [ -d /run/systemd/system ]; then
      $SUDO systemctl disable --now "$svc" >/dev/null 2>&1 || true
    fi
  done
fi

# --- mediasoup worker (cached by version in .cache/) ----------------------------
WORKER_BIN=$(bash scripts/build-worker.sh)
export MEDIASOUP_WORKER_BIN="$WORKER_BIN"

# --- npm dependencies -----------------------------------------------------------
lock_hash=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ "$(cat node_modules/.confide-lock-hash 2>/dev/null)" != "$lock_hash" ]; then
  say "installing npm dependencies (npm ci)"
  # mediasoup's postinstall is denied in package.json (allowScripts); the env
  # var makes it skip its download even where allowScripts is not honoured.
  npm ci --no-audit --no-fund --loglevel=error
  echo "$lock_hash" >node_modules/.confide-lock-hash
fi

# --- client build -----------------------------------------------------------------
# The production build (no test hooks, no source maps); the browser tests build
# their own (scripts/build-client.sh test, from tests/e2e/support/global-setup.ts).
bash scripts/build-client.sh production
say "ready"
