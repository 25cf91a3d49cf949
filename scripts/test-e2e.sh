#!/usr/bin/env bash
# Runs the browser and integration tests (vitest project "e2e") inside a
# network namespace of their own: loopback plus a test address
# (198.18.0.1, tests/e2e/support/netns-enter.sh) and no route out, so every
# packet a test, a browser or the SFU sends stays on addresses the test made
# (browsers otherwise gather host candidates on the machine's real
# interfaces). The namespace, its firewall rules (resilience tests) and its
# processes vanish with the run. Needs root or unprivileged user namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
MAP=()
[ "$(id -u)" = 0 ] || MAP=(--map-root-user)
export CONFIDE_TEST_NETNS=198.18.0.1
exec unshare --net --kill-child "${MAP[@]}" -- bash tests/e2e/support/netns-enter.sh \
  node_modules/.bin/vitest run --project e2e "$@"
