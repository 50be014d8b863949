#!/usr/bin/env bash
# Bring up logferry's test environment (idempotent; reuses whatever is already running):
#   private dockerd on $LOGFERRY_TEST_DIR/docker.sock, the local busybox test image, and a
#   real Elasticsearch on 127.0.0.1:${LOGFERRY_TEST_ES_PORT:-19200} with a fresh data dir.
# Writes $LOGFERRY_TEST_DIR/env.sh (source it). Stop everything with scripts/env-down.sh.
set -euo pipefail
LF_PROG=env-up
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

T_START=$(lf_now_ms)
lf_require_root
mkdir -p "$LF_DIR"
chmod 755 "$LF_DIR"
lf_lock 600
lf_log "state dir $LF_DIR"

# ---- packages
lf_ensure_packages

# ---- JDK (>= 21, for Maven and Elasticsearch)
lf_pick_jdk
export JAVA_HOME="$LF_JAVA_HOME"
export PATH="$JAVA_HOME/bin:$PATH"
lf_log "JDK $LF_JAVA_MAJOR at $LF_JAVA_HOME"

# ---- Elasticsearch distribution (fetched once, kept in $LF_CACHE)
lf_es_install
lf_ensure_es_user

# ---- dockerd
start_dockerd() {
  local t0 pid end
  t0=$(lf_now_ms)
  # Leftovers of a dockerd that died without env-down (killed session, crash).
  lf_dockerd_stop || true
  if (( ${#LF_DOCKER_SOCK} > 100 )); then lf_die "socket path $LF_DOCKER_SOCK is too long for a unix socket; use a shorter LOGFERRY_TEST_DIR"; fi
  mkdir -p "$LF_DOCKER_DATA" "$LF_DOCKER_EXEC"
  # Our own (empty) daemon config, so /etc/docker/daemon.json never leaks in.
  echo '{}' >"$LF_DIR/daemon.json"
  echo "=== $(date -u +%FT%TZ) starting dockerd" >>"$LF_DOCKER_LOG"
  ( cd / && exec setsid dockerd \
      --config-file="$LF_DIR/daemon.json" \
      --iptables=false --ip-forward=false --ip-masq=false --bridge=none \
      --storage-driver=vfs \
      --data-root="$LF_DOCKER_DATA" --exec-root="$LF_DOCKER_EXEC" \
      -H "unix://$LF_DOCKER_SOCK" --pidfile="$LF_DOCKER_PIDFILE" \
      >>"$LF_DOCKER_LOG" 2>&1 </dev/null 9>&- ) &
  pid=$!
  end=$(( $(date +%s) + ${LOGFERRY_TEST_DOCKER_TIMEOUT:-90} ))
  until lf_docker_answers; do
    if ! lf_alive "$pid"; then
      lf_tail "$LF_DOCKER_LOG" 40
      lf_die "dockerd exited during startup (log: $LF_DOCKER_LOG)"
    fi
    if (( $(date +%s) >= end )); then
      lf_tail "$LF_DOCKER_LOG" 40
      lf_dockerd_stop || true
      lf_die "dockerd did not answer on $LF_DOCKER_SOCK within ${LOGFERRY_TEST_DOCKER_TIMEOUT:-90}s"
    fi
    sleep 0.2
  done
  lf_log "dockerd $(lf_docker version --format '{{.Server.Version}}' 2>/dev/null) ready on unix://$LF_DOCKER_SOCK in $(lf_since "$t0") (pid $(lf_pid_of "$LF_DOCKER_PIDFILE" || echo "$pid"))"
  # Containers left in the data root by an earlier, uncleanly stopped run would be
  # tailed by logferry in tests: a fresh daemon starts with none.
  lf_docker_rm_all
}

reuse_ok=0
if lf_dockerd_running; then
  end=$(( $(date +%s) + 30 ))
  until lf_docker_answers; do
    (( $(date +%s) < end )) && lf_dockerd_running || break
    sleep 0.2
  done
  if lf_docker_answers; then
    reuse_ok=1
    lf_log "reusing dockerd (pid $(lf_pid_of "$LF_DOCKER_PIDFILE")) on unix://$LF_DOCKER_SOCK"
  else
    lf_log "dockerd (pid $(lf_pid_of "$LF_DOCKER_PIDFILE")) does not answer; restarting it"
  fi
fi
(( reuse_ok )) || start_dockerd

# ---- test image (FROM scratch + the host's static busybox; no registry involved)
build_image() {
  local t0 hash have ctx
  local dockerfile="$LF_SCRIPTS_DIR/test-image/Dockerfile"
  [[ -f $dockerfile ]] || lf_die "missing $dockerfile"
  hash=$(cat "$dockerfile" /bin/busybox | sha256sum | cut -c1-16)
  have=$(lf_docker image inspect -f '{{index .Config.Labels "io.logferry.test-image.hash"}}' "$LF_IMAGE" 2>/dev/null || true)
  if [[ $have == "$hash" ]]; then
    lf_log "image $LF_IMAGE present"
    return 0
  fi
  t0=$(lf_now_ms)
  ctx=$(mktemp -d "$LF_DIR/image-ctx.XXXXXX")
  cp "$dockerfile" "$ctx/Dockerfile"
  cp /bin/busybox "$ctx/busybox"
  if ! DOCKER_BUILDKIT=0 lf_docker build --network none --label "io.logferry.test-image.hash=$hash" \
        -t "$LF_IMAGE" "$ctx" >"$LF_DIR/image-build.log" 2>&1; then
    rm -rf "$ctx"
    lf_tail "$LF_DIR/image-build.log" 30
    lf_die "docker build of $LF_IMAGE failed (log: $LF_DIR/image-build.log)"
  fi
  rm -rf "$ctx"
  lf_log "image $LF_IMAGE built in $(lf_since "$t0")"
}
build_image

# ---- Elasticsearch
want_port=${LOGFERRY_TEST_ES_PORT:-19200}
es_reused=0
if lf_es_running; then
  if [[ $(lf_es_port) != "$want_port" ]]; then
    lf_log "elasticsearch runs on port $(lf_es_port) but $want_port is wanted; restarting it"
    lf_es_stop
  else
    end=$(( $(date +%s) + 30 ))
    until lf_es_healthy; do
      (( $(date +%s) < end )) && lf_es_running || break
      sleep 0.5
    done
    if lf_es_healthy; then
      es_reused=1
      lf_log "reusing elasticsearch (pid $(lf_pid_of "$LF_ES_PIDFILE" || echo '?')) on $(lf_es_url) (its data is kept)"
    else
      lf_log "elasticsearch is running but not healthy; restarting it with a fresh data dir"
      lf_es_stop
    fi
  fi
fi
if (( ! es_reused )); then
  lf_es_stop >/dev/null 2>&1 || true   # leftovers from a killed run, if any
  echo "$want_port" >"$LF_ES_PORTFILE"
  lf_es_prepare_fresh
  lf_es_start
fi

# ---- env.sh
{
  echo "# Generated by scripts/env-up.sh on $(date -u +%FT%TZ). Source it: . $LF_DIR/env.sh"
  printf 'export %s=%q\n' \
    DOCKER_HOST "unix://$LF_DOCKER_SOCK" \
    TESTCONTAINERS_RYUK_DISABLED true \
    TESTCONTAINERS_CHECKS_DISABLE true \
    TESTCONTAINERS_HOST_OVERRIDE localhost \
    LOGFERRY_TEST_DIR "$LF_DIR" \
    LOGFERRY_TEST_DOCKER_ROOT "$LF_DOCKER_DATA" \
    LOGFERRY_TEST_ES_URL "$(lf_es_url)" \
    LOGFERRY_TEST_IMAGE "$LF_IMAGE" \
    LOGFERRY_TEST_ES_CTL "$LF_SCRIPTS_DIR/es-ctl.sh" \
    LOGFERRY_TEST_ES_HOME "$LF_ES_HOME" \
    LOGFERRY_TEST_ES_USER "$LF_ES_USER" \
    JAVA_HOME "$LF_JAVA_HOME"
  printf 'export PATH=%q:"$PATH"\n' "$LF_JAVA_HOME/bin"
} >"$LF_DIR/env.sh.tmp"
mv "$LF_DIR/env.sh.tmp" "$LF_DIR/env.sh"

lf_log "environment ready in $(lf_since "$T_START"); use it with: . $LF_DIR/env.sh"
