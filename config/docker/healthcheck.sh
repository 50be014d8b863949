#!/bin/sh
# The image's HEALTHCHECK: GET /health on LOGFERRY_HTTP_HOST:LOGFERRY_HTTP_PORT (default
# 127.0.0.1:5066); exit 0 on 200 (up or degraded: an Elasticsearch outage included), 1 otherwise
# (503 down: Docker unreachable or a stage of the agent stuck; no answer).
#
# Without a JVM: a check every 30 s that starts java costs ~0.2 s of CPU each time, more than the
# idle agent itself. eclipse-temurin images have bash (its /dev/tcp) but neither curl nor wget;
# a busybox base has nc. Where neither exists, the Java check in the jar does the same.
host=${LOGFERRY_HTTP_HOST:-127.0.0.1}
port=${LOGFERRY_HTTP_PORT:-5066}
case $host in ''|0.0.0.0|::) host=127.0.0.1 ;; esac
request='GET /health HTTP/1.0\r\nHost: localhost\r\n\r\n'

if command -v bash >/dev/null 2>&1; then
    status=$(bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; printf "$2" >&3; IFS= read -r line <&3; printf "%s" "$line"' \
        "$host" "$port" "$request" 2>/dev/null)
elif command -v nc >/dev/null 2>&1; then
    status=$(printf "$request" | nc "$host" "$port" 2>/dev/null | head -n 1)
else
    exec java -XX:TieredStopAtLevel=1 -XX:+UseSerialGC -Xms8m -Xmx16m -Xmn4m -XX:ReservedCodeCacheSize=16m -Xss512k \
        -XX:-UsePerfData -cp /opt/logferry/logferry.jar io.logferry.http.HealthCheck
fi
case $status in
    "HTTP/1."?" 200"*) echo "$status"; exit 0 ;;
    *) echo "${status:-no answer from $host:$port}"; exit 1 ;;
esac
