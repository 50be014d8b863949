# shellcheck shell=bash
# Sourced by scripts/bench.sh when PEER_FLUENT_BIT names a Fluent Bit binary: runs 1-3 again with
# Fluent Bit reading the same json-file logs (tail input, the built-in docker multiline parser,
# plus java for run 2) into the same sinks (null output; the same Elasticsearch), measured by the
# same measure.py on Fluent Bit's own counter fluentbit_output_proc_records_total; run 5 with fresh
# writers running the same script (fb_steady_run), and run 7 on the same idle containers
# (fb_idle_run, called by bench.sh's run 7). Results go to fb-run1.json .. fb-run7.json beside
# logferry's, and report.py prints the ratios.
#
# Fluent Bit cannot select containers by label: it is given the log paths of the run's containers
# (Path, comma-separated: $LF_DOCKER_DATA/containers/<id>/<id>-json.log), which it finds with its
# tail input's inotify watcher, rescanning the paths every second (Refresh_Interval) for files
# that do not exist yet, and reads from the head.
# Uses bench.sh's variables and helpers (RUNS, OUT, BID, ES_URL, PLAIN_LOG, ...).

fb_config() {   # RUN LOGFILE MULTILINE OUTPUT-SECTION -> config path
  local dir="$OUT/fb-run$1" port=$((PORT_BASE + 50 + $1))
  mkdir -p "$dir"
  rm -f "$dir/fb.db"*
  cat >"$dir/fluent-bit.conf" <<EOF
[SERVICE]
    Flush         1
    Log_Level     warn
    HTTP_Server   On
    HTTP_Listen   127.0.0.1
    HTTP_Port     $port

[INPUT]
    Name              tail
    Path              $2
    Read_from_Head    On
    DB                $dir/fb.db
    multiline.parser  $3
    Buffer_Chunk_Size 256k
    Buffer_Max_Size   1M
    Refresh_Interval  1
    Mem_Buf_Limit     64M

$4
EOF
  echo "$dir/fluent-bit.conf"
}

fb_run() {   # RUN CONFIG EXPECTED DEADLINE OUTPUT-NAME [ES-PID] [SETTLE]
  local n=$1 port=$((PORT_BASE + 50 + $1)) rc=0
  wait_quiet
  LAUNCH_NS=$(now_ns)
  "$PEER_FLUENT_BIT" -c "$2" >"$OUT/fb-run$n/fluent-bit.log" 2>&1 &
  AGENT_PID=$!
  python3 "$BENCH_PY/measure.py" --pid "$AGENT_PID" --launch-ns "$LAUNCH_NS" \
    --metrics "http://127.0.0.1:$port/api/v1/metrics/prometheus" \
    --metric "fluentbit_output_proc_records_total{name=\"$5\"}" \
    --expected "$3" --deadline "$4" --es-pid "${6:-0}" --settle "${7:-0}" --label "fb-run$n" \
    --out "$OUT/fb-run$n.json" >/dev/null || rc=$?
  stop_pid "$AGENT_PID" fluent-bit; AGENT_PID=
  (( rc == 0 )) || lf_log "Fluent Bit run $n: did not finish cleanly (see $OUT/fb-run$n.json, $OUT/fb-run$n/fluent-bit.log)"
}

fb_es_output() {   # INDEX -> the es output section: the same Elasticsearch, 2 workers
  printf '[OUTPUT]\n    Name               es\n    Match              *\n    Host               127.0.0.1\n    Port               %s\n    Index              %s\n    Suppress_Type_Name On\n    Buffer_Size        False\n    Workers            2\n    Retry_Limit        False' \
    "${ES_URL##*:}" "$1"
}

fb_log_paths() {   # CONTAINER-ID... -> their json-file paths, comma-separated (tail's Path)
  local id sep=""
  for id in "$@"; do printf '%s%s' "$sep" "$LF_DOCKER_DATA/containers/$id/$id-json.log"; sep=,; done
}

# Run 5 with Fluent Bit: the same number of fresh writers running run 5's script (so that both read
# the same amount), created before Fluent Bit starts so that their log paths are known, started
# 5 s after it as run 5's are after the agent; es output into its own index; measure.py on
# fluentbit_output_proc_records_total, latency.py on Fluent Bit's field names (log, @timestamp).
fb_steady_run() {
  local port=$((PORT_BASE + 55)) index="fluentbit-bench$BID-r5" lines burst total probes script ids cfg mpid lpid t0
  lines=$(( STEADY_RATE * STEADY_SECONDS )); burst=$(( STEADY_RATE / 10 > 0 ? STEADY_RATE / 10 : 1 ))
  total=$(( lines * STEADY_CONTAINERS )); probes=$(( STEADY_CONTAINERS * ( (lines + burst - 1) / burst ) ))
  script=$(steady_script "$lines" "$burst")
  mapfile -t ids < <(seq 1 "$STEADY_CONTAINERS" | xargs -P 4 -I{} docker create --network none --log-driver json-file \
      --label "$LABEL=$BID" --label "$LABEL.corpus=steady-fb" -e C={} "$LF_IMAGE" sh -c "$script")
  if (( ${#ids[@]} != STEADY_CONTAINERS )); then
    lf_log "Fluent Bit run 5: created ${#ids[@]} of $STEADY_CONTAINERS writers; skipped"; return 0
  fi
  cfg=$(fb_config 5 "$(fb_log_paths "${ids[@]}")" docker "$(fb_es_output "$index")")
  wait_quiet
  lf_log "Fluent Bit run 5: $STEADY_CONTAINERS containers x $STEADY_RATE lines/s x ${STEADY_SECONDS}s = $total lines into $index"
  LAUNCH_NS=$(now_ns)
  "$PEER_FLUENT_BIT" -c "$cfg" >"$OUT/fb-run5/fluent-bit.log" 2>&1 &
  AGENT_PID=$!
  sleep 5   # Fluent Bit is up and watching before the writers start
  python3 "$BENCH_PY/measure.py" --pid "$AGENT_PID" --launch-ns "$LAUNCH_NS" \
    --metrics "http://127.0.0.1:$port/api/v1/metrics/prometheus" --metric 'fluentbit_output_proc_records_total{name="es.0"}' \
    --expected "$total" --deadline $(( STEADY_SECONDS * 3 + 300 )) --es-pid "$(es_pid)" --interval 0.5 --label fb-run5 \
    --out "$OUT/fb-run5.json" >/dev/null &
  mpid=$!
  python3 "$BENCH_PY/latency.py" --es "$ES_URL" --index "$index" --expected "$probes" --message-field log \
    --deadline $(( STEADY_SECONDS * 3 + 300 )) --out "$OUT/fb-run5-latency.json" >/dev/null &
  lpid=$!
  t0=$(lf_now_ms)
  printf '%s\n' "${ids[@]}" | xargs -P 4 -n 1 docker start >/dev/null || lf_log "WARNING: some of Fluent Bit's steady writers failed to start"
  lf_log "Fluent Bit run 5: $STEADY_CONTAINERS writers started in $(lf_since "$t0")"
  wait "$mpid" || lf_log "Fluent Bit run 5: did not finish cleanly (see $OUT/fb-run5.json, $OUT/fb-run5/fluent-bit.log)"
  wait "$lpid" || true
  stop_pid "$AGENT_PID" fluent-bit; AGENT_PID=
  add_fields "$OUT/fb-run5.json" "entries=$total" "containers=$STEADY_CONTAINERS" "rate_per_container=$STEADY_RATE" \
    "seconds=$STEADY_SECONDS" "es_count=$(es_count "$index")" "latency=$(cat "$OUT/fb-run5-latency.json")"
  [[ ${BENCH_KEEP:-0} == 1 ]] || curl -s -o /dev/null -XDELETE "$ES_URL/$index" || true
}

# Run 7 with Fluent Bit: tail on the idle containers' logs (CONTAINER-ID...), es output; idle.py
# waits until it has opened them all (fluentbit_input_files_opened_total), lets it settle, and
# measures its CPU over the same window. No health check: upstream's image defines none.
fb_idle_run() {
  [[ -x $PEER_FLUENT_BIT ]] || return 0
  local port=$((PORT_BASE + 57)) index="fluentbit-bench$BID-r7" cfg
  cfg=$(fb_config 7 "$(fb_log_paths "$@")" docker "$(fb_es_output "$index")")
  wait_quiet
  lf_log "Fluent Bit run 7: idle, $# containers"
  LAUNCH_NS=$(now_ns)
  "$PEER_FLUENT_BIT" -c "$cfg" >"$OUT/fb-run7/fluent-bit.log" 2>&1 &
  AGENT_PID=$!
  python3 "$BENCH_PY/idle.py" --pid "$AGENT_PID" --launch-ns "$LAUNCH_NS" --seconds "$IDLE_SECONDS" --es-pid "$(es_pid)" \
    --ready-metrics "http://127.0.0.1:$port/api/v1/metrics/prometheus" \
    --ready-metric 'fluentbit_input_files_opened_total{name="tail.0"}' --ready-count "$#" --settle "$IDLE_SETTLE" \
    --label fb-run7 --out "$OUT/fb-run7.json" >/dev/null || lf_log "Fluent Bit run 7: see $OUT/fb-run7.json"
  stop_pid "$AGENT_PID" fluent-bit; AGENT_PID=
  add_fields "$OUT/fb-run7.json" "containers=$#"
  [[ ${BENCH_KEEP:-0} == 1 ]] || curl -s -o /dev/null -XDELETE "$ES_URL/$index" || true
}

fluent_bit_runs() {
  [[ -x $PEER_FLUENT_BIT ]] || { lf_log "PEER_FLUENT_BIT=$PEER_FLUENT_BIT is not executable; Fluent Bit comparison skipped"; return 0; }
  lf_log "Fluent Bit: $("$PEER_FLUENT_BIT" --version 2>/dev/null | head -1)"
  local null_out=$'[OUTPUT]\n    Name  null\n    Match *'
  if run 1; then
    lf_log "Fluent Bit run 1: null output, plain"
    fb_run 1 "$(fb_config 1 "$PLAIN_LOG" docker "$null_out")" "$PLAIN_N" "$(deadline_for "$PLAIN_N")" null.0
    add_fields "$OUT/fb-run1.json" "entries=$PLAIN_N"
  fi
  if run 2; then
    # Fluent Bit's java parser may join differently from logferry's: it stops when its count settles.
    lf_log "Fluent Bit run 2: null output, realistic, multiline docker + java"
    fb_run 2 "$(fb_config 2 "$REAL_LOG" "docker, java" "$null_out")" "$REAL_N" "$(deadline_for "$REAL_E")" null.0 0 10
    add_fields "$OUT/fb-run2.json" "entries=$REAL_E" "messages=$REAL_N"
  fi
  if run 3; then
    local index="fluentbit-bench$BID-r3" es_out
    es_out=$(fb_es_output "$index")
    lf_log "Fluent Bit run 3: elasticsearch, plain, into $index"
    fb_run 3 "$(fb_config 3 "$PLAIN_LOG" docker "$es_out")" "$PLAIN_N" "$(( $(deadline_for "$PLAIN_N") * 3 ))" es.0 "$(es_pid)"
    add_fields "$OUT/fb-run3.json" "entries=$PLAIN_N" "es_count=$(es_count "$index")"
    [[ ${BENCH_KEEP:-0} == 1 ]] || curl -s -o /dev/null -XDELETE "$ES_URL/$index" || true
  fi
  if run 5; then
    fb_steady_run
  fi
}
