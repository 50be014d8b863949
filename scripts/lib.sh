# shellcheck shell=bash disable=SC2034
# Shared helpers for logferry's test-environment scripts (env-up.sh, env-down.sh,
# es-ctl.sh, test.sh). Source it; do not run it.
#
# The test environment (all on 127.0.0.1 or unix sockets, nothing pulled from a registry):
#   - a private dockerd on $LF_DIR/docker.sock (vfs storage, no bridge, no iptables)
#   - a local image logferry-test-busybox:latest built FROM scratch with the host's busybox
#   - a real Elasticsearch (Maven Central's integ-test-zip) run as an unprivileged user
#
# Knobs (environment):
#   LOGFERRY_TEST_DIR             state dir                        (/tmp/logferry-test)
#   LOGFERRY_TEST_ES_PORT         ES HTTP port on 127.0.0.1        (19200)
#   LOGFERRY_TEST_ES_TRANSPORT_PORT  ES transport port             (ES port + 100)
#   LOGFERRY_TEST_CACHE           where the unzipped ES is kept    (/var/cache/logferry-test)
#   LOGFERRY_TEST_ES_ZIP          use this ES zip instead of fetching it with Maven
#   LOGFERRY_TEST_ES_HEAP         ES heap                          (768m)
#   LOGFERRY_TEST_ES_TIMEOUT      seconds to wait for ES health    (180)

LF_SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
LF_REPO_ROOT="$(cd "$LF_SCRIPTS_DIR/.." && pwd)"
LF_PROG="${LF_PROG:-$(basename "$0" .sh)}"

LF_DIR="${LOGFERRY_TEST_DIR:-/tmp/logferry-test}"
case "$LF_DIR" in /*) ;; *) LF_DIR="$PWD/$LF_DIR" ;; esac
LF_DIR="${LF_DIR%/}"

LF_MIN_JAVA=21
LF_ES_VERSION=8.19.21
LF_ES_ARTIFACT="org.elasticsearch.distribution.integ-test-zip:elasticsearch:${LF_ES_VERSION}:zip"
LF_CACHE="${LOGFERRY_TEST_CACHE:-/var/cache/logferry-test}"
LF_ES_HOME="$LF_CACHE/elasticsearch-$LF_ES_VERSION"
LF_ES_USER=logferry-es
LF_ES_HEAP="${LOGFERRY_TEST_ES_HEAP:-768m}"
LF_ES_TIMEOUT="${LOGFERRY_TEST_ES_TIMEOUT:-180}"
LF_IMAGE=logferry-test-busybox:latest

LF_DOCKER_SOCK="$LF_DIR/docker.sock"
LF_DOCKER_PIDFILE="$LF_DIR/docker.pid"
LF_DOCKER_DATA="$LF_DIR/docker-data"
LF_DOCKER_EXEC="$LF_DIR/docker-exec"
LF_DOCKER_LOG="$LF_DIR/dockerd.log"

LF_ES_RUN="$LF_DIR/es-run"                   # owned by the ES user
LF_ES_PIDFILE="$LF_ES_RUN/es.pid"            # written by the ES server JVM itself (-p)
LF_ES_LAUNCHER_PIDFILE="$LF_DIR/es-launcher.pid"  # runuser -> ES CLI, parent of the server
LF_ES_PORTFILE="$LF_DIR/es.port"
LF_ES_DATA="$LF_DIR/es-data"
LF_ES_LOGS="$LF_DIR/es-logs"
LF_ES_CONF="$LF_DIR/es-config"
LF_ES_TMP="$LF_DIR/es-tmp"
LF_ES_CONSOLE="$LF_DIR/es-console.log"

# ---------------------------------------------------------------- output / time

lf_log() { printf '%s: %s\n' "$LF_PROG" "$*" >&2; }
lf_die() { printf '%s: ERROR: %s\n' "$LF_PROG" "$*" >&2; exit 1; }

lf_now_ms() { echo $(( $(date +%s%N) / 1000000 )); }
# lf_since START_MS -> "12.3s"
lf_since() { local d=$(( $(lf_now_ms) - $1 )); printf '%d.%ds' $(( d / 1000 )) $(( (d % 1000) / 100 )); }

lf_require_root() {
  [[ $(id -u) -eq 0 ]] || lf_die "must run as root (it installs packages, runs dockerd and switches to user $LF_ES_USER for Elasticsearch)"
}

# Serialise env-up / env-down / es-ctl on one state dir. fd 9 is closed for every
# daemon we start (9>&-), so the daemons never hold the lock.
lf_lock() {
  mkdir -p "$LF_DIR"
  exec 9>"$LF_DIR/.lock"
  if ! flock -w "${1:-600}" 9; then
    lf_log "WARNING: could not lock $LF_DIR/.lock within ${1:-600}s; going on without the lock"
  fi
}

# Print the last lines of a log file to stderr, indented.
lf_tail() { [[ -f $1 ]] && { lf_log "last lines of $1:"; tail -n "${2:-30}" "$1" | sed 's/^/    /' >&2; }; return 0; }

# ---------------------------------------------------------------- processes

# lf_pid_of PIDFILE -> prints the pid if the file holds a number
lf_pid_of() { local p=""; [[ -s $1 ]] && p=$(head -n1 "$1" 2>/dev/null | tr -dc 0-9); [[ -n $p ]] && echo "$p"; }

# lf_alive PID [PATTERN]: process exists, is not a zombie and (if given) its command line
# contains PATTERN (guards against a recycled pid from a stale pidfile).
lf_alive() {
  local pid=$1 pat=${2:-} state cmd
  [[ -n $pid && -d /proc/$pid ]] || return 1
  state=$(sed -n 's/^.*) \([A-Za-z]\).*$/\1/p' "/proc/$pid/stat" 2>/dev/null) || return 1
  [[ $state != Z && $state != X && -n $state ]] || return 1
  if [[ -n $pat ]]; then
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$pid/cmdline") || return 1
    [[ $cmd == *"$pat"* ]] || return 1
  fi
}

lf_pidfile_alive() { local pid; pid=$(lf_pid_of "$1") && lf_alive "$pid" "${2:-}"; }

# lf_stop_pid PID NAME [TERM_DEADLINE_S]: SIGTERM, wait with a deadline, then SIGKILL.
lf_stop_pid() {
  local pid=$1 name=$2 deadline_s=${3:-30} t0 end
  lf_alive "$pid" || return 0
  t0=$(lf_now_ms)
  kill -TERM "$pid" 2>/dev/null || true
  end=$(( $(date +%s) + deadline_s ))
  while lf_alive "$pid" && (( $(date +%s) < end )); do sleep 0.2; done
  if lf_alive "$pid"; then
    lf_log "$name (pid $pid) still running after ${deadline_s}s; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
    end=$(( $(date +%s) + 15 ))
    while lf_alive "$pid" && (( $(date +%s) < end )); do sleep 0.1; done
    lf_alive "$pid" && { lf_log "WARNING: $name (pid $pid) survived SIGKILL"; return 1; }
  fi
  lf_log "$name (pid $pid) stopped in $(lf_since "$t0")"
}

# Pids of processes whose command line contains STRING (used with our own, unique
# state-dir paths only, e.g. containerd shims started for $LF_DIR/docker-exec).
lf_pids_with_cmdline() {
  local want=$1 p cmd
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [[ $p == "$$" || $p == "$BASHPID" ]] && continue
    cmd=$(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline") || continue
    [[ $cmd == *"$want"* ]] && echo "$p"
  done
  return 0
}

# Unmount whatever is still mounted below the state dir (deepest first).
lf_unmount_below() {
  local dir=$1 m n=0
  while read -r m; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || lf_log "WARNING: could not unmount $m"
    n=$((n + 1))
  done < <(awk -v d="$dir/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r)
  (( n == 0 )) || lf_log "unmounted $n leftover mount(s) under $dir"
}

# ---------------------------------------------------------------- packages

# Install the Debian packages that are missing. apt-get update only when a package
# has no install candidate in the current lists.
lf_ensure_packages() {
  local missing=() p need_update=0 created_policy=0
  command -v dockerd >/dev/null 2>&1 || missing+=(docker.io)
  [[ -x /bin/busybox ]] || missing+=(busybox-static)
  command -v curl >/dev/null 2>&1 || missing+=(curl)
  command -v unzip >/dev/null 2>&1 || missing+=(unzip)
  command -v mvn >/dev/null 2>&1 || missing+=(maven)
  command -v runuser >/dev/null 2>&1 || missing+=(util-linux)
  command -v flock >/dev/null 2>&1 || missing+=(util-linux)
  (( ${#missing[@]} )) || return 0
  local t0; t0=$(lf_now_ms)
  lf_log "installing missing packages: ${missing[*]}"
  local policy
  for p in "${missing[@]}"; do
    policy=$(apt-cache policy "$p" 2>/dev/null || true)
    [[ $policy == *"Candidate: "[0-9]* ]] || need_update=1
  done
  if (( need_update )); then
    lf_log "apt-get update (package lists lack a candidate)"
    apt-get update -qq || lf_die "apt-get update failed"
  fi
  # Without systemd, docker.io's postinst would start a system-wide dockerd (with a
  # bridge and iptables) through its init script: forbid service starts meanwhile.
  if [[ ! -e /usr/sbin/policy-rc.d ]]; then
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d && chmod 755 /usr/sbin/policy-rc.d && created_policy=1
  fi
  local rc=0
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" \
    >"$LF_DIR/apt-install.log" 2>&1 || rc=$?
  (( created_policy )) && rm -f /usr/sbin/policy-rc.d
  if (( rc != 0 )); then
    lf_tail "$LF_DIR/apt-install.log"
    lf_die "apt-get install ${missing[*]} failed (exit $rc)"
  fi
  command -v dockerd >/dev/null 2>&1 || lf_die "dockerd still missing after installing docker.io"
  [[ -x /bin/busybox ]] || lf_die "/bin/busybox still missing after installing busybox-static"
  lf_log "packages installed in $(lf_since "$t0")"
}

# ---------------------------------------------------------------- JDK

# lf_java_major JAVA_BIN -> feature version (17, 21, 25, ...)
lf_java_major() {
  local v
  v=$("$1" -XshowSettings:properties -version 2>&1 | awk -F'= *' '/java\.specification\.version/ {print $2; exit}') || true
  v=${v%%.*}
  [[ $v =~ ^[0-9]+$ ]] && echo "$v"
}

# Sets LF_JAVA_HOME / LF_JAVA_MAJOR to a JDK >= 21: $JAVA_HOME if good, else the
# default java if good, else the newest JDK under /usr/lib/jvm.
lf_pick_jdk() {
  local cand home major best_home="" best_major=0 seen=" " default_desc="none"
  if [[ -n ${JAVA_HOME:-} && -x $JAVA_HOME/bin/java && -x $JAVA_HOME/bin/javac ]]; then
    major=$(lf_java_major "$JAVA_HOME/bin/java") || major=0
    if (( major >= LF_MIN_JAVA )); then LF_JAVA_HOME=$(readlink -f "$JAVA_HOME"); LF_JAVA_MAJOR=$major; return 0; fi
  fi
  if cand=$(command -v java 2>/dev/null); then
    home=$(dirname "$(dirname "$(readlink -f "$cand")")")
    major=$(lf_java_major "$cand") || major=0
    default_desc="$major ($home)"
    if (( major >= LF_MIN_JAVA )) && [[ -x $home/bin/javac ]]; then LF_JAVA_HOME=$home; LF_JAVA_MAJOR=$major; return 0; fi
  fi
  for cand in "${LF_JVM_DIR:-/usr/lib/jvm}"/*/bin/java; do
    [[ -x $cand ]] || continue
    home=$(readlink -f "$(dirname "$(dirname "$cand")")")
    [[ $seen == *" $home "* ]] && continue
    seen+="$home "
    [[ -x $home/bin/javac ]] || continue
    major=$(lf_java_major "$home/bin/java") || continue
    if (( major >= LF_MIN_JAVA && major > best_major )); then best_major=$major; best_home=$home; fi
  done
  [[ -n $best_home ]] || lf_die "no JDK >= $LF_MIN_JAVA found: default java is $default_desc, JAVA_HOME=${JAVA_HOME:-unset}, and ${LF_JVM_DIR:-/usr/lib/jvm} has none. Install a JDK $LF_MIN_JAVA+ under /usr/lib/jvm (or set JAVA_HOME to one)."
  LF_JAVA_HOME=$best_home
  LF_JAVA_MAJOR=$best_major
}

# ---------------------------------------------------------------- docker

lf_docker_bin() {
  # Prefer the CLI shipped with the dockerd we run (docker.io puts both in /usr/bin).
  local d; d=$(command -v dockerd 2>/dev/null || true)
  if [[ -n $d && -x $(dirname "$d")/docker ]]; then echo "$(dirname "$d")/docker"; else command -v docker; fi
}
lf_docker() { DOCKER_HOST="unix://$LF_DOCKER_SOCK" "$(lf_docker_bin)" "$@"; }
lf_docker_answers() { [[ -S $LF_DOCKER_SOCK ]] && timeout 10 env DOCKER_HOST="unix://$LF_DOCKER_SOCK" "$(lf_docker_bin)" version --format '{{.Server.Version}}' >/dev/null 2>&1; }
# Pidfile checks match a command-line fragment unique to our instance, so a stale
# pidfile whose pid was recycled never makes us reuse or kill a foreign process.
LF_DOCKERD_MATCH="--data-root=$LF_DOCKER_DATA"
LF_ES_MATCH="-Djava.io.tmpdir=$LF_ES_TMP"
LF_ES_LAUNCHER_MATCH="runuser -u $LF_ES_USER"
lf_dockerd_running() { lf_pidfile_alive "$LF_DOCKER_PIDFILE" "$LF_DOCKERD_MATCH"; }

# Remove every container of our dockerd (best effort).
lf_docker_rm_all() {
  local ids
  ids=$(timeout 30 env DOCKER_HOST="unix://$LF_DOCKER_SOCK" "$(lf_docker_bin)" ps -aq 2>/dev/null) || return 0
  [[ -n $ids ]] || return 0
  # shellcheck disable=SC2086
  if timeout 120 env DOCKER_HOST="unix://$LF_DOCKER_SOCK" "$(lf_docker_bin)" rm -f $ids >/dev/null 2>&1; then
    lf_log "removed $(wc -w <<<"$ids") container(s)"
  else
    lf_log "WARNING: docker rm -f failed for some containers"
  fi
}

# Stop dockerd, its managed containerd and any shim left for our exec-root (best effort).
lf_dockerd_stop() {
  local pid p
  if pid=$(lf_pid_of "$LF_DOCKER_PIDFILE") && lf_alive "$pid" "$LF_DOCKERD_MATCH"; then
    lf_stop_pid "$pid" dockerd 30 || true
  fi
  for p in $(lf_pids_with_cmdline "$LF_DOCKER_EXEC/"); do
    lf_stop_pid "$p" "leftover $(tr '\0' ' ' 2>/dev/null <"/proc/$p/cmdline" | cut -c1-40)" 10 || true
  done
  # A killed dockerd leaves containerd's pidfile; if that pid is still a zombie (or reused), a new
  # dockerd believes containerd runs and times out waiting for it.
  rm -f "$LF_DOCKER_PIDFILE" "$LF_DOCKER_SOCK" "$LF_DOCKER_EXEC/containerd/containerd.pid"
  lf_unmount_below "$LF_DIR"
}

# ---------------------------------------------------------------- elasticsearch

lf_es_port() {
  local p=""
  [[ -s $LF_ES_PORTFILE ]] && p=$(head -n1 "$LF_ES_PORTFILE" | tr -dc 0-9)
  echo "${p:-${LOGFERRY_TEST_ES_PORT:-19200}}"
}
lf_es_url() { echo "http://127.0.0.1:$(lf_es_port)"; }

# Healthy = answers _cluster/health with status yellow or green.
lf_es_healthy() {
  curl -fsS --max-time 5 -o /dev/null "$(lf_es_url)/_cluster/health?wait_for_status=yellow&timeout=2s" 2>/dev/null
}
lf_es_running() { lf_pidfile_alive "$LF_ES_PIDFILE" "$LF_ES_MATCH" || lf_pidfile_alive "$LF_ES_LAUNCHER_PIDFILE" "$LF_ES_LAUNCHER_MATCH"; }

lf_port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

lf_ensure_es_user() {
  id -u "$LF_ES_USER" >/dev/null 2>&1 && return 0
  useradd --system --user-group --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$LF_ES_USER" \
    || lf_die "could not create system user $LF_ES_USER"
  lf_log "created system user $LF_ES_USER"
}

# Fetch (Maven Central via mvn, cached in ~/.m2) and unzip ES into $LF_ES_HOME once.
lf_es_install() {
  [[ -x $LF_ES_HOME/bin/elasticsearch && -f $LF_ES_HOME/.logferry-complete ]] && return 0
  local t0 tmp zip
  t0=$(lf_now_ms)
  mkdir -p "$LF_CACHE"; chmod 755 "$LF_CACHE"
  tmp=$(mktemp -d "$LF_CACHE/.install.XXXXXX")
  if [[ -n ${LOGFERRY_TEST_ES_ZIP:-} ]]; then
    zip=$LOGFERRY_TEST_ES_ZIP
    [[ -f $zip ]] || lf_die "LOGFERRY_TEST_ES_ZIP=$zip does not exist"
  else
    command -v mvn >/dev/null 2>&1 || lf_die "mvn not found (needed to fetch Elasticsearch from Maven Central)"
    lf_log "fetching $LF_ES_ARTIFACT with Maven (cached in the local Maven repository)"
    # Run outside any project (empty dir) so no pom.xml is involved.
    if ! (cd "$tmp" && mvn -B -q org.apache.maven.plugins:maven-dependency-plugin:3.8.1:copy \
            -Dartifact="$LF_ES_ARTIFACT" -DoutputDirectory="$tmp/zip" >"$tmp/mvn.log" 2>&1); then
      lf_tail "$tmp/mvn.log" 40
      lf_die "could not fetch $LF_ES_ARTIFACT with Maven (see above)"
    fi
    zip=$tmp/zip/elasticsearch-$LF_ES_VERSION.zip
    [[ -f $zip ]] || lf_die "Maven reported success but $zip is missing"
  fi
  lf_log "unzipping Elasticsearch $LF_ES_VERSION into $LF_ES_HOME"
  unzip -q "$zip" -d "$tmp/unzipped" || lf_die "unzip of $zip failed"
  [[ -x $tmp/unzipped/elasticsearch-$LF_ES_VERSION/bin/elasticsearch ]] || lf_die "unexpected layout in $zip"
  rm -rf "$LF_ES_HOME"
  mv "$tmp/unzipped/elasticsearch-$LF_ES_VERSION" "$LF_ES_HOME"
  chmod -R a+rX "$LF_ES_HOME"
  touch "$LF_ES_HOME/.logferry-complete"
  rm -rf "$tmp"
  lf_log "Elasticsearch $LF_ES_VERSION installed in $(lf_since "$t0")"
}

# Fresh data/logs/config/tmp dirs owned by the ES user.
lf_es_prepare_fresh() {
  rm -rf "$LF_ES_DATA" "$LF_ES_LOGS" "$LF_ES_CONF" "$LF_ES_TMP"
  mkdir -p "$LF_ES_DATA" "$LF_ES_LOGS" "$LF_ES_CONF" "$LF_ES_TMP"
  cp -a "$LF_ES_HOME/config/." "$LF_ES_CONF/"
  chown -R "$LF_ES_USER:$LF_ES_USER" "$LF_ES_DATA" "$LF_ES_LOGS" "$LF_ES_CONF" "$LF_ES_TMP"
  chmod 750 "$LF_ES_DATA" "$LF_ES_CONF" "$LF_ES_TMP"
  chmod 755 "$LF_ES_LOGS"
}

# Start ES on the recorded port with the existing data dir and wait for health.
# Needs LF_JAVA_HOME.
lf_es_start() {
  local port tport t0 launcher end
  port=$(lf_es_port)
  tport=${LOGFERRY_TEST_ES_TRANSPORT_PORT:-$((port + 100))}
  [[ -d $LF_ES_DATA && -d $LF_ES_CONF ]] || lf_die "no ES data/config dir under $LF_DIR; run scripts/env-up.sh first"
  [[ -x $LF_ES_HOME/bin/elasticsearch ]] || lf_die "Elasticsearch is not installed at $LF_ES_HOME; run scripts/env-up.sh first"
  if lf_port_in_use "$port"; then lf_die "port 127.0.0.1:$port is already in use by something else (set LOGFERRY_TEST_ES_PORT)"; fi
  if lf_port_in_use "$tport"; then lf_die "transport port 127.0.0.1:$tport is already in use (set LOGFERRY_TEST_ES_TRANSPORT_PORT)"; fi
  t0=$(lf_now_ms)
  mkdir -p "$LF_ES_RUN"
  chown "$LF_ES_USER:$LF_ES_USER" "$LF_ES_RUN"
  rm -f "$LF_ES_PIDFILE"
  echo "=== $(date -u +%FT%TZ) starting elasticsearch on 127.0.0.1:$port" >>"$LF_ES_CONSOLE"
  # cwd = logs dir: the distribution's jvm.options writes gc.log / hs_err files relative to it.
  ( cd "$LF_ES_LOGS" && exec setsid runuser -u "$LF_ES_USER" -- env -i \
      PATH=/usr/local/bin:/usr/bin:/bin HOME="$LF_ES_TMP" LANG=C.UTF-8 \
      ES_JAVA_HOME="$LF_JAVA_HOME" ES_PATH_CONF="$LF_ES_CONF" ES_TMPDIR="$LF_ES_TMP" \
      ES_JAVA_OPTS="-Xms$LF_ES_HEAP -Xmx$LF_ES_HEAP" \
      "$LF_ES_HOME/bin/elasticsearch" \
        -E cluster.name=logferry-test -E node.name=logferry-test \
        -E discovery.type=single-node -E xpack.security.enabled=false \
        -E network.host=127.0.0.1 -E http.host=127.0.0.1 -E http.port="$port" \
        -E transport.host=127.0.0.1 -E transport.port="$tport" \
        -E path.data="$LF_ES_DATA" -E path.logs="$LF_ES_LOGS" \
        -E action.destructive_requires_name=false \
        -E cluster.routing.allocation.disk.threshold_enabled=false \
        -p "$LF_ES_PIDFILE" \
      >>"$LF_ES_CONSOLE" 2>&1 </dev/null 9>&- ) &
  launcher=$!
  echo "$launcher" >"$LF_ES_LAUNCHER_PIDFILE"
  end=$(( $(date +%s) + LF_ES_TIMEOUT ))
  until lf_es_healthy; do
    if ! lf_alive "$launcher" && ! lf_pidfile_alive "$LF_ES_PIDFILE" "$LF_ES_MATCH"; then
      lf_tail "$LF_ES_CONSOLE" 40
      lf_die "Elasticsearch exited during startup (console log: $LF_ES_CONSOLE, logs: $LF_ES_LOGS)"
    fi
    if (( $(date +%s) >= end )); then
      lf_tail "$LF_ES_CONSOLE" 40
      lf_es_stop || true
      lf_die "Elasticsearch not healthy on 127.0.0.1:$port within ${LF_ES_TIMEOUT}s"
    fi
    sleep 0.5
  done
  lf_log "elasticsearch ready on http://127.0.0.1:$port in $(lf_since "$t0") (pid $(lf_pid_of "$LF_ES_PIDFILE" || echo '?'), JDK $LF_JAVA_HOME, heap $LF_ES_HEAP)"
}

# lf_es_stop [SIGNAL]: TERM (graceful, deadline then KILL) or KILL (crash-like).
# shellcheck disable=SC2120  # callers pass TERM or KILL
lf_es_stop() {
  local sig=${1:-TERM} pid lpid end stopped=0
  pid=$(lf_pid_of "$LF_ES_PIDFILE" || true)
  lpid=$(lf_pid_of "$LF_ES_LAUNCHER_PIDFILE" || true)
  if [[ -n $pid ]] && lf_alive "$pid" "$LF_ES_MATCH"; then
    stopped=1
    if [[ $sig == KILL ]]; then
      kill -KILL "$pid" 2>/dev/null || true
      end=$(( $(date +%s) + 15 ))
      while lf_alive "$pid" && (( $(date +%s) < end )); do sleep 0.1; done
      lf_log "elasticsearch (pid $pid) killed with SIGKILL"
    else
      lf_stop_pid "$pid" elasticsearch 60 || true
    fi
  fi
  # The launcher (runuser -> ES CLI) exits once the server is gone; make sure of it.
  if [[ -n $lpid ]] && lf_alive "$lpid" "$LF_ES_LAUNCHER_MATCH"; then
    end=$(( $(date +%s) + 10 ))
    while lf_alive "$lpid" && (( $(date +%s) < end )); do sleep 0.1; done
    if lf_alive "$lpid"; then stopped=1; lf_stop_pid "$lpid" "elasticsearch launcher" 10 || true; fi
  fi
  # A server whose pidfile was never written (startup interrupted): java or runuser
  # processes whose command line names our own ES dirs (-Des.path.conf, -Djava.io.tmpdir).
  local p exe
  for p in $(lf_pids_with_cmdline "$LF_DIR/es-"); do
    exe=$(basename "$(readlink "/proc/$p/exe" 2>/dev/null)" 2>/dev/null) || continue
    [[ $exe == java || $exe == runuser ]] || continue
    stopped=1; lf_stop_pid "$p" "leftover elasticsearch process ($exe)" 30 || true
  done
  rm -f "$LF_ES_PIDFILE" "$LF_ES_LAUNCHER_PIDFILE"
  (( stopped )) || lf_log "elasticsearch was not running"
  return 0
}
