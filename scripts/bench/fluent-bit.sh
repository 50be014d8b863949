# shellcheck shell=bash
# Sourced by scripts/bench.sh when PEER_FLUENT_BIT names a Fluent Bit binary: runs 1-3 again with
# Fluent Bit reading the same json-file logs (tail input, the built-in docker multiline parser,
# plus java for run 2) into the same sinks (null output; the same Elasticsearch), measured by the
# same measure.py on Fluent Bit's own counter fluentbit_output_proc_records_total. Results go to
# fb-run1.json .. fb-run3.json beside logferry's, and report.py prints the ratios.
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
    es_out=$(printf '[OUTPUT]\n    Name               es\n    Match              *\n    Host               127.0.0.1\n    Port               %s\n    Index              %s\n    Suppress_Type_Name On\n    Buffer_Size        False\n    Workers            2\n    Retry_Limit        False' \
      "${ES_URL##*:}" "$index")
    lf_log "Fluent Bit run 3: elasticsearch, plain, into $index"
    fb_run 3 "$(fb_config 3 "$PLAIN_LOG" docker "$es_out")" "$PLAIN_N" "$(( $(deadline_for "$PLAIN_N") * 3 ))" es.0 "$(es_pid)"
    add_fields "$OUT/fb-run3.json" "entries=$PLAIN_N" "es_count=$(es_count "$index")"
    [[ ${BENCH_KEEP:-0} == 1 ]] || curl -s -o /dev/null -XDELETE "$ES_URL/$index" || true
  fi
}
