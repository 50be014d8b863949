#!/usr/bin/env bash
# Control the test dockerd started by scripts/env-up.sh, for tests of how logferry survives
# the Docker daemon going away.
#   dockerd-ctl.sh restart   SIGKILL dockerd (a crash), then start it again through env-up
#                            (a fresh daemon starts with no containers; Elasticsearch is reused)
set -euo pipefail
LF_PROG=dockerd-ctl
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

case "${1:-}" in
  restart)
    lf_require_root
    if pid=$(lf_pid_of "$LF_DOCKER_PIDFILE") && lf_alive "$pid" "$LF_DOCKERD_MATCH"; then
      kill -KILL "$pid" 2>/dev/null || true
      end=$(( $(date +%s) + 15 ))
      while lf_alive "$pid" && (( $(date +%s) < end )); do sleep 0.1; done
      lf_log "dockerd (pid $pid) killed with SIGKILL"
    fi
    bash "$(dirname "${BASH_SOURCE[0]}")/env-up.sh"
    ;;
  *) echo "usage: $0 restart" >&2; exit 2 ;;
esac
