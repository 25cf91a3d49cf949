#!/usr/bin/env bash
# Runs as the first process of a fresh, empty network namespace (made by
# `unshare --net`, see netns.ts) and sets up the test host: loopback, and a
# veth pair whose two ends both stay in this namespace, one holding the test
# address $CONFIDE_TEST_NETNS. Firefox gathers no loopback ICE candidates and
# none at all without a default route, so the route goes to that veth too:
# nothing here can reach the machine's own network. Then runs "$@".
set -euo pipefail
: "${CONFIDE_TEST_NETNS:?the test address}"
ip link set lo up
ip link add confide0 type veth peer name confide1
ip addr add "$CONFIDE_TEST_NETNS/24" dev confide0
ip link set confide0 up
ip link set confide1 up
ip route add default dev confide0
exec "$@"
