# logferry image: one container per Docker host (see docs/security.md and deploy/).
#
#   docker build -t logferry .
#   docker build --build-arg BUILD_IMAGE=... --build-arg RUNTIME_IMAGE=... -t logferry .
#
# The runtime stage runs as uid 10001 with gid 0 (no passwd entry needed): Docker writes
# container logs as root:root 0640 in directories of mode 0710, so group 0 can read them
# without root. It works with a read-only root filesystem: logs go to stderr, the registry to
# the /var/lib/logferry volume, and /tmp should be a tmpfs (JNA unpacks its native library
# there when docker.host is a unix socket).

ARG BUILD_IMAGE=maven:3.9-eclipse-temurin-25
# JDK 25 or later: the AOT cache below (-XX:AOTCacheOutput, JEP 514) is new in 25. The jar itself
# runs on 21 too (built with --release 21).
ARG RUNTIME_IMAGE=eclipse-temurin:25-jre

# ---------------------------------------------------------------- build
FROM ${BUILD_IMAGE} AS build
WORKDIR /build
# Dependencies first, in their own layer, so that a source change does not fetch them again.
# (Not dependency:go-offline: it ignores the pom's dependencyManagement and asks for an
# elasticsearch-rest-client version that Maven Central does not have.)
COPY pom.xml ./
RUN mvn -B -q -Dstyle.color=never dependency:resolve dependency:resolve-plugins
COPY src ./src
RUN mvn -B -q -Dstyle.color=never -DskipTests package \
 && java -jar target/logferry.jar version

# ---------------------------------------------------------------- runtime
FROM ${RUNTIME_IMAGE}
ARG LOGFERRY_UID=10001
LABEL org.opencontainers.image.title="logferry" \
      org.opencontainers.image.description="Log shipper agent for Docker hosts: container logs to Elasticsearch (ECS), nothing lost, nothing duplicated"

COPY --from=build /build/target/logferry.jar /opt/logferry/logferry.jar
COPY config/docker/logferry.yml /etc/logferry/logferry.yml
COPY config/docker/healthcheck.sh /opt/logferry/healthcheck
# The registry directory: owned by the agent's uid, group 0, nobody else.
RUN mkdir -p /var/lib/logferry \
 && chown "${LOGFERRY_UID}:0" /var/lib/logferry \
 && chmod 0770 /var/lib/logferry \
 && chmod 0644 /etc/logferry/logferry.yml /opt/logferry/logferry.jar \
 && chmod 0755 /opt/logferry/healthcheck

# Memory: a bounded heap with the serial collector keeps the agent's peak RSS under 256 MiB
# whatever the host's RAM (the JVM's default would size the heap from the host, not from the
# agent's needs); the queue is bounded in events and bytes. The young generation is fixed at
# 64 MiB with survivor spaces (~10 MiB each) that hold what is queued and in flight, so events
# die young instead of filling the old generation, which starts at 32 MiB and grows only when
# needed (up to 128 MiB): at full speed into Elasticsearch the heap stays near 85 MiB committed.
# -XX:+ExitOnOutOfMemoryError: an agent out of memory exits (code 3) instead of limping on with
# threads lost; the restart policy brings it back and the registry and the _ids absorb the replay
# (an Error in any other thread ends it with code 3 as well: io.logferry.cli.FatalErrors).
# Override with -e JDK_JAVA_OPTIONS="..." (the java launcher reads it); scripts/bench.sh and the
# integration tests (AgentProcess) run the agent with these options.
ENV JDK_JAVA_OPTIONS="-Xms96m -Xmx192m -Xmn64m -XX:SurvivorRatio=4 -XX:+UseSerialGC -XX:MetaspaceSize=64m -XX:MaxMetaspaceSize=128m -XX:ReservedCodeCacheSize=64m -Xss512k -XX:+ExitOnOutOfMemoryError"

# The AOT cache (JDK 25): a training run of the agent on generated logs (`logferry train`: the
# control loop, tailers, decoding, documents, queue and /metrics, output discard, no Docker) records
# the classes start-up loads and links and the methods the per-line path makes hot; every start
# then maps them instead of loading, verifying and profiling them again. Measured with the
# benchmark's run 1: about 0.7 CPU s less to the first acknowledged event and 14 MiB less RSS
# (docs/benchmark.md). Made by this image's own java with the same options and jar path, as the
# cache requires; a JVM that cannot use it says so once and starts without it.
RUN java -XX:-UsePerfData -XX:AOTCacheOutput=/opt/logferry/logferry.aot -jar /opt/logferry/logferry.jar train \
 && chmod 0644 /opt/logferry/logferry.aot

USER ${LOGFERRY_UID}:0
VOLUME ["/var/lib/logferry"]

# /health listens on 127.0.0.1 inside the container (http.host); the check runs there too
# (config/docker/healthcheck.sh: LOGFERRY_HTTP_HOST/PORT, 200 healthy, anything else not). It asks
# with bash's /dev/tcp or busybox's nc, without starting a JVM (which cost ~0.2 s of CPU a check);
# only an image with neither falls back to java (io.logferry.http.HealthCheck).
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["/opt/logferry/healthcheck"]

# -XX:-UsePerfData: no hsperfdata files in /tmp. -Xlog:aot*=error: JDK 25.0.3 warns at every start
# that it could not link one adapter from the cache ("Saved blob's name ... is different"), which
# changes nothing; errors of the cache still print.
ENTRYPOINT ["java", "-XX:-UsePerfData", "-XX:AOTCache=/opt/logferry/logferry.aot", "-Xlog:aot*=error", "-jar", "/opt/logferry/logferry.jar", "run", "--config", "/etc/logferry/logferry.yml"]
