#!/usr/bin/env bash
# Builds mediasoup's C++ worker offline from the npm tarball against Debian's
# -dev libraries, because mediasoup's own install downloads a prebuilt binary
# or meson wraps from GitHub, which this machine cannot reach.
#
# Output: .cache/mediasoup-worker/<version>/mediasoup-worker (cached by
# version, outside node_modules, so `npm ci` never throws it away and a second
# run is instant). Prints the binary path on its last line.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/.." && pwd)"
VERSION="${MEDIASOUP_VERSION_PIN:-$(node -p "require('$ROOT/package.json').dependencies.mediasoup")}"
CACHE="$ROOT/.cache/mediasoup-worker/$VERSION"
BIN="$CACHE/mediasoup-worker"

if [ -x "$BIN" ]; then
  echo "$BIN"
  exit 0
fi

echo "building the SFU worker (mediasoup $VERSION), first run only, ~7 min on 2 cores..." >&2
WORK="$ROOT/.cache/worker-build-$VERSION"
rm -rf "$WORK"
mkdir -p "$WORK/src" "$CACHE"

TGZ=$(cd "$WORK" && npm pack "mediasoup@$VERSION" --silent --pack-destination "$WORK" 2>/dev/null | tail -1)
tar xzf "$WORK/$TGZ" -C "$WORK/src" --strip-components=1
W="$WORK/src/worker"
S="$W/subprojects"

# Debian ships meson 1.0.1; nothing in the worker needs 1.1.
sed -i "s/meson_version: '>= 1.1.0'/meson_version: '>= 1.0.0'/" "$W/meson.build"

# Replace the download-only wraps with shim subprojects that export the
# variables mediasoup's meson.build expects, backed by system libraries.
for p in openssl nlohmann_json libuv libsrtp2 usrsctp abseil-cpp catch2; do
  rm -f "$S/$p.wrap"
  mkdir -p "$S/$p"
done

cat >"$S/openssl/meson.build" <<'EOF'
project('openssl', version: 'system')
openssl_dep = dependency('openssl', version: '>= 1.1.1')
libcrypto_dep = dependency('libcrypto')
libssl_dep = dependency('libssl')
libcrypto_lib = []
libssl_lib = []
EOF

cat >"$S/nlohmann_json/meson.build" <<'EOF'
project('nlohmann_json', version: 'system')
nlohmann_json_dep = dependency('nlohmann_json', version: '>= 3.10.5')
EOF

cat >"$S/libuv/meson.build" <<'EOF'
project('libuv', version: 'system')
libuv_dep = dependency('libuv', version: '>= 1.44.2')
libuv = []
EOF
cat >"$S/libuv/meson_options.txt" <<'EOF'
option('build_tests', type: 'boolean', value: false)
option('build_benchmarks', type: 'boolean', value: false)
EOF

# Debian's libsrtp2.pc lacks -I.../srtp2 but the worker includes <srtp.h>.
cat >"$S/libsrtp2/meson.build" <<'EOF'
project('libsrtp2', version: 'system')
_srtp = dependency('libsrtp2', version: '>= 2.4.0')
_inc = _srtp.get_variable(pkgconfig: 'includedir', default_value: '/usr/include') / 'srtp2'
libsrtp2_dep = declare_dependency(dependencies: _srtp, include_directories: include_directories(_inc))
libsrtp2 = []
EOF
cat >"$S/libsrtp2/meson_options.txt" <<'EOF'
option('crypto-library', type: 'combo', choices: ['none', 'openssl', 'nss', 'mbedtls'], value: 'openssl')
option('crypto-library-kdf', type: 'feature', value: 'auto')
option('tests', type: 'feature', value: 'auto')
EOF

cat >"$S/usrsctp/meson.build" <<'EOF'
project('usrsctp', version: 'system')
usrsctp_dep = dependency('usrsctp')
usrsctp = []
EOF
cat >"$S/usrsctp/meson_options.txt" <<'EOF'
option('sctp_build_programs', type: 'boolean', value: false)
EOF

cat >"$S/abseil-cpp/meson.build" <<'EOF'
project('abseil-cpp', version: 'system')
absl_container_dep = declare_dependency(dependencies: [
  dependency('absl_flat_hash_map'), dependency('absl_flat_hash_set'),
  dependency('absl_btree'), dependency('absl_inlined_vector'), dependency('absl_memory'),
])
absl_strings_dep = dependency('absl_strings')
absl_types_dep = declare_dependency(dependencies: [dependency('absl_optional'), dependency('absl_variant')])
absl_container_lib = []
EOF

cat >"$S/catch2/meson.build" <<'EOF'
project('catch2', version: 'system')
catch2_dep = dependency('catch2', required: false)
EOF

meson setup --wrap-mode=nodownload --buildtype release \
  -Db_ndebug=true -Db_pie=true -Db_staticpic=true "$WORK/build" "$W" >"$WORK/meson.log" 2>&1 ||
  { tail -40 "$WORK/meson.log" >&2; exit 1; }
ninja -C "$WORK/build" -j "$(nproc)" mediasoup-worker >"$WORK/ninja.log" 2>&1 ||
  { tail -40 "$WORK/ninja.log" >&2; exit 1; }

# A worker started without MEDIASOUP_VERSION exits 41: the check mediasoup's
# own postinstall uses for a usable binary.
set +e; env -i "$WORK/build/mediasoup-worker" >/dev/null 2>&1; rc=$?; set -e
[ "$rc" = 41 ] || { echo "built worker exits $rc, expected 41" >&2; exit 1; }

install -m 0755 "$WORK/build/mediasoup-worker" "$BIN.tmp"
mv "$BIN.tmp" "$BIN"
rm -rf "$WORK"
echo "SFU worker built: $BIN" >&2
echo "$BIN"
