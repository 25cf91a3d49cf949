#!/usr/bin/env bash
# Builds the client when its sources changed (idempotent), for one of two uses:
#   production  → dist/client       what `npm start` serves: no test hooks, no source maps
#   test        → dist/client-test  what the browser tests load: window.__confide hooks and
#                                   the localStorage key-hook modes compiled in (vite --mode test)
#   bench       → dist/client-bench the test build plus the bench-only E2EE-off switch and
#                                   in-Worker crypto timer (vite --mode bench; npm run bench only)
# Usage: bash scripts/build-client.sh [production|test|bench]…  (default: production)
set -euo pipefail
cd "$(dirname "$0")/.."
say() { printf '\033[1m[setup]\033[0m %s\n' "$*" >&2; }

src_hash=$( (find client shared -type f -print0 | sort -z | xargs -0 sha256sum; sha256sum vite.config.ts package-lock.json scripts/build-client.sh) | sha256sum | cut -d' ' -f1)
mkdir -p .cache
for mode in "${@:-production}"; do
  case "$mode" in
    production) out=dist/client ;;
    test) out=dist/client-test ;;
    bench) out=dist/client-bench ;;
    *) say "unknown client build mode: $mode"; exit 2 ;;
  esac
  stamp=".cache/client-build-hash-$mode"
  if [ ! -f "$out/index.html" ] || [ "$(cat "$stamp" 2>/dev/null)" != "$src_hash" ]; then
    say "building the client ($mode)"
    # React's production build in every mode: vitest's global setup runs this
    # with NODE_ENV=test, which would otherwise bundle React's development build
    # (StrictMode's double effects, dev-only checks, 25 % more code).
    NODE_ENV=production npx vite build --mode "$mode" --logLevel warn
    echo "$src_hash" >"$stamp"
  fi
done
