package io.logferry.http;

import io.logferry.config.Config;
import io.logferry.elasticsearch.EsErrors;
import org.apache.http.client.config.RequestConfig;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.RequestOptions;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Asks Elasticsearch every few seconds whether it answers ({@code GET /_cluster/health}, a cheap
 * read), so that {@code /health} says 503 during an outage even when no bulk request is in flight
 * to notice it. Owns its client and its one thread ({@code logferry-es-probe}); each probe is
 * bounded by a short timeout. A 403 counts as reachable (the user may write but not monitor);
 * 401 and no answer do not. Changes are logged once, not at every probe.
 *
 * <p>While Elasticsearch does not answer, it asks every {@link #WHILE_DOWN} instead (a refused
 * connection costs nothing), and the first answer after none is handed to {@code onAnswer} at
 * once: the agent makes its output's circuit breaker half-open then, so that the backlog flows
 * within a second of the cluster answering instead of after the rest of the breaker's backoff.
 *
 * <p>Thread-safety: {@link #probe()} runs on the probe's thread only; {@link #problem()} is a
 * volatile read for any thread; {@code onAnswer} runs on the probe's thread and must be quick.
 */
public final class ElasticsearchProbe implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ElasticsearchProbe.class);

    /** How often Elasticsearch is asked while it answers. */
    public static final Duration EVERY = Duration.ofSeconds(3);
    /** How often it is asked while it does not: how soon its return is noticed. */
    public static final Duration WHILE_DOWN = Duration.ofMillis(500);

    private final RestClient client;
    private final Config.Elasticsearch config;
    private final Duration every;
    private final RequestOptions options;
    private final ScheduledExecutorService timer;
    private final Runnable onAnswer;
    private volatile String problem = "not reached yet";

    public ElasticsearchProbe(RestClient client, Config.Elasticsearch config, Duration every) {
        this(client, config, every, () -> { });
    }

    /** @param onAnswer called on the probe's thread when Elasticsearch answers after it did not (and at the first answer) */
    public ElasticsearchProbe(RestClient client, Config.Elasticsearch config, Duration every, Runnable onAnswer) {
        this.client = client;
        this.config = config;
        this.every = every;
        this.onAnswer = onAnswer;
        int timeout = (int) Math.max(500, Math.min(every.toMillis(), 5000));
        this.options = RequestOptions.DEFAULT.toBuilder().setRequestConfig(RequestConfig.custom()
                .setConnectTimeout(timeout).setSocketTimeout(timeout).setConnectionRequestTimeout(timeout).build()).build();
        this.timer = Executors.newSingleThreadScheduledExecutor(r -> {
            Thread t = new Thread(r, "logferry-es-probe");
            t.setDaemon(true);
            return t;
        });
    }

    public void start() {
        timer.execute(this::tick);
    }

    /** One probe, then the next one: sooner while Elasticsearch does not answer. */
    private void tick() {
        try {
            probe();
        } catch (Error e) {
            // a scheduled executor would keep it in its Future: hand it to the process's handler
            Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), e);
            return;
        }
        if (!timer.isShutdown()) {
            try {
                timer.schedule(this::tick, next(problem == null, every).toMillis(), TimeUnit.MILLISECONDS);
            } catch (java.util.concurrent.RejectedExecutionException closing) {
                // closed meanwhile
            }
        }
    }

    /** The wait before the next probe: {@code every} while Elasticsearch answers, at most {@link #WHILE_DOWN} while not. Pure. */
    static Duration next(boolean answers, Duration every) {
        return answers || every.compareTo(WHILE_DOWN) < 0 ? every : WHILE_DOWN;
    }

    /** Null when the last probe got an answer, else why not. */
    public String problem() {
        return problem;
    }

    /** One probe, on the caller's thread (the timer's, or a test's). */
    void probe() {
        String now = ask();
        String before = problem;
        problem = now;
        if (now == null && before != null) {
            if (!before.equals("not reached yet")) {
                log.info("elasticsearch answers again");
            }
            onAnswer.run();
        } else if (now != null && !now.equals(before)) {
            log.warn("elasticsearch probe: {}", now);
        }
    }

    private String ask() {
        Request r = new Request("GET", "/_cluster/health");
        r.addParameter("timeout", "1s");
        r.setOptions(options);
        try {
            client.performRequest(r);
            return null;
        } catch (ResponseException e) {
            int status = EsErrors.status(e);
            // 403: authenticated but not allowed to monitor: Elasticsearch is there.
            // 408 and 503 from _cluster/health: answered, but no master or timed out: not usable.
            return status == 403 ? null : EsErrors.describe(e, config);
        } catch (IOException | RuntimeException e) {
            return EsErrors.describe(e, config);
        }
    }

    @Override
    public void close() {
        timer.shutdownNow();
        try {
            timer.awaitTermination(2, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        try {
            client.close();
        } catch (IOException ignored) {
            // closing anyway
        }
    }
}
