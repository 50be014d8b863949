#!/usr/bin/env bash
# shellcheck disable=SC2016  # the demo containers' shell scripts are single-quoted on purpose
# logferry demo: runs the agent's main job on this machine, end to end.
#
#   scripts/demo.sh            (as root)
#
# 1. scripts/env-up.sh: a private dockerd on $LOGFERRY_TEST_DIR/docker.sock and a real
#    Elasticsearch on 127.0.0.1:19200 (installs docker.io, busybox-static, fetches ES once).
# 2. Builds target/logferry.jar if it is missing (LOGFERRY_DEMO_BUILD=1 rebuilds it).
# 3. Writes a demo config into $LOGFERRY_TEST_DIR/demo/ and starts four labelled containers:
#    plain, Java stack traces (logferry.multiline=java), JSON lines (logferry.json=true) and
#    one with logferry.enable=false, whose lines must not arrive.
# 4. Starts the agent in the background, waits (with a deadline) until every expected
#    document is in Elasticsearch, prints what arrived per container and data stream,
#    /health and some /metrics, then stops the agent with SIGTERM.
# The environment stays up afterwards; scripts/env-down.sh stops it.
#
# Knobs: LOGFERRY_DEMO_TIMEOUT (seconds to wait for the documents, default 120),
#        LOGFERRY_DEMO_BUILD=1 (rebuild the jar), LOGFERRY_DEMO_PORT (http port, default 5066),
#        LOGFERRY_TEST_DIR (state dir, default /tmp/logferry-test).
set -euo pipefail
SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/.." && pwd)"
T0=$(date +%s)

if [[ $(id -u) -ne 0 ]]; then
  echo "demo: ERROR: run as root (scripts/env-up.sh installs packages and starts dockerd)" >&2
  exit 1
fi

# ---------------------------------------------------------------- environment
bash "$SCRIPTS_DIR/env-up.sh"
LF_PROG=demo
# shellcheck source=scripts/lib.sh
source "$SCRIPTS_DIR/lib.sh"          # LF_DIR and the process helpers (lf_log, lf_alive, ...)
# shellcheck disable=SC1091
source "$LF_DIR/env.sh"               # DOCKER_HOST, LOGFERRY_TEST_*, JAVA_HOME

if ! command -v python3 >/dev/null 2>&1; then
  lf_log "installing python3 (used to read Elasticsearch's JSON answers)"
  apt-cache policy python3 2>/dev/null | grep -q 'Candidate: [0-9]' || apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends python3 >/dev/null \
    || lf_die "apt-get install python3 failed"
fi

ES=$LOGFERRY_TEST_ES_URL
DEMO_DIR=$LF_DIR/demo
CFG=$DEMO_DIR/logferry.yml
AGENT_LOG=$DEMO_DIR/agent.log
AGENT_PIDFILE=$DEMO_DIR/agent.pid
PORT=${LOGFERRY_DEMO_PORT:-5066}
TIMEOUT=${LOGFERRY_DEMO_TIMEOUT:-120}
NS=demo
JAR=$REPO_ROOT/target/logferry.jar
mkdir -p "$DEMO_DIR"

# ---------------------------------------------------------------- the jar
if [[ ! -f $JAR || ${LOGFERRY_DEMO_BUILD:-0} == 1 ]]; then
  lf_log "building $JAR (mvn -B -q -DskipTests package, JDK $JAVA_HOME)"
  if [[ " ${MAVEN_OPTS:-} " != *sun-misc-unsafe-memory-access* ]] \
     && java --sun-misc-unsafe-memory-access=allow -version >/dev/null 2>&1; then
    export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
  fi
  if ! (cd "$REPO_ROOT" && mvn -B -q -Dstyle.color=never -DskipTests package) >"$DEMO_DIR/build.log" 2>&1; then
    lf_tail "$DEMO_DIR/build.log" 40
    lf_die "the build failed (log: $DEMO_DIR/build.log)"
  fi
  [[ -f $JAR ]] || lf_die "the build succeeded but $JAR is missing"
fi
lf_log "agent: $JAR ($("$JAVA_HOME/bin/java" -jar "$JAR" version 2>/dev/null || echo 'version unknown'))"

# ---------------------------------------------------------------- clean up an earlier demo
agent_alive() { local p; p=$(lf_pid_of "$AGENT_PIDFILE") && lf_alive "$p" "$CFG"; }
if agent_alive; then
  lf_stop_pid "$(lf_pid_of "$AGENT_PIDFILE")" "agent of an earlier demo" 30 || true
fi
rm -f "$AGENT_PIDFILE"
if lf_port_in_use "$PORT"; then
  lf_die "127.0.0.1:$PORT is already in use; stop what listens there or set LOGFERRY_DEMO_PORT"
fi
old=$(lf_docker ps -aq --filter label=logferry.demo)
if [[ -n $old ]]; then
  # shellcheck disable=SC2086
  lf_docker rm -f $old >/dev/null
  lf_log "removed $(wc -w <<<"$old") container(s) of an earlier demo"
fi
# Each demo starts without a registry, and its documents carry labels.demo_run (from the
# label logferry.fields.demo_run) so that the counts below see this run only. Documents of
# earlier runs are deleted, best effort.
RUN_ID=$(date +%Y%m%d%H%M%S)
curl -fsS -o /dev/null -X POST -H 'Content-Type: application/json' \
  "$ES/logs-*-$NS/_delete_by_query?conflicts=proceed&expand_wildcards=all" -d '{"query":{"match_all":{}}}' 2>/dev/null || true
rm -f "$DEMO_DIR"/registry.json* "$AGENT_LOG"

# ---------------------------------------------------------------- config
cat >"$CFG" <<EOF
# logferry demo configuration, written by scripts/demo.sh on $(date -u +%FT%TZ).
# Every key not named here has the default of config/logferry.yml.
docker:
  host: $DOCKER_HOST
  containers_path: $LOGFERRY_TEST_DOCKER_ROOT/containers
selection:
  mode: opt-out
  include_labels: [logferry.demo]     # only this demo's containers: the test engine may run others
defaults:
  namespace: $NS                      # data streams logs-<dataset>-$NS
elasticsearch:
  hosts: [$ES]
registry:
  path: $DEMO_DIR/registry.json
http:
  host: 127.0.0.1
  port: $PORT
EOF
lf_log "config written to $CFG"

# ---------------------------------------------------------------- demo containers
run_demo() {    # NAME SCRIPT [--label k=v ...]
  local name=$1 script=$2
  shift 2
  lf_docker run -d --name "$name" --network none --log-driver json-file \
    --label logferry.demo=1 --label "logferry.fields.demo_run=$RUN_ID" "$@" "$LOGFERRY_TEST_IMAGE" sh -c "$script" >/dev/null
}

# 8 lines on stdout, 2 on stderr -> 10 documents. logferry.streams=both is not a valid value:
# the agent warns once, counts it in logferry_label_warnings_total and ships all streams (the default).
run_demo logferry-demo-plain '
  for i in 1 2 3 4 5 6 7 8; do echo "plain line $i: hello from a plain container"; sleep 0.3; done
  echo "plain: something went to stderr" >&2
  echo "plain: bye (stderr)" >&2' \
  --label logferry.fields.team=demo --label logferry.streams=both

# 3 events: a line, a stack trace of 6 lines joined into one document, a line
run_demo logferry-demo-java '
  echo "2026-01-01 12:00:00 INFO  app starting"; sleep 0.5
  echo "2026-01-01 12:00:01 ERROR request failed: java.lang.IllegalStateException: boom"
  printf "\tat com.example.Handler.handle(Handler.java:42)\n"
  printf "\tat com.example.Server.run(Server.java:17)\n"
  echo "Caused by: java.io.IOException: connection reset"
  printf "\tat com.example.Client.read(Client.java:88)\n"
  printf "\t... 2 more\n"
  sleep 0.5
  echo "2026-01-01 12:00:02 INFO  app still running"' \
  --label logferry.multiline=java

# 4 events in data stream logs-docker.json-demo: JSON fields at the document root, a "host"
# key that clashes with ECS (it goes under json.host), a "msg" key, and one line that is not JSON
run_demo logferry-demo-json '
  echo "{\"level\":\"info\",\"message\":\"user logged in\",\"user\":{\"id\":\"42\",\"name\":\"ada\"}}"
  sleep 0.3
  echo "{\"level\":\"warn\",\"message\":\"slow request\",\"duration_ms\":812,\"host\":\"web-1\"}"
  sleep 0.3
  echo "{\"severity\":\"error\",\"msg\":\"payment failed\",\"order\":7}"
  echo "this line is not JSON"' \
  --label logferry.json=true --label logferry.dataset=docker.json

# must not arrive
run_demo logferry-demo-disabled '
  for i in 1 2 3 4 5; do echo "disabled line $i: you must not see me in Elasticsearch"; sleep 0.2; done' \
  --label logferry.enable=false

declare -A EXPECT=([logferry-demo-plain]=10 [logferry-demo-java]=3 [logferry-demo-json]=4 [logferry-demo-disabled]=0)
EXPECT_TOTAL=17
lf_log "started 4 demo containers: $(lf_docker ps -a --filter label=logferry.demo --format '{{.Names}}' | sort | tr '\n' ' ')"

# ---------------------------------------------------------------- logferry check
# What the agent will do with each demo container (a jar older than `check` just skips this).
rc=0
"$JAVA_HOME/bin/java" -jar "$JAR" check --config "$CFG" >"$DEMO_DIR/check.log" 2>&1 || rc=$?
if ! grep -q "not built yet" "$DEMO_DIR/check.log"; then
  echo
  echo "== logferry check --config $CFG (exit $rc; full output in $DEMO_DIR/check.log)"
  grep -E "^(docker|elasticsearch|kibana): |^  (ship|skip) +logferry-demo|warning:|^check:" "$DEMO_DIR/check.log" | sed 's/^/  /'
  echo
  (( rc == 0 )) || lf_log "WARNING: logferry check reported problems (see above); starting the agent anyway"
fi

# ---------------------------------------------------------------- the agent
stop_agent() {    # SIGTERM, wait up to 30s, then SIGKILL; prints the exit status
  local pid rc=0 end
  pid=$(lf_pid_of "$AGENT_PIDFILE") || return 0
  lf_alive "$pid" || { rm -f "$AGENT_PIDFILE"; return 0; }
  kill -TERM "$pid" 2>/dev/null || true
  end=$(( $(date +%s) + 30 ))
  while lf_alive "$pid" && (( $(date +%s) < end )); do sleep 0.1; done
  if lf_alive "$pid"; then
    lf_log "the agent (pid $pid) did not stop within 30s of SIGTERM; sending SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || rc=$?
  rm -f "$AGENT_PIDFILE"
  AGENT_RC=$rc
}
on_exit() {
  local rc=$?
  trap - EXIT INT TERM
  if agent_alive; then
    lf_log "stopping the agent"
    stop_agent
  fi
  exit "$rc"
}
trap on_exit EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

( cd "$DEMO_DIR" && exec "$JAVA_HOME/bin/java" -Xmx256m -jar "$JAR" run --config "$CFG" \
    >"$AGENT_LOG" 2>&1 </dev/null ) &
AGENT_PID=$!
echo "$AGENT_PID" >"$AGENT_PIDFILE"
lf_log "agent started (pid $AGENT_PID), log $AGENT_LOG"

fail() {    # MESSAGE: show the agent's log, then die
  lf_tail "$AGENT_LOG" 40
  lf_die "$*"
}

# /health answers once the agent is up (200 when it can reach Docker, Elasticsearch or not; /ready says whether Elasticsearch answers)
end=$(( $(date +%s) + 60 ))
until curl -fsS -o /dev/null --max-time 2 "http://127.0.0.1:$PORT/health" 2>/dev/null; do
  lf_alive "$AGENT_PID" || fail "the agent exited during startup"
  (( $(date +%s) < end )) || fail "/health did not answer 200 within 60s"
  sleep 0.2
done
lf_log "agent answers /health with 200, $(( $(date +%s) - T0 ))s into the demo"

# Count what arrived per container, from Elasticsearch.
counts() {    # prints "<container> <docs>" lines and "_total <docs>"; nothing when ES cannot answer
  local body
  curl -fsS -o /dev/null -X POST "$ES/logs-*-$NS/_refresh?expand_wildcards=all" 2>/dev/null || true
  body=$(curl -fsS -H 'Content-Type: application/json' "$ES/logs-*-$NS/_search?size=0" -d '{
      "query": {"term": {"labels.demo_run": "'"$RUN_ID"'"}},
      "aggs": {"c": {"terms": {"field": "container.name", "size": 50}}}}' 2>/dev/null) || return 0
  python3 -c '
import json, sys
try:
    r = json.loads(sys.argv[1])
except ValueError:
    sys.exit(0)
for b in r.get("aggregations", {}).get("c", {}).get("buckets", []):
    print(b["key"], b["doc_count"])
print("_total", r["hits"]["total"]["value"])' "$body"
}

end=$(( $(date +%s) + TIMEOUT ))
last=""
while :; do
  lf_alive "$AGENT_PID" || fail "the agent exited while the demo was waiting for documents"
  now=$(counts || true)
  total=$(awk '$1 == "_total" {print $2}' <<<"$now")
  if [[ $now != "$last" ]]; then
    lf_log "documents in logs-*-$NS so far: ${total:-0} of $EXPECT_TOTAL"
    last=$now
  fi
  done_all=1
  for c in "${!EXPECT[@]}"; do
    got=$(awk -v c="$c" '$1 == c {print $2}' <<<"$now")
    (( ${got:-0} >= EXPECT[$c] )) || done_all=0
  done
  (( done_all )) && break
  (( $(date +%s) < end )) || fail "not every expected document arrived within ${TIMEOUT}s (see the agent log above)"
  sleep 1
done
# The disabled container's lines were all written long ago; one more look for stragglers.
sleep 1
lf_log "all $EXPECT_TOTAL expected documents arrived, $(( $(date +%s) - T0 ))s after the demo started"

# ---------------------------------------------------------------- what arrived
echo
echo "== What arrived in Elasticsearch ($ES, data streams logs-*-$NS)"
curl -fsS -X POST -o /dev/null "$ES/logs-*-$NS/_refresh?expand_wildcards=all"
curl -fsS -H 'Content-Type: application/json' "$ES/logs-*-$NS/_search?size=0" -d '{
  "query": {"term": {"labels.demo_run": "'"$RUN_ID"'"}},
  "aggs": {"by_container": {"terms": {"field": "container.name", "size": 50},
    "aggs": {
      "ds":        {"terms": {"field": "data_stream.dataset"}},
      "stream":    {"terms": {"field": "stream"}},
      "multiline": {"filter": {"term": {"log.flags": "multiline"}}},
      "json_err":  {"filter": {"term": {"error.type": "json"}}},
      "first":     {"min": {"field": "@timestamp"}},
      "last":      {"max": {"field": "@timestamp"}}}}}}' \
| EXPECT="$(for c in "${!EXPECT[@]}"; do echo "$c=${EXPECT[$c]}"; done)" NS="$NS" python3 -c '
import json, os, sys
r = json.load(sys.stdin)
expect = dict(l.split("=") for l in os.environ["EXPECT"].split())
rows = {}
for b in r["aggregations"]["by_container"]["buckets"]:
    ds = ",".join("logs-%s-%s" % (d["key"], os.environ["NS"]) for d in b["ds"]["buckets"])
    streams = " ".join("%s=%d" % (s["key"], s["doc_count"]) for s in b["stream"]["buckets"])
    rows[b["key"]] = (ds, b["doc_count"], streams, b["multiline"]["doc_count"], b["json_err"]["doc_count"])
fmt = "%-24s %-24s %5s %8s  %-20s %9s %10s"
print(fmt % ("container", "data stream", "docs", "expected", "streams", "multiline", "json error"))
print(fmt % ("-" * 24, "-" * 24, "-" * 5, "-" * 8, "-" * 20, "-" * 9, "-" * 10))
ok = True
for name in sorted(set(rows) | set(expect)):
    ds, n, streams, ml, je = rows.get(name, ("-", 0, "", 0, 0))
    want = int(expect.get(name, -1))
    ok &= (n == want)
    print(fmt % (name, ds, n, want if want >= 0 else "?", streams, ml, je))
print()
print("result: every container has exactly the documents expected" if ok
      else "result: MISMATCH between expected and arrived documents")
sys.exit(0 if ok else 3)
' || fail "the documents in Elasticsearch are not the ones expected"

echo
echo "== The Java stack trace, joined into one document (logferry.multiline=java)"
curl -fsS -H 'Content-Type: application/json' "$ES/logs-*-$NS/_search" -d '{
  "size": 1, "query": {"bool": {"filter": [{"term": {"log.flags": "multiline"}}, {"term": {"labels.demo_run": "'"$RUN_ID"'"}}]}}, "_source": ["message", "log.flags", "log.offset"]}' \
| python3 -c '
import json, sys
h = json.load(sys.stdin)["hits"]["hits"][0]
print("_id %s  log.flags %s  log.offset %s" % (h["_id"], h["_source"]["log"]["flags"], h["_source"]["log"]["offset"]))
for line in h["_source"]["message"].split("\n"):
    print("  | " + line.expandtabs(4))'

echo
echo "== JSON lines decoded into fields (logferry.json=true)"
curl -fsS -H 'Content-Type: application/json' "$ES/logs-*-$NS/_search" -d '{
  "size": 10, "query": {"bool": {"filter": [{"term": {"container.name": "logferry-demo-json"}}, {"term": {"labels.demo_run": "'"$RUN_ID"'"}}]}}, "sort": [{"log.offset": "asc"}],
  "_source": {"excludes": ["container", "agent", "host", "data_stream", "event", "log.file", "@timestamp", "labels"]}}' \
| python3 -c '
import json, sys
for h in json.load(sys.stdin)["hits"]["hits"]:
    print("  " + json.dumps(h["_source"], sort_keys=True))'

echo
echo "== The agent's log about the demo containers ($AGENT_LOG)"
grep -E "logferry-demo-[a-z]+ \([0-9a-f]+\)(:| not shipped)" "$AGENT_LOG" | sed 's/^/  /' || echo "  (nothing logged)"

echo
echo "== GET http://127.0.0.1:$PORT/health"
echo "  $(curl -sS -w '  (HTTP %{http_code})' "http://127.0.0.1:$PORT/health" | tr -d '\n')"
echo
echo "== GET http://127.0.0.1:$PORT/metrics (some lines)"
curl -fsS "http://127.0.0.1:$PORT/metrics" \
  | grep -E '^logferry_(events_read_total|events_acked_total|events_duplicate_total|events_dead_lettered_total|queue_events|queue_bytes|tailers_active|label_warnings_total|bulk_request_duration_seconds_count)' \
  | sed 's/^/  /'

# ---------------------------------------------------------------- stop
echo
lf_log "stopping the agent with SIGTERM"
AGENT_RC=
stop_agent
grep -E "stopping|stopped in" "$AGENT_LOG" | sed 's/^/  /' || true
[[ ${AGENT_RC:-1} == 0 ]] || lf_die "the agent exited with status ${AGENT_RC:-?} after SIGTERM (log: $AGENT_LOG)"
lf_log "agent exited with status 0"
if [[ -f $DEMO_DIR/registry.json ]]; then
  echo "== Registry $DEMO_DIR/registry.json (mode $(stat -c %a "$DEMO_DIR/registry.json"))"
  python3 - "$DEMO_DIR/registry.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
print("  version %s, written %s" % (r["version"], r["written"]))
for cid, e in sorted(r["containers"].items()):
    print("  %s  file %s  offset %d" % (cid[:12], e["file"], e["offset"]))
PY
fi

ENV_DOWN=scripts/env-down.sh
[[ $LF_DIR == /tmp/logferry-test ]] || ENV_DOWN="LOGFERRY_TEST_DIR=$LF_DIR scripts/env-down.sh"
cat <<EOF

== Done in $(( $(date +%s) - T0 ))s. The environment is still up:
  . $LF_DIR/env.sh
  curl -s "\$LOGFERRY_TEST_ES_URL/logs-*-$NS/_search?pretty&size=5&sort=@timestamp:desc"
  curl -s "\$LOGFERRY_TEST_ES_URL/_cat/indices/logs-*-$NS?v&expand_wildcards=all"
  docker ps -a --filter label=logferry.demo
  java -jar $JAR run --config $CFG     # run the agent again (Ctrl-C stops it)
  less $AGENT_LOG                       # the agent's log of this demo
Stop everything (containers, Elasticsearch, dockerd): $ENV_DOWN
EOF
