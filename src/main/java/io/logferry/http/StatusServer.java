package io.logferry.http;

import io.logferry.config.Config;
import io.logferry.metrics.Metric;
import io.logferry.metrics.Metrics;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.LinkedHashSet;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Supplier;

/**
 * {@code GET /health}, the liveness (200 up, 200 degraded or 503 down, with the reason: down only when the
 * agent cannot reach Docker or is stuck, never because Elasticsearch is away), {@code GET /ready}, the
 * readiness (200 when Docker and Elasticsearch answer, else 503 with the reason), and {@code GET /metrics}
 * (Prometheus text). With the Elasticsearch output, an {@link ElasticsearchProbe} keeps {@code /ready} true
 * while the agent is idle: the agent's own view (Docker, the last bulk request) comes first, then the probe.
 *
 * <p>A small HTTP/1.0-style server of its own (one request per connection, then
 * {@code Connection: close}), so that no client can hold it:
 * <pre>
 *   acceptor thread (logferry-http) ──► at most {@link #MAX_CONNECTIONS} at once (beyond: closed at once)
 *        └─► one virtual thread per connection: the request head must arrive whole within the
 *            request timeout (else 408) and fit {@link #MAX_HEAD} bytes (else 431); the whole
 *            exchange, the answer included, is cut at {@link #LIFETIME_FACTOR} × that timeout
 * </pre>
 * A client that sends nothing, or a byte a second, keeps one connection for at most the timeout;
 * {@code /health} answers the others meanwhile. Refusals are counted in
 * {@code logferry_http_requests_refused_total{reason="timeout"|"too_large"|"busy"}}.
 *
 * <p>Thread-safety: the handlers read the metrics and the suppliers, which are thread-safe;
 * the set of open connections is concurrent.
 */
public final class StatusServer implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(StatusServer.class);
    static final Duration PROBE_EVERY = ElasticsearchProbe.EVERY;
    /** The request head must arrive within this; the image's HEALTHCHECK waits 4 s for its answer. */
    static final Duration REQUEST_TIMEOUT = Duration.ofSeconds(2);
    static final int MAX_CONNECTIONS = 32;
    static final int MAX_HEAD = 8192;
    static final int LIFETIME_FACTOR = 3;

    private final ServerSocket socket;
    private final Duration requestTimeout;
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final Set<Socket> open = ConcurrentHashMap.newKeySet();
    private final ScheduledExecutorService reaper;
    private final Supplier<String> live;
    private final Supplier<String> ready;
    private final Supplier<String> degraded;
    private final Metrics metrics;
    private final String version;
    private final ElasticsearchProbe probe;
    private final LongAdder timedOut;
    private final LongAdder tooLarge;
    private final LongAdder busy;
    private volatile Thread acceptor;

    /**
     * The agent's server: host and port from {@code http}, with the agent's probe of Elasticsearch when it is
     * the output (the agent starts and closes the probe: it also wakes the output when the cluster is back).
     * {@code live} gives null while the agent does its job, else why not: Docker unreachable, a stage stuck
     * ({@code /health} 503); {@code ready} gives null when Docker and the output answer, else the reason
     * ({@code /ready} 503, {@code /health} 200 degraded); {@code degraded} gives null when every container is read,
     * else which are not and why ({@code /health} 200 degraded).
     */
    public StatusServer(Config config, Metrics metrics, Supplier<String> live, Supplier<String> ready, Supplier<String> degraded,
                        String version, ElasticsearchProbe probe) throws IOException {
        this(config.http().host(), config.http().port(), metrics, live, ready, degraded, version, probe, REQUEST_TIMEOUT);
    }

    StatusServer(String host, int port, Metrics metrics, Supplier<String> live, Supplier<String> agentReady, Supplier<String> degraded,
                 String version, ElasticsearchProbe probe, Duration requestTimeout) throws IOException {
        this.live = live;
        this.degraded = degraded;
        this.probe = probe;
        this.metrics = metrics;
        this.version = version;
        this.requestTimeout = requestTimeout;
        this.ready = probe == null ? agentReady : () -> {
            String p = agentReady.get();
            if (p != null) {
                return p;
            }
            String e = probe.problem();
            return e == null ? null : "elasticsearch: " + e;
        };
        if (probe != null) {
            metrics.gauge(Metric.ELASTICSEARCH_UP, () -> probe.problem() == null ? 1 : 0);
        }
        timedOut = metrics.counter(Metric.HTTP_REQUESTS_REFUSED, "reason", "timeout");
        tooLarge = metrics.counter(Metric.HTTP_REQUESTS_REFUSED, "reason", "too_large");
        busy = metrics.counter(Metric.HTTP_REQUESTS_REFUSED, "reason", "busy");
        socket = new ServerSocket();
        socket.setReuseAddress(true);
        socket.bind(new InetSocketAddress(host, port), 64);
        reaper = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "logferry-http-reaper");
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        Thread t = new Thread(this::accept, "logferry-http");
        t.setDaemon(true);
        acceptor = t;
        t.start();
    }

    public int port() {
        return socket.getLocalPort();
    }

    private void accept() {
        while (!socket.isClosed()) {
            Socket s;
            try {
                s = socket.accept();
            } catch (IOException e) {
                if (!socket.isClosed()) {
                    log.warn("http: accept failed ({})", e.getMessage());
                }
                continue;
            }
            if (!slots.tryAcquire()) {
                busy.increment();
                closeQuietly(s);
                continue;
            }
            open.add(s);
            ScheduledFuture<?> cut = reaper.schedule(() -> closeQuietly(s), requestTimeout.toMillis() * LIFETIME_FACTOR, TimeUnit.MILLISECONDS);
            Thread.ofVirtual().name("logferry-http-conn").start(() -> {
                try {
                    serve(s);
                } catch (IOException | RuntimeException e) {
                    log.debug("http: connection from {} ended: {}", s.getRemoteSocketAddress(), e.toString());
                } finally {
                    cut.cancel(false);
                    closeQuietly(s);
                    open.remove(s);
                    slots.release();
                }
            });
        }
    }

    private void serve(Socket s) throws IOException {
        long deadline = System.nanoTime() + requestTimeout.toNanos();
        InputStream in = s.getInputStream();
        byte[] head = new byte[MAX_HEAD];
        int n = 0;
        int end;
        while ((end = headEnd(head, n)) < 0) {
            if (n == head.length) {
                tooLarge.increment();
                respond(s, "GET", 431, "Request Header Fields Too Large", "text/plain", "request head over " + MAX_HEAD + " bytes\n");
                return;
            }
            long left = TimeUnit.NANOSECONDS.toMillis(deadline - System.nanoTime());
            if (left <= 0) {
                timedOut(s);
                return;
            }
            s.setSoTimeout((int) Math.min(Integer.MAX_VALUE, left));
            int r;
            try {
                r = in.read(head, n, head.length - n);
            } catch (SocketTimeoutException e) {
                timedOut(s);
                return;
            }
            if (r < 0) {
                return;
            }
            n += r;
        }
        String line = new String(head, 0, lineEnd(head, end), StandardCharsets.ISO_8859_1);
        String[] parts = line.split(" ");
        if (parts.length < 2) {
            respond(s, "GET", 400, "Bad Request", "text/plain", "bad request line\n");
            return;
        }
        String method = parts[0];
        String target = parts[1];
        int q = target.indexOf('?');
        String path = q < 0 ? target : target.substring(0, q);
        if (!path.equals("/health") && !path.equals("/ready") && !path.equals("/metrics")) {
            respond(s, method, 404, "Not Found", "text/plain", "not found: try /health, /ready or /metrics\n");
            return;
        }
        if (!method.equals("GET") && !method.equals("HEAD")) {
            respond(s, "HEAD", 405, "Method Not Allowed", "text/plain", "");
            return;
        }
        if (path.equals("/health")) {
            health(s, method);
        } else if (path.equals("/ready")) {
            ready(s, method);
        } else {
            Set<String> names = q < 0 ? Set.of() : metricNames(target.substring(q + 1));
            respond(s, method, 200, "OK", "text/plain; version=0.0.4; charset=utf-8",
                    names.isEmpty() ? metrics.prometheus() : metrics.prometheus(names));
        }
    }

    /**
     * Liveness: 503 {@code down} when Docker cannot be reached or a stage of the agent is stuck (a restart
     * may help); 200 {@code degraded} while it does its job with something missing: Elasticsearch away (it
     * reads, queues, spools and retries; a restart would not help), a container's tailer failed and being
     * restarted (a restart would stop every other container); else 200 {@code up}.
     */
    private void health(Socket s, String method) throws IOException {
        String p = live.get();
        if (p != null) {
            respond(s, method, 503, "Service Unavailable", "application/json",
                    "{\"status\":\"down\",\"reason\":" + quote(p) + ",\"version\":\"" + version + "\"}\n");
            return;
        }
        String r = ready.get();
        String t = degraded.get();
        String d = r == null ? t : t == null ? r : r + "; " + t;
        String body = d == null
                ? "{\"status\":\"up\",\"version\":\"" + version + "\"}\n"
                : "{\"status\":\"degraded\",\"reason\":" + quote(d) + ",\"version\":\"" + version + "\"}\n";
        respond(s, method, 200, "OK", "application/json", body);
    }

    /** Readiness: 200 {@code ready} when Docker and Elasticsearch answer, else 503 {@code not_ready} with the reason. */
    private void ready(Socket s, String method) throws IOException {
        String r = ready.get();
        if (r != null) {
            respond(s, method, 503, "Service Unavailable", "application/json",
                    "{\"status\":\"not_ready\",\"reason\":" + quote(r) + ",\"version\":\"" + version + "\"}\n");
        } else {
            respond(s, method, 200, "OK", "application/json", "{\"status\":\"ready\",\"version\":\"" + version + "\"}\n");
        }
    }

    private void timedOut(Socket s) {
        timedOut.increment();
        try {
            respond(s, "GET", 408, "Request Timeout", "text/plain", "no whole request in " + requestTimeout.toMillis() + " ms\n");
        } catch (IOException ignored) {
            // closed anyway
        }
    }

    /**
     * The metric names of a {@code /metrics} query's {@code name[]} parameters (Prometheus'
     * convention for scraping some metrics only: {@code ?name[]=logferry_events_acked_total}),
     * empty when there are none. At most 64 are taken; other parameters are ignored.
     */
    static Set<String> metricNames(String query) {
        Set<String> names = new LinkedHashSet<>();
        String[] params = query.split("&");
        for (int i = 0; i < params.length && names.size() < 64; i++) {
            String param = params[i];
            int eq = param.indexOf('=');
            if (eq < 0) {
                continue;
            }
            try {
                if (URLDecoder.decode(param.substring(0, eq), StandardCharsets.UTF_8).equals("name[]")) {
                    names.add(URLDecoder.decode(param.substring(eq + 1), StandardCharsets.UTF_8));
                }
            } catch (IllegalArgumentException malformed) {
                // a bad %-escape: not a name
            }
        }
        return names;
    }

    /** The index just past the blank line that ends the head, or -1. */
    static int headEnd(byte[] b, int n) {
        for (int i = 0; i < n; i++) {
            if (b[i] == '\n' && ((i + 1 < n && b[i + 1] == '\n')
                    || (i + 2 < n && b[i + 1] == '\r' && b[i + 2] == '\n'))) {
                return i;
            }
        }
        return -1;
    }

    private static int lineEnd(byte[] b, int limit) {
        for (int i = 0; i <= limit; i++) {
            if (b[i] == '\r' || b[i] == '\n') {
                return i;
            }
        }
        return limit;
    }

    private static void respond(Socket s, String method, int status, String reason, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        String head = "HTTP/1.1 " + status + " " + reason + "\r\nContent-Type: " + type + "\r\nContent-Length: " + bytes.length
                + "\r\nConnection: close\r\n\r\n";
        OutputStream out = s.getOutputStream();
        out.write(head.getBytes(StandardCharsets.ISO_8859_1));
        if (!method.equals("HEAD")) {
            out.write(bytes);
        }
        out.flush();
        s.shutdownOutput();
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }

    /** A JSON string: quotes and backslashes escaped, control characters (a label's newline, a terminal escape) as {@code \\u00XX}. */
    static String quote(String s) {
        StringBuilder b = new StringBuilder(s.length() + 2).append('"');
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c == '"' || c == '\\') {
                b.append('\\').append(c);
            } else if (c < 0x20 || c == 0x7f) {
                b.append(String.format("\\u%04x", (int) c));
            } else {
                b.append(c);
            }
        }
        return b.append('"').toString();
    }

    @Override
    public void close() {
        try {
            socket.close();
        } catch (IOException ignored) {
            // closing anyway
        }
        for (Socket s : open) {
            closeQuietly(s);
        }
        reaper.shutdownNow();
        Thread t = acceptor;
        if (t != null) {
            try {
                t.join(2000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
