package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.logferry.config.Config;
import io.logferry.metrics.Metrics;
import io.logferry.model.DataStream;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Makes sure a data stream template covers every dataset a label chooses before its first
 * document: the main template covers {@code logs-docker*}; a container with
 * {@code logferry.dataset=nginx} gets the same mappings as template {@code logferry-nginx} for
 * {@code logs-nginx-*}. Without it, the first write would create a plain index, not a data
 * stream, with dynamic mappings. Installed once per dataset per run; retried while Elasticsearch
 * does not answer (1 s doubling to 30 s, cut short when the output sees the cluster answer again).
 *
 * <p>Only where logferry owns the pattern ({@link Templates#decide}): when a template named
 * {@code logferry-<dataset>} exists that logferry did not put, or a template of someone else's
 * is specific to the dataset's streams, or Elasticsearch refuses the template (4xx: a foreign
 * template of the same priority overlaps it, for one), none is put: a warning naming the
 * template and the dataset is logged once, {@code logferry_templates_skipped_total} counts it,
 * and the containers ship all the same (their streams use whatever template matches).
 *
 * <p>Thread-safe: tailers of several containers call {@link #ensure} at once; one install at a time.
 */
public final class DatasetTemplates {
    private static final Logger log = LoggerFactory.getLogger(DatasetTemplates.class);

    private final RestClient client;
    private final Metrics metrics;
    private final Set<String> done = ConcurrentHashMap.newKeySet();
    private final Pause pause;
    private final Config.Retention retention;
    /** What the cluster can do with the retention: asked at the first install. */
    private Setup.Lifecycle lifecycle;

    /** The wait between attempts: true when it ended early because Elasticsearch answers again. */
    @FunctionalInterface
    public interface Pause {
        boolean pause(long millis) throws InterruptedException;
    }

    public DatasetTemplates(RestClient client) {
        this(client, null);
    }

    /** @param metrics where templates left alone are counted; null: not counted */
    public DatasetTemplates(RestClient client, Metrics metrics) {
        this(client, metrics, ms -> {
            Thread.sleep(ms);
            return false;
        });
    }

    /** @param pause how to wait between attempts: the output's, which ends when the cluster answers again */
    public DatasetTemplates(RestClient client, Metrics metrics, Pause pause) {
        this(client, metrics, pause, new Config.Retention("", ""));
    }

    /** @param retention {@code setup.data_retention} and {@code setup.ilm_policy}: each dataset's template gets them as the main one does */
    public DatasetTemplates(RestClient client, Metrics metrics, Pause pause, Config.Retention retention) {
        this.client = client;
        this.metrics = metrics;
        this.pause = pause;
        this.retention = retention;
        done.add("docker");
        done.add("logferry.deadletter");
    }

    /** Returns once the dataset's template exists or is known not to be ours to put (blocking, with backoff, while Elasticsearch is away). */
    public void ensure(String dataset) throws InterruptedException {
        // logs-docker* and logs-logferry* are the main template's own patterns
        if (client == null || done.contains(dataset) || dataset.startsWith("docker") || dataset.startsWith("logferry")) {
            return;
        }
        long wait = 1000;
        while (true) {
            try {
                install(dataset);
                done.add(dataset);
                return;
            } catch (ResponseException e) {
                int status = EsErrors.status(e);
                if (status >= 400 && status < 500 && status != 408 && status != 429) {
                    // refused as it is: trying again would refuse it again, and hold the container's tailer
                    Setup.skipped(metrics, "refused");
                    done.add(dataset);
                    log.warn("elasticsearch refused the index template 'logferry-{}' for dataset '{}' ({} {}); not retried: "
                            + "data streams logs-{}-* use whatever template matches them", dataset, dataset, status,
                            EsErrors.reason(e), dataset);
                    return;
                }
                retryLater(dataset, e, wait);
            } catch (IOException e) {
                retryLater(dataset, e, wait);
            }
            // the cluster back: try now, and from the first wait again should it fail once more
            wait = pause.pause(wait) ? 1000 : Math.min(wait * 2, 30_000);
        }
    }

    private static void retryLater(String dataset, IOException e, long wait) {
        log.warn("cannot install the index template for dataset '{}' yet ({}); its containers wait, retrying in {} ms",
                dataset, e.getMessage(), wait);
    }

    private synchronized void install(String dataset) throws IOException {
        if (done.contains(dataset)) {
            return;
        }
        String name = "logferry-" + dataset;
        String pattern = DataStream.logsPattern(dataset);
        Templates.Decision d = Templates.decide(name, pattern, Setup.existing(client, "*"));
        if (d instanceof Templates.Decision.NotOurs) {
            Setup.skipped(metrics, "not_ours");
            log.warn("index template '{}' exists and was not put by logferry: left as it is, dataset '{}' ({}) uses it",
                    name, dataset, pattern);
            return;
        }
        if (d instanceof Templates.Decision.WouldShadow w) {
            Setup.skipped(metrics, "would_shadow");
            log.warn("index template '{}' (pattern {}, priority {}) of someone else's covers dataset '{}': logferry does not put "
                    + "'{}' over it, data streams {} use it", w.name(), w.pattern(), w.priority(), dataset, name, pattern);
            return;
        }
        if (lifecycle == null) {
            lifecycle = Setup.lifecycle(client, retention);
        }
        ObjectNode template = Setup.template(lifecycle, Setup.components(client));
        template.putArray("index_patterns").add(pattern);
        Setup.put(client, name, template);
        log.info("index template '{}' installed for data streams {}", name, pattern);
    }
}
