#!/usr/bin/env bash
# Local base images for the Dockerfile where no registry is reachable (CI, air-gapped hosts):
#
#   scripts/image-base.sh [JAR]
#
#   logferry-base:local   RUNTIME_IMAGE: FROM scratch + a jlink'ed JRE of this host's JDK, the glibc
#                         libraries it links to, and a static busybox (sh, mkdir, chown, wget for the
#                         HEALTHCHECK). ~60 MB, built in seconds: no package manager, no download.
#   logferry-build:local  BUILD_IMAGE (only with JAR): the base plus JAR at /build/target/logferry.jar
#                         and an `mvn` stand-in that checks the jar is there. No Maven image can be
#                         pulled here, so the build stage runs against the jar this checkout's own
#                         `mvn package` made; every other step of the Dockerfile runs as written.
#
# Then:  docker build --build-arg RUNTIME_IMAGE=logferry-base:local \
#                     --build-arg BUILD_IMAGE=logferry-build:local -t logferry .
#
# Needs: a JDK 21+ (JAVA_HOME, or java on PATH), /bin/busybox (Debian's busybox-static), docker.
# Images are rebuilt only when their inputs change (a hash label on each).
set -euo pipefail

JAR=${1:-}
BASE_TAG=${LOGFERRY_BASE_IMAGE:-logferry-base:local}
BUILD_TAG=${LOGFERRY_BUILD_IMAGE:-logferry-build:local}
JAVA_HOME=${JAVA_HOME:-$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")}
BUSYBOX=${BUSYBOX:-/bin/busybox}
# What logferry uses of the JDK: HTTP server (/health), HTTP client (Kibana), JMX-free management
# beans (Logback), XML (Logback config), naming/sql (Logback's optional bits), sun.misc.Signal.
MODULES=java.base,java.logging,java.management,java.naming,java.net.http,java.sql,java.xml,jdk.httpserver,jdk.unsupported,jdk.crypto.ec,jdk.localedata

log() { echo "image-base: $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

[[ -x $JAVA_HOME/bin/jlink ]] || die "no jlink in JAVA_HOME=$JAVA_HOME"
[[ -x $BUSYBOX ]] || die "no static busybox at $BUSYBOX (apt-get install busybox-static)"
if ldd "$BUSYBOX" >/dev/null 2>&1; then die "$BUSYBOX is dynamically linked; a static busybox is needed (busybox-static)"; fi
command -v docker >/dev/null || die "no docker client"

t0=$(date +%s)
base_hash=$( { echo "$MODULES"; "$JAVA_HOME/bin/java" -version 2>&1; sha256sum "$BUSYBOX" "$0"; } | sha256sum | cut -c1-16)
have=$(docker image inspect -f '{{index .Config.Labels "logferry.base.hash"}}' "$BASE_TAG" 2>/dev/null || true)
if [[ $have == "$base_hash" ]]; then
  log "$BASE_TAG is up to date"
else
  ctx=$(mktemp -d "${TMPDIR:-/tmp}/logferry-base.XXXXXX")
  trap 'rm -rf "$ctx"' EXIT
  root=$ctx/rootfs
  mkdir -p "$root/opt" "$root/bin" "$root/etc" "$root/tmp" "$root/lib64"
  "$JAVA_HOME/bin/jlink" --add-modules "$MODULES" --strip-debug --no-man-pages --no-header-files \
    --compress=zip-6 --output "$root/opt/java"
  # the shared libraries the JRE links to, at the paths the host has them
  {
    ldd "$root/opt/java/bin/java"
    find "$root/opt/java/lib" -name '*.so' -exec ldd {} \; 2>/dev/null
  } | awk '/=> \// {print $3} /^[ \t]*\// {print $1}' | sort -u | while read -r lib; do
    [[ -f $lib ]] || continue
    mkdir -p "$root$(dirname "$lib")"
    cp -L "$lib" "$root$lib"
  done
  # (ldd lists the dynamic loader itself, /lib64/ld-linux-x86-64.so.2, as a bare path: copied above)
  ls "$root"/lib64/ld-linux-* >/dev/null 2>&1 || ls "$root"/lib/ld-linux-* >/dev/null 2>&1 || die "the dynamic loader was not found by ldd"
  # glibc loads the NSS modules for user lookups itself (files is built in since 2.34); give it the files
  printf 'root:x:0:0:root:/root:/bin/sh\nlogferry:x:10001:0:logferry:/var/lib/logferry:/bin/false\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
  printf 'passwd: files\ngroup: files\nhosts: files dns\n' >"$root/etc/nsswitch.conf"
  printf '127.0.0.1 localhost\n::1 localhost\n' >"$root/etc/hosts"
  cp "$BUSYBOX" "$root/bin/busybox"
  chmod 1777 "$root/tmp"
  cat >"$ctx/Dockerfile" <<'EOF'
FROM scratch
COPY rootfs/ /
RUN ["/bin/busybox", "--install", "-s", "/bin"]
ENV JAVA_HOME=/opt/java PATH=/opt/java/bin:/bin LANG=C.UTF-8
CMD ["java", "-version"]
EOF
  DOCKER_BUILDKIT=0 docker build -q --network none --label "logferry.base.hash=$base_hash" -t "$BASE_TAG" "$ctx" >/dev/null
  docker run --rm --network none "$BASE_TAG" java -version >/dev/null 2>&1 || die "$BASE_TAG: java does not run"
  log "$BASE_TAG built in $(( $(date +%s) - t0 ))s ($(docker image inspect -f '{{.Size}}' "$BASE_TAG" | awk '{printf "%d MB", $1/1e6}'))"
  rm -rf "$ctx"
  trap - EXIT
fi

[[ -n $JAR ]] || exit 0
[[ -f $JAR ]] || die "no jar at $JAR (mvn package first)"
ctx=$(mktemp -d "${TMPDIR:-/tmp}/logferry-build.XXXXXX")
trap 'rm -rf "$ctx"' EXIT
cp "$JAR" "$ctx/logferry.jar"
cat >"$ctx/mvn" <<'EOF'
#!/bin/sh
# mvn stand-in (scripts/image-base.sh): the jar was built outside by this checkout's own Maven.
[ -f /build/target/logferry.jar ] || { echo "mvn stand-in: /build/target/logferry.jar is missing" >&2; exit 1; }
echo "mvn stand-in: $* -> using the prebuilt /build/target/logferry.jar"
EOF
chmod 755 "$ctx/mvn"
cat >"$ctx/Dockerfile" <<EOF
FROM $BASE_TAG
COPY mvn /usr/local/bin/mvn
COPY logferry.jar /build/target/logferry.jar
ENV PATH=/usr/local/bin:/opt/java/bin:/bin
EOF
DOCKER_BUILDKIT=0 docker build -q --network none -t "$BUILD_TAG" "$ctx" >/dev/null
log "$BUILD_TAG built with $(basename "$JAR") ($(( $(date +%s) - t0 ))s in all)"
