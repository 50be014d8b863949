#!/usr/bin/env bash
# Control the test Elasticsearch started by scripts/env-up.sh (same state dir, data dir
# and port), e.g. for tests that take ES away for a while and bring it back.
#   es-ctl.sh stop    graceful stop (SIGTERM, deadline, then SIGKILL); data is kept
#   es-ctl.sh start   start again on the same port and data dir; waits for health
#   es-ctl.sh kill    SIGKILL, like a crash; data is kept
#   es-ctl.sh status  prints "running <url> <health>" (exit 0) or "stopped" (exit 3)
set -euo pipefail
LF_PROG=es-ctl
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

usage() { echo "usage: $0 stop|start|kill|status" >&2; exit 2; }
[[ $# -eq 1 ]] || usage

case "$1" in
  stop)
    lf_require_root; lf_lock 300
    lf_es_stop TERM
    ;;
  kill)
    lf_require_root; lf_lock 300
    lf_es_stop KILL
    ;;
  start)
    lf_require_root; lf_lock 300
    if lf_es_running; then
      end=$(( $(date +%s) + LF_ES_TIMEOUT ))
      until lf_es_healthy; do
        if ! lf_es_running; then break; fi
        (( $(date +%s) < end )) || lf_die "elasticsearch is running but not healthy on $(lf_es_url) after ${LF_ES_TIMEOUT}s"
        sleep 0.5
      done
      if lf_es_healthy; then lf_log "elasticsearch already running on $(lf_es_url)"; exit 0; fi
    fi
    lf_pick_jdk
    lf_es_start
    ;;
  status)
    if lf_es_running; then
      h=$(curl -fsS --max-time 5 "$(lf_es_url)/_cluster/health" 2>/dev/null | sed -n 's/.*"status":"\([a-z]*\)".*/\1/p' || true)
      echo "running $(lf_es_url) pid=$(lf_pid_of "$LF_ES_PIDFILE" || echo '?') health=${h:-unreachable}"
    else
      echo "stopped"
      exit 3
    fi
    ;;
  *) usage ;;
esac
