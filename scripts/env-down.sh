#!/usr/bin/env bash
# Stop logferry's test environment: remove all containers, stop Elasticsearch and dockerd
# (SIGTERM, deadline, SIGKILL), unmount leftovers. Best effort: always exits 0.
# Keeps the state dir (docker image, ES install) so the next env-up is fast;
#   env-down.sh --purge   also deletes the state dir ($LOGFERRY_TEST_DIR).
set -uo pipefail
LF_PROG=env-down
# shellcheck source=scripts/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh" || exit 0
trap 'exit 0' EXIT

purge=0
[[ ${1:-} == --purge ]] && purge=1

if [[ ! -d $LF_DIR ]]; then
  lf_log "nothing to stop ($LF_DIR does not exist)"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then lf_log "WARNING: not root; stopping may fail"; fi
T0=$(lf_now_ms)
lf_lock 120

if lf_dockerd_running && lf_docker_answers; then
  lf_docker_rm_all
fi
lf_es_stop TERM
lf_dockerd_stop
if (( purge )); then
  lf_unmount_below "$LF_DIR"
  rm -rf "$LF_DIR" && lf_log "removed $LF_DIR"
fi
lf_log "environment stopped in $(lf_since "$T0")"
exit 0
