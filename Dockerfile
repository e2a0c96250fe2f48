# syntax=docker/dockerfile:1
# trafficbus in one image: every command (forward, process, replay, intercept, standalone, status, ...) on a JRE 17.
#   docker build -t trafficbus:0.1.0 .
#   docker run --rm trafficbus:0.1.0 standalone --pcap /opt/trafficbus/examples/capture.pcap --port 8080 --demo-server --speed max
# Stage "build" makes the release archive with Maven; stage "runtime" is a JRE with libpcap and the unpacked
# archive, run by an unprivileged user. docs/deploy.md says what was checked of this file and what was not.

ARG MAVEN_IMAGE=maven:3.9-eclipse-temurin-17
# Ubuntu 22.04 (jammy): its libpcap package is libpcap0.8 (later releases renamed it libpcap0.8t64).
ARG JRE_IMAGE=eclipse-temurin:17-jre-jammy

FROM ${MAVEN_IMAGE} AS build
WORKDIR /src
COPY . .
# The local Maven repository is a BuildKit cache, kept between builds. The build makes the release archive
# dist/target/trafficbus-<version>.tar.gz (bin/trafficbus, lib/, docs, examples), the same a user unpacks anywhere.
RUN --mount=type=cache,target=/root/.m2 \
    mvn -B -ntp -DskipTests package \
 && mkdir /out \
 && tar -xzf dist/target/trafficbus-*.tar.gz -C /out \
 && mv /out/trafficbus-* /out/trafficbus

FROM ${JRE_IMAGE} AS runtime
# libpcap0.8 for live capture (forward --interface, intercept); curl for the HEALTHCHECK.
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpcap0.8 curl \
 && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 trafficbus \
 && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/trafficbus --create-home \
        --shell /usr/sbin/nologin trafficbus
COPY --from=build /out/trafficbus /opt/trafficbus
RUN ln -s /opt/trafficbus/bin/trafficbus /usr/local/bin/trafficbus
# Numeric, so Kubernetes' runAsNonRoot can check it. Capture needs root with NET_RAW/NET_ADMIN (docs/deploy.md).
USER 10001:10001
WORKDIR /var/lib/trafficbus
# The heap follows the container's memory limit.
ENV JAVA_OPTS="-XX:MaxRAMPercentage=75"
# A component given TRAFFICBUS_METRICS_PORT answers /health there (200 UP, 503 DOWN); without it there is nothing to ask.
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s --retries=3 \
    CMD [ -z "$TRAFFICBUS_METRICS_PORT" ] || curl -fsS -o /dev/null "http://127.0.0.1:${TRAFFICBUS_METRICS_PORT}/health"
ENTRYPOINT ["trafficbus"]
CMD ["help"]
