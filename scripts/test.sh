#!/usr/bin/env bash
# logferry's test command: brings up the test environment (dockerd, busybox test image,
# Elasticsearch), runs `mvn -B verify "$@"` against it, and always takes it down again.
#   scripts/test.sh                      # everything
#   scripts/test.sh -Dtest=SomeTest      # extra args go to Maven
# LOGFERRY_TEST_KEEP_ENV=1 leaves the environment running afterwards.
set -euo pipefail
SCRIPTS_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO_ROOT="$(cd "$SCRIPTS_DIR/.." && pwd)"
T0=$(date +%s)

finish() {
  local rc=$?
  trap - EXIT INT TERM
  if [[ ${LOGFERRY_TEST_KEEP_ENV:-0} == 1 ]]; then
    echo "test.sh: LOGFERRY_TEST_KEEP_ENV=1, leaving the environment up (stop it with scripts/env-down.sh)" >&2
  else
    bash "$SCRIPTS_DIR/env-down.sh" || true
  fi
  echo "test.sh: finished in $(( $(date +%s) - T0 ))s, exit status $rc"
  exit "$rc"
}
trap finish EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

bash "$SCRIPTS_DIR/env-up.sh"
LF_PROG="test"
# shellcheck source=scripts/lib.sh
source "$SCRIPTS_DIR/lib.sh"   # for LF_DIR (same state-dir rules as env-up)
# shellcheck disable=SC1091
source "$LF_DIR/env.sh"
echo "test.sh: env-up done after $(( $(date +%s) - T0 ))s; JAVA_HOME=$JAVA_HOME"

cd "$REPO_ROOT"
[[ -f pom.xml ]] || { echo "test.sh: ERROR: no pom.xml in $REPO_ROOT" >&2; exit 1; }
# JDK 24+ warns about Maven's own (guava) use of sun.misc.Unsafe; silence that noise.
if [[ " ${MAVEN_OPTS:-} " != *sun-misc-unsafe-memory-access* ]] \
   && java --sun-misc-unsafe-memory-access=allow -version >/dev/null 2>&1; then
  export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"
fi
T_MVN=$(date +%s)
rc=0
mvn -B -Dstyle.color=never verify "$@" || rc=$?
echo "test.sh: mvn verify took $(( $(date +%s) - T_MVN ))s, exit status $rc"
exit "$rc"
