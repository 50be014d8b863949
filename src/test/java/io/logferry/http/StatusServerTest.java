package io.logferry.http;

import io.logferry.metrics.Metrics;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.Socket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;

import static org.assertj.core.api.Assertions.assertThat;

/** The status server on loopback, with clients that misbehave. */
class StatusServerTest {
    private static final Duration TIMEOUT = Duration.ofSeconds(1);
    private final Metrics metrics = new Metrics();
    private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(2)).build();
    private volatile String problem;
    private volatile String notReady;
    private StatusServer server;

    @BeforeEach
    void start() throws IOException {
        server = new StatusServer("127.0.0.1", 0, metrics, () -> problem, () -> notReady, () -> null, "1.2.3", null, TIMEOUT);
        server.start();
    }

    @AfterEach
    void stop() {
        server.close();
    }

    private HttpResponse<String> get(String path) throws Exception {
        return http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + path))
                .timeout(Duration.ofMillis(500)).build(), HttpResponse.BodyHandlers.ofString());
    }

    private Socket connect() throws IOException {
        Socket s = new Socket(InetAddress.getLoopbackAddress(), server.port());
        s.setSoTimeout(10_000);
        return s;
    }

    private static String readAll(Socket s) throws IOException {
        return new String(s.getInputStream().readAllBytes(), StandardCharsets.ISO_8859_1);
    }

    @Test
    void aFailingTailerMakesHealthDegradedButStill200AndDownWins() throws Exception {
        java.util.concurrent.atomic.AtomicReference<String> degraded = new java.util.concurrent.atomic.AtomicReference<>(
                "container web (0123456789ab): tailer failed 2 times in a row (IOException: \"x\"), restarting");
        try (StatusServer s = new StatusServer("127.0.0.1", 0, metrics, () -> problem, () -> notReady, degraded::get, "1.2.3", null, TIMEOUT)) {
            s.start();
            HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).isEqualTo(200);
            assertThat(r.body()).isEqualTo("{\"status\":\"degraded\",\"reason\":\"container web (0123456789ab): tailer failed 2 times"
                    + " in a row (IOException: \\\"x\\\"), restarting\",\"version\":\"1.2.3\"}\n");
            problem = "docker: gone";
            r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.statusCode()).as("unreachable Docker or a stuck stage is down, degraded or not").isEqualTo(503);
            assertThat(r.body()).contains("\"status\":\"down\"");
            problem = null;
            degraded.set(null);
            r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + s.port() + "/health"))
                    .timeout(Duration.ofSeconds(2)).build(), HttpResponse.BodyHandlers.ofString());
            assertThat(r.body()).isEqualTo("{\"status\":\"up\",\"version\":\"1.2.3\"}\n");
        }
    }

    @Test
    void elasticsearchAwayLeavesTheAgentLiveButNotReady() throws Exception {
        notReady = "elasticsearch: no answer from http://127.0.0.1:9200 (Connection refused)";
        HttpResponse<String> health = get("/health");
        assertThat(health.statusCode()).as("liveness: the agent reads, queues and retries; a restart would not help").isEqualTo(200);
        assertThat(health.body()).isEqualTo("{\"status\":\"degraded\",\"reason\":\"elasticsearch: no answer from http://127.0.0.1:9200"
                + " (Connection refused)\",\"version\":\"1.2.3\"}\n");
        HttpResponse<String> ready = get("/ready");
        assertThat(ready.statusCode()).isEqualTo(503);
        assertThat(ready.body()).isEqualTo("{\"status\":\"not_ready\",\"reason\":\"elasticsearch: no answer from http://127.0.0.1:9200"
                + " (Connection refused)\",\"version\":\"1.2.3\"}\n");

        notReady = null;
        assertThat(get("/ready").body()).isEqualTo("{\"status\":\"ready\",\"version\":\"1.2.3\"}\n");
        assertThat(get("/ready").statusCode()).isEqualTo(200);
        problem = "stuck: the control loop has held work for 300 s without moving";
        assertThat(get("/health").statusCode()).isEqualTo(503);
        assertThat(get("/ready").statusCode()).as("readiness is about Docker and Elasticsearch only").isEqualTo(200);
    }

    @Test
    void nameParametersScrapeOnlyTheMetricsNamed() throws Exception {
        metrics.counter("logferry_events_acked_total", "acked").add(31);
        metrics.counter("logferry_events_read_total", "read").add(40);

        String one = get("/metrics?name%5B%5D=logferry_events_acked_total").body();
        assertThat(one).contains("logferry_events_acked_total 31.0").doesNotContain("logferry_events_read_total", "jvm_");
        String two = get("/metrics?name[]=logferry_events_acked_total&x=1&name[]=logferry_events_read").body();
        assertThat(two).contains("logferry_events_acked_total 31.0", "logferry_events_read_total 40.0").doesNotContain("jvm_");
        assertThat(get("/metrics?x=1").body()).contains("logferry_events_read_total", "jvm_memory_used_bytes");
    }

    @Test
    void metricNamesAreReadFromTheQuery() {
        assertThat(StatusServer.metricNames("name[]=a&name%5B%5D=b_total&other=c&name[]")).containsExactly("a", "b_total");
        assertThat(StatusServer.metricNames("")).isEmpty();
        assertThat(StatusServer.metricNames("name[]=%zz&name[]=ok")).as("a bad escape is skipped").containsExactly("ok");
        assertThat(StatusServer.metricNames("name[]=x&".repeat(200))).containsExactly("x");
        assertThat(StatusServer.metricNames(java.util.stream.IntStream.range(0, 100).mapToObj(i -> "name[]=m" + i)
                .collect(java.util.stream.Collectors.joining("&")))).hasSize(64);
    }

    @Test
    void healthAndMetricsAnswerAndNothingElseDoes() throws Exception {
        metrics.counter("logferry_test_total", "a test counter").add(7);
        HttpResponse<String> up = get("/health");
        assertThat(up.statusCode()).isEqualTo(200);
        assertThat(up.body()).isEqualTo("{\"status\":\"up\",\"version\":\"1.2.3\"}\n");
        assertThat(up.headers().firstValue("Content-Type")).hasValue("application/json");

        problem = "docker: \"gone\"\n\u001b[31mred";
        HttpResponse<String> down = get("/health");
        assertThat(down.statusCode()).isEqualTo(503);
        assertThat(down.body()).isEqualTo("{\"status\":\"down\",\"reason\":\"docker: \\\"gone\\\"\\u000a\\u001b[31mred\",\"version\":\"1.2.3\"}\n");

        HttpResponse<String> m = get("/metrics?x=1");
        assertThat(m.statusCode()).isEqualTo(200);
        assertThat(m.body()).contains("logferry_test_total 7");
        assertThat(get("/healthz").statusCode()).isEqualTo(404);
        assertThat(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + server.port() + "/health"))
                .POST(HttpRequest.BodyPublishers.ofString("x")).build(), HttpResponse.BodyHandlers.ofString()).statusCode()).isEqualTo(405);
        try (Socket s = connect()) {
            s.getOutputStream().write("HEAD /health HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(StandardCharsets.ISO_8859_1));
            String r = readAll(s);
            assertThat(r).startsWith("HTTP/1.1 503 ").contains("Content-Length: ").endsWith("\r\n\r\n");
        }
    }

    @Test
    void aClientThatSendsNothingOrAByteAtATimeHoldsNoOneElseAndIsCutAfterTheTimeout() throws Exception {
        AtomicBoolean dripping = new AtomicBoolean(true);
        // the clock starts before the connections: the server's timeout cannot have started earlier, whatever the load
        long t0 = System.nanoTime();
        try (Socket silent = connect(); Socket drip = connect()) {
            // one header byte every 200 ms: never a whole request
            Thread dripper = Thread.ofVirtual().start(() -> {
                try {
                    OutputStream out = drip.getOutputStream();
                    byte[] head = "GET /health HTTP/1.1\r\nHost: localhost\r\nX-Slow: ".getBytes(StandardCharsets.ISO_8859_1);
                    for (int i = 0; dripping.get(); i++) {
                        out.write(head[i % head.length]);
                        out.flush();
                        Thread.sleep(200);
                    }
                } catch (IOException | InterruptedException e) {
                    // the server closed it: expected
                }
            });
            // meanwhile, /health answers other connections at once, again and again
            for (int i = 0; i < 5; i++) {
                long a = System.nanoTime();
                assertThat(get("/health").statusCode()).isEqualTo(200);
                // a hang guard, not a target: a /health stuck behind the slow connections would wait for their 408s
                assertThat(Duration.ofNanos(System.nanoTime() - a)).as("hang guard: /health beside slow connections").isLessThan(Duration.ofSeconds(5));
            }
            String silentGot = readAll(silent);
            long silentAfter = System.nanoTime() - t0;
            String dripGot = readAll(drip);
            long dripAfter = System.nanoTime() - t0;
            dripping.set(false);
            dripper.join(5000);

            assertThat(silentGot).startsWith("HTTP/1.1 408 ");
            assertThat(dripGot).startsWith("HTTP/1.1 408 ");
            // closed after the timeout, not before; the upper bound is a hang guard (10x the timeout), not a target
            assertThat(Duration.ofNanos(silentAfter)).isBetween(TIMEOUT, TIMEOUT.multipliedBy(10));
            assertThat(Duration.ofNanos(dripAfter)).isBetween(TIMEOUT, TIMEOUT.multipliedBy(10));
            assertThat(metrics.value("logferry_http_requests_refused_total", "reason", "timeout")).isEqualTo(2);
        }
        assertThat(get("/health").statusCode()).isEqualTo(200);
    }

    @Test
    void aRequestHeadTooLargeIsRefused() throws Exception {
        try (Socket s = connect()) {
            OutputStream out = s.getOutputStream();
            out.write(("GET /health HTTP/1.1\r\nX-Big: " + "a".repeat(StatusServer.MAX_HEAD) + "\r\n\r\n").getBytes(StandardCharsets.ISO_8859_1));
            InputStream in = s.getInputStream();
            String r = new String(in.readNBytes(12), StandardCharsets.ISO_8859_1);
            assertThat(r).isEqualTo("HTTP/1.1 431");
        } catch (java.net.SocketException reset) {
            // the server may close before it has read all we sent: then the count below still says why
        }
        assertThat(metrics.value("logferry_http_requests_refused_total", "reason", "too_large")).isEqualTo(1);
    }
}
