#!/usr/bin/env bash
# logferry's benchmark (docs/benchmark.md): real containers write real json-file logs through the
# local Docker engine, the agent ships them, and we measure lines/s, CPU seconds per million
# entries, peak RSS, Elasticsearch's CPU, the raw _bulk ceiling and end-to-end latency.
#
#   scripts/bench.sh [ENTRIES]          (default 5000000)
#
# Runs (select with BENCH_RUNS=1,2,3,4,5,6,7; default 1-5 and 7):
#   1  output discard, plain corpus (ENTRIES entries of ~100 bytes)
#   2  output discard, realistic corpus (ENTRIES messages), logferry.multiline=java + logferry.json=true
#   3  output elasticsearch, plain corpus, a fresh data stream; Elasticsearch's CPU; _count check
#   4  the ceiling: run 3's documents pre-serialised, sent by N concurrent _bulk requests of 1600
#   5  BENCH_STEADY_CONTAINERS (100) containers writing BENCH_STEADY_RATE (100) lines/s each for
#      BENCH_STEADY_SECONDS (60) s while the agent ships them to Elasticsearch: CPU, RSS, latency
#   6  fair sharing (optional): run 3's plain corpus (the flood) shipped while BENCH_FAIR_QUIET (20)
#      quiet containers print a probe line every 0.5 s for BENCH_FAIR_SECONDS (20) s: the quiet
#      lines' latency p50/p99 and the total lines/s, next to run 3
#   7  idle: BENCH_IDLE_CONTAINERS (100) containers that print nothing; the agent (output
#      elasticsearch) settles (every log open, then BENCH_IDLE_SETTLE (15) s), then its CPU over
#      BENCH_IDLE_SECONDS (60) s, plus the image's HEALTHCHECK run as the image runs it
# Knobs: BENCH_DIR (state dir, default $LOGFERRY_TEST_DIR/bench), BENCH_AGENT_JAR (this jar instead
# of target/logferry.jar, for before/after comparisons), BENCH_JAVA_OPTS (agent JVM
# options, default the image's: the Dockerfile's JDK_JAVA_OPTIONS; empty for the JVM's ergonomics), BENCH_LOADER_CONCURRENCY (2),
# BENCH_QUIET_LOAD (wait up to BENCH_QUIET_WAIT s for the 1-min load to drop below it: 1.0, 180),
# BENCH_ES_WARMUP (300000: documents sent to a throw-away data stream before run 3, so that
# Elasticsearch's own JIT warm-up is not charged to run 3 alone when it was just started; 0 = off),
# BENCH_CEILING_NO_ID=1 (run 4b: run 4's documents again without _id, Elasticsearch making the ids),
# BENCH_PRIORITY (e.g. -15: while it runs, the CPU priority of the bench's own process group and of
# Elasticsearch's, through /proc/PID/autogroup, so that other work on a shared machine distorts the
# figures less; restored at exit; default 0, off), BENCH_KEEP=1 (keep containers, data streams and
# NDJSON), BENCH_SKIP_ENV_UP=1, BENCH_RUN2_LABEL (one more label on run 2's container, e.g. a processor
# hint: 'co.elastic.logs/processors.1.dissect.tokenizer=seq=%{seq} %{level} %{msg}'), BENCH_AOT (1, default: an AOT cache made by `logferry train` with the
# agent's own java, options and jar path, as the image makes one, when the JVM (25+) and the jar
# (with `train`) can; 0: none),
# PEER_FLUENT_BIT=/path/to/fluent-bit (runs 1-3 again with Fluent Bit on the same files, run 5 with
# fresh writers running the same script, run 7 on the same idle containers).
set -euo pipefail
# The whole script is one compound command, read before it runs: editing this file while a
# benchmark runs cannot change what the running one does.
{
LF_PROG=bench
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

ENTRIES=${1:-5000000}
[[ $ENTRIES =~ ^[0-9]+$ && $ENTRIES -gt 0 ]] || lf_die "usage: $0 [ENTRIES] (a positive number, not '$ENTRIES')"
RUNS=",${BENCH_RUNS:-1,2,3,4,5,7},"
FAIR_QUIET=${BENCH_FAIR_QUIET:-20}
FAIR_SECONDS=${BENCH_FAIR_SECONDS:-20}
[[ $FAIR_QUIET =~ ^[0-9]+$ && $FAIR_QUIET -gt 0 && $FAIR_SECONDS =~ ^[0-9]+$ && $FAIR_SECONDS -gt 0 ]] \
  || lf_die "BENCH_FAIR_QUIET and BENCH_FAIR_SECONDS must be positive numbers"
BENCH_DIR=${BENCH_DIR:-$LF_DIR/bench}
# The agent runs with the image's JVM options (the Dockerfile's JDK_JAVA_OPTIONS and -XX:-UsePerfData)
IMAGE_JAVA_OPTS="$(sed -n 's/^ENV JDK_JAVA_OPTIONS="\(.*\)"$/\1/p' "$LF_REPO_ROOT/Dockerfile") -XX:-UsePerfData"
JAVA_OPTS_AGENT=${BENCH_JAVA_OPTS-$IMAGE_JAVA_OPTS}
LOADER_CONCURRENCY=${BENCH_LOADER_CONCURRENCY:-2}
QUIET_LOAD=${BENCH_QUIET_LOAD:-1.0}
QUIET_WAIT=${BENCH_QUIET_WAIT:-180}
PRIORITY=${BENCH_PRIORITY:-0}
ES_WARMUP=${BENCH_ES_WARMUP:-300000}
[[ $ES_WARMUP =~ ^[0-9]+$ ]] || lf_die "BENCH_ES_WARMUP must be a number of documents, not '$ES_WARMUP'"
STEADY_CONTAINERS=${BENCH_STEADY_CONTAINERS:-100}
STEADY_RATE=${BENCH_STEADY_RATE:-100}
STEADY_SECONDS=${BENCH_STEADY_SECONDS:-60}
IDLE_CONTAINERS=${BENCH_IDLE_CONTAINERS:-100}
IDLE_SECONDS=${BENCH_IDLE_SECONDS:-60}
IDLE_SETTLE=${BENCH_IDLE_SETTLE:-15}
GEN=${BENCH_GEN:-$LF_REPO_ROOT/../shared/bench/gen-docker-log.py}
[[ -f $GEN ]] || GEN=/work/shared/bench/gen-docker-log.py
BENCH_PY="$LF_SCRIPTS_DIR/bench"
BID=$(date -u +%Y%m%d%H%M%S)
OUT="$BENCH_DIR/results/$BID"
PORT_BASE=$(( 15100 + RANDOM % 800 ))
run() { [[ $RUNS == *",$1,"* ]]; }
now_ns() { date +%s%N; }

# ---------------------------------------------------------------- environment
if [[ ${BENCH_SKIP_ENV_UP:-0} != 1 ]]; then
  "$LF_SCRIPTS_DIR/env-up.sh"
fi
[[ -f $LF_DIR/env.sh ]] || lf_die "no $LF_DIR/env.sh; run scripts/env-up.sh"
# shellcheck disable=SC1091
source "$LF_DIR/env.sh"
ES_URL=$LOGFERRY_TEST_ES_URL
curl -fsS --max-time 5 "$ES_URL/_cluster/health" >/dev/null || lf_die "Elasticsearch does not answer on $ES_URL"
docker version --format '{{.Server.Version}}' >/dev/null || lf_die "docker does not answer on $DOCKER_HOST"
mkdir -p "$BENCH_DIR/corpus" "$BENCH_DIR/jar" "$OUT"
exec 8>"$BENCH_DIR/.lock"
flock -n 8 || lf_die "another scripts/bench.sh runs on $BENCH_DIR"
lf_log "bench $BID: $ENTRIES entries, runs ${RUNS//,/ }, results in $OUT"

# BENCH_PRIORITY: the autogroup (the scheduler's per-session group) nice value of our own session
# and of Elasticsearch's, restored by unboost.
BOOSTED=()
boost() {   # PID
  [[ $PRIORITY != 0 && -w /proc/$1/autogroup ]] || return 0
  local was; was=$(sed -n 's/.* nice \(-\{0,1\}[0-9]*\).*/\1/p' "/proc/$1/autogroup")
  if echo "$PRIORITY" >"/proc/$1/autogroup" 2>/dev/null; then
    BOOSTED+=("$1:$was")
  else
    lf_log "WARNING: cannot set the autogroup nice of pid $1"
  fi
}
unboost() {
  local e
  for e in "${BOOSTED[@]}"; do echo "${e#*:}" >"/proc/${e%%:*}/autogroup" 2>/dev/null || true; done
  BOOSTED=()
}

LABEL=logferry.bench
cleanup() {
  local ids
  if [[ ${BENCH_KEEP:-0} != 1 ]]; then
    ids=$(docker ps -aq --filter "label=$LABEL=$BID" 2>/dev/null || true)
    # shellcheck disable=SC2086
    [[ -z $ids ]] || timeout 300 docker rm -f $ids >/dev/null 2>&1 || true
    curl -s -o /dev/null -XDELETE "$ES_URL/_data_stream/logs-docker-bench${BID}*" || true
    rm -f "$BENCH_DIR/bulk-$BID".* "$BENCH_DIR/jar/"*"-$BID.jar" "$BENCH_DIR/jar/"*"-$BID.aot"
  fi
  [[ -z ${AGENT_PID:-} ]] || stop_pid "$AGENT_PID" agent
  unboost
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---------------------------------------------------------------- jars
newer_sources() { [[ ! -f $1 ]] || [[ -n $(find "$LF_REPO_ROOT/src/main" "$LF_REPO_ROOT/pom.xml" "${@:2}" -newer "$1" -type f -print -quit 2>/dev/null) ]]; }
SOURCE_JAR=${BENCH_AGENT_JAR:-$LF_REPO_ROOT/target/logferry.jar}
if [[ -z ${BENCH_AGENT_JAR:-} ]] && newer_sources "$LF_REPO_ROOT/target/logferry.jar"; then
  lf_log "building target/logferry.jar"
  # offline first (fast); online when a plugin is not in the local repository yet (a fresh machine)
  (cd "$LF_REPO_ROOT" && { mvn -B -o -q -DskipTests package >/dev/null 2>&1 || mvn -B -q -DskipTests package; }) || lf_die "mvn package failed"
fi
# A copy, so that a rebuild of target/ during the run changes nothing. A build running in the same
# tree may be halfway through writing the jar (the plain jar comes before the shaded one): retry.
AGENT_JAR="$BENCH_DIR/jar/logferry-$BID.jar"
for try in $(seq 1 12); do
  cp "$SOURCE_JAR" "$AGENT_JAR" 2>/dev/null && java -jar "$AGENT_JAR" version >/dev/null 2>&1 && break
  (( try < 12 )) || lf_die "$SOURCE_JAR does not run (java -jar $SOURCE_JAR version)"
  lf_log "target/logferry.jar is not runnable yet (a build in progress?); retrying in 10 s"
  sleep 10
done
if run 4 || { run 3 && (( ES_WARMUP > 0 )); }; then
  if newer_sources "$LF_REPO_ROOT/target/logferry-bench.jar" "$LF_REPO_ROOT/src/bench"; then
    lf_log "building target/logferry-bench.jar (-Pbench)"
    (cd "$LF_REPO_ROOT" && { mvn -B -o -q -Pbench -DskipTests package >/dev/null 2>&1 || mvn -B -q -Pbench -DskipTests package; }) \
      || lf_die "mvn -Pbench package failed"
  fi
  BENCH_JAR="$BENCH_DIR/jar/logferry-bench-$BID.jar"
  cp "$LF_REPO_ROOT/target/logferry-bench.jar" "$BENCH_JAR"
  [[ $(java -cp "$BENCH_JAR" io.logferry.bench.BulkCorpus 2>&1 || true) == *"--log is required"* ]] || lf_die "$BENCH_JAR does not run"
fi
# The image's AOT cache (see the Dockerfile): trained here the same way, for this jar and JVM.
AOT_NOTE="none"
if [[ ${BENCH_AOT:-1} == 1 ]]; then
  AOT_FILE="$BENCH_DIR/jar/logferry-$BID.aot"
  # shellcheck disable=SC2086
  if java $JAVA_OPTS_AGENT -XX:AOTCacheOutput="$AOT_FILE" -jar "$AGENT_JAR" train >"$BENCH_DIR/jar/train-$BID.log" 2>&1 \
      && [[ -s $AOT_FILE ]]; then
    JAVA_OPTS_AGENT="$JAVA_OPTS_AGENT -XX:AOTCache=$AOT_FILE -Xlog:aot*=error"
    AOT_NOTE="trained by 'logferry train' ($(grep -o 'logferry train: [0-9]* of [0-9]* events[^.]*' "$BENCH_DIR/jar/train-$BID.log" | head -1 || true))"
  else
    AOT_NOTE="none: this JVM or jar cannot make one (see $BENCH_DIR/jar/train-$BID.log)"
    rm -f "$AOT_FILE"
  fi
fi
AGENT_VERSION=$(java -jar "$AGENT_JAR" version 2>/dev/null | awk '{print $2}')
{
  echo "bench $BID  entries=$ENTRIES  runs=${RUNS//,/ }"
  echo "agent $AGENT_VERSION ($(if [[ -n ${BENCH_AGENT_JAR:-} ]]; then echo "$BENCH_AGENT_JAR, sha256 $(sha256sum "$AGENT_JAR" | cut -c1-12)"; else cd "$LF_REPO_ROOT" && git rev-parse --short HEAD 2>/dev/null; git diff --quiet HEAD -- src/main 2>/dev/null || echo '+local changes'; fi))  JVM: $(java -version 2>&1 | head -1)  opts: ${JAVA_OPTS_AGENT:-(defaults)}"
  echo "AOT cache: $AOT_NOTE"
  echo "machine: $(nproc) cores, $(free -g | awk '/Mem:/ {print $2}') GiB, $(uname -r)"
} >"$OUT/info.txt"

# ---------------------------------------------------------------- helpers

stop_pid() {   # PID NAME: SIGTERM, 20 s, SIGKILL
  local pid=$1 end
  kill -TERM "$pid" 2>/dev/null || return 0
  end=$(( $(date +%s) + 20 ))
  while kill -0 "$pid" 2>/dev/null && (( $(date +%s) < end )); do sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then lf_log "$2 (pid $pid) did not stop in 20 s; SIGKILL"; kill -KILL "$pid" 2>/dev/null || true; fi
  wait "$pid" 2>/dev/null || true
}

# Segment merges Elasticsearch is running now (0 if it does not answer): after run 4 it merges
# 10 M documents for a minute or more, which the 1-minute load average does not always show yet.
es_merges() {
  curl -fsS --max-time 5 "$ES_URL/_nodes/stats/indices/merge?filter_path=nodes.*.indices.merges.current" 2>/dev/null \
    | python3 -c "import json, sys; print(sum(n['indices']['merges']['current'] for n in json.load(sys.stdin).get('nodes', {}).values()))" 2>/dev/null || echo 0
}

wait_quiet() {   # before a run: the machine should not be busy with something else
  local end load merges
  end=$(( $(date +%s) + QUIET_WAIT ))
  while :; do
    load=$(cut -d' ' -f1 /proc/loadavg); merges=$(es_merges)
    awk -v l="$load" -v q="$QUIET_LOAD" 'BEGIN {exit !(l < q)}' && (( merges == 0 )) && break
    if (( $(date +%s) >= end )); then lf_log "WARNING: 1-min load is still $load, Elasticsearch merges $merges after ${QUIET_WAIT}s; measuring anyway (see other_cpu_s)"; break; fi
    sleep 5
  done
  lf_log "load before the run: $(cut -d' ' -f1-3 /proc/loadavg); Elasticsearch merges running: $merges"
}

es_pid() { lf_pid_of "$LF_ES_PIDFILE" || echo 0; }

# corpus MIX -> path of a raw corpus of ENTRIES messages (cached)
corpus() {
  local f="$BENCH_DIR/corpus/$1-$ENTRIES.raw"
  if [[ ! -s $f || ! -s $f.counts ]]; then
    lf_log "generating the $1 corpus ($ENTRIES messages)"
    python3 "$GEN" "$f.tmp" "$ENTRIES" --format raw --mix "$1" >"$f.counts.tmp" || lf_die "corpus generation failed"
    mv "$f.tmp" "$f"; mv "$f.counts.tmp" "$f.counts"
  fi
  echo "$f"
}
count_of() { sed -n "s/.*$2=\([0-9]*\).*/\1/p" "$1.counts"; }

# writer NAME CORPUS LABELS... -> container id; dockerd writes the json-file itself
declare -A WRITERS
writer() {
  local name=$1 file=$2 cid t0; shift 2
  if [[ -n ${WRITERS[$name]:-} ]]; then echo "${WRITERS[$name]}"; return; fi
  t0=$(lf_now_ms)
  local args=(--label "$LABEL=$BID" --label "$LABEL.corpus=$name")
  for l in "$@"; do args+=(--label "$l"); done
  cid=$(docker run -d --name "lfbench-$BID-$name" --network none --log-driver json-file \
        --log-opt max-size=10g --log-opt max-file=1 "${args[@]}" \
        -v "$file:/corpus:ro" "$LF_IMAGE" cat /corpus) || lf_die "docker run failed"
  local rc
  rc=$(timeout 1800 docker wait "$cid") || lf_die "container $name did not finish within 1800 s"
  [[ $rc == 0 ]] || lf_die "container $name exited with $rc"
  local log="$LF_DOCKER_DATA/containers/$cid/$cid-json.log"
  [[ -s $log ]] || lf_die "no json-file at $log"
  lf_log "container $name (${cid:0:12}) wrote $(stat -c %s "$log") bytes of json-file in $(lf_since "$t0")"
  WRITERS[$name]=$cid
  echo "$cid"
}

# agent_config RUN OUTPUT NAMESPACE CORPUS-NAME -> config path
agent_config() {
  local dir="$OUT/run$1" port=$((PORT_BASE + $1))
  mkdir -p "$dir"
  cat >"$dir/logferry.yml" <<EOF
# scripts/bench.sh run $1
docker:
  host: $DOCKER_HOST
  containers_path: $LF_DOCKER_DATA/containers
  read_mode: file
selection:
  mode: opt-out
  include_labels: ["$LABEL=$BID", "$LABEL.corpus=$4"]
defaults:
  start_position: beginning
  namespace: $3
output: $2
elasticsearch:
  hosts: [$ES_URL]
registry:
  path: $dir/registry.json
http:
  host: 127.0.0.1
  port: $port
EOF
  echo "$dir/logferry.yml"
}

# start_agent CONFIG LOG: sets AGENT_PID, LAUNCH_NS
start_agent() {
  LAUNCH_NS=$(now_ns)
  # shellcheck disable=SC2086
  java $JAVA_OPTS_AGENT -jar "$AGENT_JAR" run --config "$1" >"$2" 2>&1 &
  AGENT_PID=$!
}

# measure_agent RUN EXPECTED DEADLINE [ES-PID]
measure_agent() {
  local port=$((PORT_BASE + $1)) rc=0
  python3 "$BENCH_PY/measure.py" --pid "$AGENT_PID" --launch-ns "$LAUNCH_NS" \
    --metrics "http://127.0.0.1:$port/metrics?name[]=logferry_events_acked_total" --metric logferry_events_acked_total \
    --expected "$2" --deadline "$3" --es-pid "${4:-0}" --label "run$1" --out "$OUT/run$1.json" >/dev/null || rc=$?
  stop_pid "$AGENT_PID" agent; AGENT_PID=
  (( rc == 0 )) || { lf_log "run $1: did not reach $2 acknowledged events (see $OUT/run$1.json, $OUT/run$1/agent.log)"; tail -5 "$OUT/run$1/agent.log" >&2 || true; }
  return 0
}

es_count() {   # INDEX -> count after a refresh
  curl -s -o /dev/null -XPOST "$ES_URL/$1/_refresh" || true
  curl -s "$ES_URL/$1/_count" | sed -n 's/.*"count":\([0-9]*\).*/\1/p'
}

add_fields() {   # FILE key=json-value...: adds fields to a result JSON
  local f=$1; shift
  python3 - "$f" "$@" <<'EOF'
import json, sys
f = sys.argv[1]
r = json.load(open(f))
for kv in sys.argv[2:]:
    k, v = kv.split("=", 1)
    try: r[k] = json.loads(v)
    except ValueError: r[k] = v
json.dump(r, open(f, "w"), indent=1)
EOF
}

deadline_for() { echo $(( 120 + $1 / 5000 )); }   # seconds: generous (5k lines/s) plus startup

if [[ $PRIORITY != 0 ]]; then
  boost $$
  boost "$(es_pid)"
  lf_log "BENCH_PRIORITY=$PRIORITY: autogroup nice of this session and of Elasticsearch raised while the bench runs"
fi
echo "priority: BENCH_PRIORITY=$PRIORITY (autogroup nice of the bench and Elasticsearch; 0 = not changed)" >>"$OUT/info.txt"

# Run 5's writer (also Fluent Bit's run 5): LINES BURST -> the sh script of one container, which
# writes LINES lines in bursts of BURST (rate/10) every 100 ms; the first line of a burst is a probe.
steady_script() {
  echo 'i=0; while [ $i -lt '"$1"' ]; do j=0; while [ $j -lt '"$2"' ]; do
    if [ $j -eq 0 ]; then echo "c=$C seq=$i probe steady writer line with some padding text GET /api/v1/items status ok took 12 ms";
    else echo "c=$C seq=$i line steady writer line with some padding text GET /api/v1/items status ok took 12 ms"; fi
    i=$((i+1)); j=$((j+1)); done; usleep 100000; done'
}

# The settings of runs 5 and 7, for the summary
{
  if run 5; then
    echo "run 5: $STEADY_CONTAINERS containers x $STEADY_RATE lines/s x ${STEADY_SECONDS} s (bursts of $(( STEADY_RATE / 10 > 0 ? STEADY_RATE / 10 : 1 )) lines every 100 ms, the first a probe)${PEER_FLUENT_BIT:+; Fluent Bit: the same script in fresh containers}"
  fi
  if run 7; then
    echo "run 7: $IDLE_CONTAINERS idle containers (sleep, no output); settle: every log open + ${IDLE_SETTLE} s; idle window ${IDLE_SECONDS} s; logferry's image HEALTHCHECK counted"
  fi
} >>"$OUT/info.txt"

# ---------------------------------------------------------------- corpora and writers
if run 1 || run 3 || run 4 || run 6; then
  PLAIN=$(corpus plain)
  PLAIN_N=$(count_of "$PLAIN" messages)
  PLAIN_CID=$(writer plain "$PLAIN")
  PLAIN_LOG="$LF_DOCKER_DATA/containers/$PLAIN_CID/$PLAIN_CID-json.log"
fi
if run 2; then
  REAL=$(corpus realistic)
  REAL_N=$(count_of "$REAL" messages)
  REAL_E=$(count_of "$REAL" entries)
  if [[ -n ${BENCH_RUN2_LABEL:-} ]]; then
    # one more label on run 2's container (e.g. a processor hint), in its own container: the corpus name carries it
    REAL_CID=$(writer realistic-extra "$REAL" logferry.multiline=java logferry.json=true "$BENCH_RUN2_LABEL")
  else
    REAL_CID=$(writer realistic "$REAL" logferry.multiline=java logferry.json=true)
  fi
  REAL_LOG="$LF_DOCKER_DATA/containers/$REAL_CID/$REAL_CID-json.log"
fi

# The agent installs its index template at start; the warm-up and run 4 send without it.
ensure_template() {   # RUN NS
  curl -fsS -o /dev/null "$ES_URL/_index_template/logferry" 2>/dev/null && return 0
  local cfg
  cfg=$(agent_config "$1" elasticsearch "$2" none-such)
  start_agent "$cfg" "$OUT/run$1-setup-agent.log"
  local end=$(( $(date +%s) + 60 ))
  until curl -fsS -o /dev/null "$ES_URL/_index_template/logferry" 2>/dev/null; do
    (( $(date +%s) < end )) || lf_die "the agent did not install its index template within 60 s ($OUT/run$1-setup-agent.log)"
    sleep 0.5
  done
  stop_pid "$AGENT_PID" agent; AGENT_PID=
  rm -f "$OUT/run$1/registry.json"   # it selected nothing; the run starts with no registry
}

# The agent's documents for the plain corpus as _bulk NDJSON (BulkCorpus): NS BATCH-FILE-PREFIX [MAX]
bulk_corpus() {
  local name image label_args=() l
  name=$(docker inspect -f '{{.Name}}' "$PLAIN_CID"); image=$(docker inspect -f '{{.Config.Image}}' "$PLAIN_CID")
  while IFS= read -r l; do [[ -n $l ]] && label_args+=(--label "$l"); done < <(docker inspect -f '{{range $k, $v := .Config.Labels}}{{$k}}={{$v}}{{"\n"}}{{end}}' "$PLAIN_CID")
  java -Xmx1g -cp "$BENCH_JAR" io.logferry.bench.BulkCorpus --log "$PLAIN_LOG" --out "$2.ndjson" \
    --batches "$2.batches" --id "$PLAIN_CID" --name "$name" --image "$image" --namespace "$1" \
    --batch 1600 ${3:+--max-docs "$3"} "${label_args[@]}"
}

# Sends BulkCorpus's NDJSON (PREFIX.ndjson, PREFIX.batches) with the raw loader: PREFIX OUT-JSON DEADLINE-S
bulk_load() {
  java -Xmx256m -cp "$BENCH_JAR" io.logferry.bench.BulkLoader --url "$ES_URL" --ndjson "$1.ndjson" \
    --batches "$1.batches" --concurrency "$LOADER_CONCURRENCY" --deadline-seconds "$3" >"$2" \
    || lf_log "WARNING: the bulk loader reported failures ($2)"
}

es_cpu() { python3 -c "import sys; sys.path.insert(0, '$BENCH_PY'); import measure; print(measure.proc_cpu($(es_pid)) or 0)"; }

# ---------------------------------------------------------------- runs
if run 1; then
  wait_quiet
  lf_log "run 1: discard, plain, $PLAIN_N entries"
  cfg=$(agent_config 1 discard "bench${BID}r1" plain)
  start_agent "$cfg" "$OUT/run1/agent.log"
  measure_agent 1 "$PLAIN_N" "$(deadline_for "$PLAIN_N")"
  add_fields "$OUT/run1.json" "entries=$PLAIN_N" "json_file_bytes=$(stat -c %s "$PLAIN_LOG")"
fi

if run 2; then
  wait_quiet
  lf_log "run 2: discard, realistic (multiline java, json), $REAL_N messages in $REAL_E lines"
  cfg=$(agent_config 2 discard "bench${BID}r2" "$([[ -n ${BENCH_RUN2_LABEL:-} ]] && echo realistic-extra || echo realistic)")
  start_agent "$cfg" "$OUT/run2/agent.log"
  measure_agent 2 "$REAL_N" "$(deadline_for "$REAL_E")"
  add_fields "$OUT/run2.json" "entries=$REAL_E" "messages=$REAL_N" "json_file_bytes=$(stat -c %s "$REAL_LOG")"
fi

if run 3 && (( ES_WARMUP > 0 )); then
  # Elasticsearch compiles its indexing path during the first few hundred thousand documents
  # after its start: without this, run 3 pays for that alone and run 4 (after it) does not.
  ns="bench${BID}warm"
  bulk_corpus "$ns" "$BENCH_DIR/bulk-$BID-warm" "$ES_WARMUP" >"$OUT/warmup-corpus.json" || lf_die "BulkCorpus (warm-up) failed"
  ensure_template 3 "$ns"
  es0=$(es_cpu); t0=$(now_ns)
  bulk_load "$BENCH_DIR/bulk-$BID-warm" "$OUT/warmup.json" 600
  t1=$(now_ns); es1=$(es_cpu)
  rm -f "$BENCH_DIR/bulk-$BID-warm".*
  echo "es warm-up: $ES_WARMUP documents into logs-docker-$ns before run 3 in $(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.1f", (b-a)/1e9}') s, Elasticsearch CPU $(awk -v a="$es0" -v b="$es1" 'BEGIN {printf "%.1f", b-a}') s (BENCH_ES_WARMUP=0: none)" | tee -a "$OUT/info.txt"
fi

if run 3; then
  wait_quiet
  ns="bench${BID}r3"
  lf_log "run 3: elasticsearch, plain, $PLAIN_N entries into logs-docker-$ns"
  cfg=$(agent_config 3 elasticsearch "$ns" plain)
  start_agent "$cfg" "$OUT/run3/agent.log"
  measure_agent 3 "$PLAIN_N" "$(( $(deadline_for "$PLAIN_N") * 3 ))" "$(es_pid)"
  add_fields "$OUT/run3.json" "entries=$PLAIN_N" "es_count=$(es_count "logs-docker-$ns")"
fi

if run 4; then
  ns="bench${BID}r4"
  lf_log "run 4: preparing the ceiling's NDJSON (the agent's documents for the plain corpus) into logs-docker-$ns"
  bulk_corpus "$ns" "$BENCH_DIR/bulk-$BID" >"$OUT/run4-corpus.json" || lf_die "BulkCorpus failed"
  ensure_template 4 "$ns"
  wait_quiet
  lf_log "run 4: $LOADER_CONCURRENCY concurrent _bulk requests of 1600 documents"
  es0=$(es_cpu)
  m0=$(python3 -c "import sys; sys.path.insert(0, '$BENCH_PY'); import measure; print(measure.machine_busy())")
  t0=$(now_ns)
  bulk_load "$BENCH_DIR/bulk-$BID" "$OUT/run4.json" 1800
  t1=$(now_ns)
  es1=$(es_cpu)
  m1=$(python3 -c "import sys; sys.path.insert(0, '$BENCH_PY'); import measure; print(measure.machine_busy())")
  docs=$(sed -n 's/.*"docs":\([0-9]*\).*/\1/p' "$OUT/run4-corpus.json")
  add_fields "$OUT/run4.json" "label=run4" "entries=$docs" "wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b-a)/1e9}')" \
    "es_cpu_s=$(awk -v a="$es0" -v b="$es1" 'BEGIN {print b-a}')" "machine_cpu_s=$(awk -v a="$m0" -v b="$m1" 'BEGIN {print b-a}')" \
    "es_count=$(es_count "logs-docker-$ns")" "load_start=$(cut -d' ' -f1 /proc/loadavg)"
  python3 - "$OUT/run4.json" <<'EOF'
import json, sys
f = sys.argv[1]; r = json.load(open(f))
r["status"] = "ok" if r.get("failed_batches") == 0 and r.get("es_count") == r["entries"] else "failed"
r["lines_per_s"] = r["entries"] / r["wall_s"]
r["es_cpu_s_per_million"] = r["es_cpu_s"] / (r["entries"] / 1e6)
r["other_cpu_s"] = r["machine_cpu_s"] - r["es_cpu_s"] - r["loader_cpu_seconds"]
json.dump(r, open(f, "w"), indent=1)
EOF
  if [[ ${BENCH_CEILING_NO_ID:-0} == 1 ]]; then
    # 4b: the same documents without the deterministic _id (Elasticsearch generates the ids, as most
    # shippers let it): what exactly-once ids cost Elasticsearch. Same batches, same documents.
    ns4b="bench${BID}r4b"
    python3 "$BENCH_PY/strip-ids.py" "$BENCH_DIR/bulk-$BID.ndjson" "$BENCH_DIR/bulk-$BID.batches" "$ns" "$ns4b" \
      "$BENCH_DIR/bulk-$BID.noid.ndjson" "$BENCH_DIR/bulk-$BID.noid.batches" || lf_die "strip-ids.py failed"
    wait_quiet
    lf_log "run 4b: the same without _id, into logs-docker-$ns4b"
    es0=$(es_cpu)
    t0=$(now_ns)
    bulk_load "$BENCH_DIR/bulk-$BID.noid" "$OUT/run4b.json" 1800
    t1=$(now_ns)
    es1=$(es_cpu)
    add_fields "$OUT/run4b.json" "label=run4b" "entries=$docs" "wall_s=$(awk -v a="$t0" -v b="$t1" 'BEGIN {print (b-a)/1e9}')" \
      "es_cpu_s=$(awk -v a="$es0" -v b="$es1" 'BEGIN {print b-a}')" "es_count=$(es_count "logs-docker-$ns4b")" \
      "load_start=$(cut -d' ' -f1 /proc/loadavg)"
    python3 - "$OUT/run4b.json" <<'EOF'
import json, sys
f = sys.argv[1]; r = json.load(open(f))
r["status"] = "ok" if r.get("failed_batches") == 0 and r.get("es_count") == r["entries"] else "failed"
r["lines_per_s"] = r["entries"] / r["wall_s"]
r["es_cpu_s_per_million"] = r["es_cpu_s"] / (r["entries"] / 1e6)
json.dump(r, open(f, "w"), indent=1)
EOF
  fi
  [[ ${BENCH_KEEP:-0} == 1 ]] || rm -f "$BENCH_DIR/bulk-$BID".*
fi

if run 5; then
  ns="bench${BID}r5"
  lines=$(( STEADY_RATE * STEADY_SECONDS )); burst=$(( STEADY_RATE / 10 > 0 ? STEADY_RATE / 10 : 1 ))
  total=$(( lines * STEADY_CONTAINERS )); probes=$(( STEADY_CONTAINERS * ( (lines + burst - 1) / burst ) ))
  wait_quiet
  lf_log "run 5: $STEADY_CONTAINERS containers x $STEADY_RATE lines/s x ${STEADY_SECONDS}s = $total lines into logs-docker-$ns"
  cfg=$(agent_config 5 elasticsearch "$ns" steady)
  start_agent "$cfg" "$OUT/run5/agent.log"
  sleep 5   # the agent is up and watching before the writers start
  python3 "$BENCH_PY/measure.py" --pid "$AGENT_PID" --launch-ns "$LAUNCH_NS" \
    --metrics "http://127.0.0.1:$((PORT_BASE + 5))/metrics?name[]=logferry_events_acked_total" --metric logferry_events_acked_total \
    --expected "$total" --deadline $(( STEADY_SECONDS * 3 + 300 )) --es-pid "$(es_pid)" --interval 0.5 --label run5 \
    --out "$OUT/run5.json" >/dev/null &
  mpid=$!
  python3 "$BENCH_PY/latency.py" --es "$ES_URL" --index "logs-docker-$ns" --expected "$probes" \
    --deadline $(( STEADY_SECONDS * 3 + 300 )) --out "$OUT/run5-latency.json" >/dev/null &
  lpid=$!
  script=$(steady_script "$lines" "$burst")
  t0=$(lf_now_ms)
  seq 1 "$STEADY_CONTAINERS" | xargs -P 4 -I{} docker run -d --network none --log-driver json-file \
      --label "$LABEL=$BID" --label "$LABEL.corpus=steady" -e C={} "$LF_IMAGE" sh -c "$script" >/dev/null \
    || lf_log "WARNING: some steady writers failed to start"
  lf_log "run 5: $STEADY_CONTAINERS writers started in $(lf_since "$t0")"
  wait "$mpid" || true
  wait "$lpid" || true
  stages=$(python3 "$BENCH_PY/stages.py" "http://127.0.0.1:$((PORT_BASE + 5))/metrics" 2>/dev/null) || stages=null
  stop_pid "$AGENT_PID" agent; AGENT_PID=
  add_fields "$OUT/run5.json" "entries=$total" "containers=$STEADY_CONTAINERS" "rate_per_container=$STEADY_RATE" \
    "seconds=$STEADY_SECONDS" "es_count=$(es_count "logs-docker-$ns")" "latency=$(cat "$OUT/run5-latency.json")" \
    "stages=${stages:-null}"
fi

if run 6; then
  # Fair sharing: the plain corpus (one container's backlog: the flood) and, meanwhile, quiet containers
  # printing a probe line every 0.5 s; latency.py finds each probe as it becomes searchable.
  ns="bench${BID}r6"
  per=$(( FAIR_SECONDS * 2 )); probes=$(( FAIR_QUIET * per )); total=$(( PLAIN_N + probes ))
  wait_quiet
  lf_log "run 6: the plain corpus ($PLAIN_N entries) beside $FAIR_QUIET quiet containers x $per lines (one every 0.5 s) into logs-docker-$ns"
  cfg=$(agent_config 6 elasticsearch "$ns" plain)
  start_agent "$cfg" "$OUT/run6/agent.log"
  python3 "$BENCH_PY/measure.py" --pid "$AGENT_PID" --launch-ns "$LAUNCH_NS" \
    --metrics "http://127.0.0.1:$((PORT_BASE + 6))/metrics" --metric logferry_events_acked_total \
    --expected "$total" --deadline $(( $(deadline_for "$PLAIN_N") * 3 + FAIR_SECONDS )) --es-pid "$(es_pid)" --label run6 \
    --out "$OUT/run6.json" >/dev/null &
  mpid=$!
  python3 "$BENCH_PY/latency.py" --es "$ES_URL" --index "logs-docker-$ns" --expected "$probes" \
    --deadline $(( $(deadline_for "$PLAIN_N") * 3 + FAIR_SECONDS )) --out "$OUT/run6-latency.json" >/dev/null &
  lpid=$!
  # the quiet ones start once the flood is being shipped (its first acknowledgements)
  for _ in $(seq 1 600); do
    acked=$(curl -s --max-time 2 "http://127.0.0.1:$((PORT_BASE + 6))/metrics" 2>/dev/null \
      | sed -n 's/^logferry_events_acked_total \([0-9.e+E]*\)$/\1/p' | head -1) || true
    [[ -n $acked ]] && awk -v a="$acked" 'BEGIN {exit !(a > 1000)}' && break
    sleep 0.1
  done
  script='i=1; while [ $i -le '"$per"' ]; do echo "c=$C seq=$i probe quiet line beside a flood"; i=$((i+1)); usleep 500000; done'
  seq 1 "$FAIR_QUIET" | xargs -P 4 -I{} docker run -d --network none --log-driver json-file \
      --label "$LABEL=$BID" --label "$LABEL.corpus=plain" -e C={} "$LF_IMAGE" sh -c "$script" >/dev/null \
    || lf_log "WARNING: some quiet writers failed to start"
  wait "$mpid" || lf_log "run 6: did not reach $total acknowledged events (see $OUT/run6.json, $OUT/run6/agent.log)"
  wait "$lpid" || true
  # the agent's own share of the latency, per stage (its histograms; the quiet lines are tailer="caught_up")
  stages=$(python3 "$BENCH_PY/stages.py" "http://127.0.0.1:$((PORT_BASE + 6))/metrics" 2>/dev/null) || stages=null
  stop_pid "$AGENT_PID" agent; AGENT_PID=
  add_fields "$OUT/run6.json" "entries=$total" "containers=$FAIR_QUIET" "es_count=$(es_count "logs-docker-$ns")" \
    "latency=$(cat "$OUT/run6-latency.json")" "stages=${stages:-null}"
fi

# ---------------------------------------------------------------- Fluent Bit (optional)
if [[ -n ${PEER_FLUENT_BIT:-} ]]; then
  # shellcheck source=scripts/bench/fluent-bit.sh
  source "$BENCH_PY/fluent-bit.sh"
  fluent_bit_runs
fi

# ---------------------------------------------------------------- run 7: idle
if run 7; then
  ns="bench${BID}r7"
  lf_log "run 7: $IDLE_CONTAINERS containers that print nothing"
  t0=$(lf_now_ms)
  # They sleep until the run is over and are killed then (or removed at the end).
  seq 1 "$IDLE_CONTAINERS" | xargs -P 4 -I{} docker run -d --network none --log-driver json-file \
      --log-opt max-size=10g --label "$LABEL=$BID" --label "$LABEL.corpus=idle" "$LF_IMAGE" sleep 86400 >/dev/null \
    || lf_log "WARNING: some idle containers failed to start"
  mapfile -t IDLE_CIDS < <(docker ps -q --no-trunc --filter "label=$LABEL=$BID" --filter "label=$LABEL.corpus=idle")
  lf_log "run 7: ${#IDLE_CIDS[@]} idle containers started in $(lf_since "$t0")"
  # The image's HEALTHCHECK, as the image runs it, on this jar (and AOT cache) and the agent's port
  python3 "$BENCH_PY/image-healthcheck.py" "$LF_REPO_ROOT/Dockerfile" --jar "$AGENT_JAR" ${AOT_FILE:+--aot "$AOT_FILE"} \
    >"$OUT/run7-healthcheck.json" || lf_die "cannot read the HEALTHCHECK of $LF_REPO_ROOT/Dockerfile"
  lf_log "run 7: health check $(python3 -c 'import json, sys; h = json.load(open(sys.argv[1])); print("every %gs: %s" % (h["interval_s"], " ".join(h["cmd"])) if h["cmd"] else "none")' "$OUT/run7-healthcheck.json")"
  wait_quiet
  cfg=$(agent_config 7 elasticsearch "$ns" idle)
  start_agent "$cfg" "$OUT/run7/agent.log"
  python3 "$BENCH_PY/idle.py" --pid "$AGENT_PID" --launch-ns "$LAUNCH_NS" --seconds "$IDLE_SECONDS" --es-pid "$(es_pid)" \
    --ready-metrics "http://127.0.0.1:$((PORT_BASE + 7))/metrics?name[]=logferry_tailers_active" \
    --ready-metric logferry_tailers_active --ready-count "${#IDLE_CIDS[@]}" --settle "$IDLE_SETTLE" \
    --healthcheck "$OUT/run7-healthcheck.json" --health-env LOGFERRY_HTTP_HOST=127.0.0.1 --health-env "LOGFERRY_HTTP_PORT=$((PORT_BASE + 7))" \
    --label run7 --out "$OUT/run7.json" >/dev/null || lf_log "run 7: see $OUT/run7.json ($(python3 -c 'import json, sys; print(json.load(open(sys.argv[1])).get("status"))' "$OUT/run7.json" 2>/dev/null || echo 'no result'))"
  stop_pid "$AGENT_PID" agent; AGENT_PID=
  add_fields "$OUT/run7.json" "containers=${#IDLE_CIDS[@]}"
  if [[ -n ${PEER_FLUENT_BIT:-} ]] && declare -F fb_idle_run >/dev/null; then
    fb_idle_run "${IDLE_CIDS[@]}"
  fi
  # shellcheck disable=SC2086
  [[ ${#IDLE_CIDS[@]} == 0 ]] || timeout 300 docker kill "${IDLE_CIDS[@]}" >/dev/null 2>&1 || true
fi

python3 "$BENCH_PY/report.py" "$OUT" | tee "$OUT/summary.txt"
exit 0
}
