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
 */
public final class ElasticsearchProbe implements AutoCloseable {
    private static final Logger log = LoggerFactory.getLogger(ElasticsearchProbe.class);

    private final RestClient client;
    private final Config.Elasticsearch config;
    private final Duration every;
    private final RequestOptions options;
    private final ScheduledExecutorService timer;
    private volatile String problem = "not reached yet";

    public ElasticsearchProbe(RestClient client, Config.Elasticsearch config, Duration every) {
        this.client = client;
        this.config = config;
        this.every = every;
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
        timer.scheduleWithFixedDelay(() -> {
            try {
                probe();
            } catch (Error e) {
                // a scheduled executor would keep it in its Future: hand it to the process's handler
                Thread.currentThread().getUncaughtExceptionHandler().uncaughtException(Thread.currentThread(), e);
            }
        }, 0, every.toMillis(), TimeUnit.MILLISECONDS);
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
        if (now == null && before != null && !before.equals("not reached yet")) {
            log.info("elasticsearch answers again");
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
