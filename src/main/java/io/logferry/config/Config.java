package io.logferry.config;

import io.logferry.model.FieldTree;
import io.logferry.model.MultilineMatch;
import io.logferry.model.MultilineType;
import io.logferry.model.Priority;
import io.logferry.model.StartPosition;
import io.logferry.model.Streams;

import java.time.Duration;
import java.util.List;

/**
 * The agent's whole configuration: immutable, built once by {@link ConfigLoader} from the
 * defaults, the file and the environment, and validated there. Nothing reads configuration
 * anywhere else.
 */
public record Config(
        Docker docker,
        Selection selection,
        ContainerDefaults defaults,
        Output output,
        Queue queue,
        Elasticsearch elasticsearch,
        Labels labels,
        Limits limits,
        boolean setupEnabled,
        String kibanaUrl,
        Registry registry,
        Duration shutdownTimeout,
        Http http,
        Spool spool,
        Retention retention) {

    /** Without a retention (tests). */
    public Config(Docker docker, Selection selection, ContainerDefaults defaults, Output output, Queue queue, Elasticsearch elasticsearch,
                  Labels labels, Limits limits, boolean setupEnabled, String kibanaUrl, Registry registry, Duration shutdownTimeout,
                  Http http, Spool spool) {
        this(docker, selection, defaults, output, queue, elasticsearch, labels, limits, setupEnabled, kibanaUrl, registry, shutdownTimeout,
                http, spool, new Retention("", ""));
    }

    /**
     * {@code setup.data_retention} and {@code setup.ilm_policy}: how long the data streams the agent's
     * templates cover keep their documents (an Elasticsearch time value; empty: until deleted), and the
     * ILM policy they use instead where the cluster runs ILM (empty: none).
     */
    public record Retention(String dataRetention, String ilmPolicy) { }

    public enum ReadMode { AUTO, FILE, API }

    public enum SelectionMode { OPT_OUT, OPT_IN }

    public enum Output { ELASTICSEARCH, DISCARD }

    /**
     * How a TLS server's certificate is checked: {@code full} (chain and host name), {@code certificate}
     * (chain only), {@code none}. {@code elasticsearch.tls.verify} takes all three; {@code docker.tls.verify}
     * is a boolean in the file (Docker's own {@code DOCKER_TLS_VERIFY}) and reads as full or none.
     */
    public enum TlsVerify { FULL, CERTIFICATE, NONE }

    /** @param tlsVerify {@code FULL} or {@code NONE} ({@code docker.tls.verify: true|false}) */
    public record Docker(String host, String containersPath, ReadMode readMode,
                         String tlsCaFile, String tlsCertFile, String tlsKeyFile, TlsVerify tlsVerify) { }

    public record Selection(SelectionMode mode, List<String> includeLabels, List<String> excludeLabels,
                            boolean excludeSelf) { }

    public record Multiline(MultilineType type, String pattern, boolean negate, MultilineMatch match, int maxLines,
                            Duration timeout) { }

    /** @param pipeline {@code defaults.pipeline}: the ingest pipeline of every container without a pipeline label; "" none */
    public record ContainerDefaults(String dataset, String namespace, Streams streams,
                                    StartPosition startPosition, Multiline multiline, boolean json,
                                    String jsonMessageKey, int maxBytes, List<String> includeLines,
                                    List<String> excludeLines, String pipeline, String jsonTarget, int maxRate,
                                    Priority priority) {
        /** Without a default pipeline, JSON at the root, no rate limit, normal priority. */
        public ContainerDefaults(String dataset, String namespace, Streams streams, StartPosition startPosition, Multiline multiline,
                                 boolean json, String jsonMessageKey, int maxBytes, List<String> includeLines, List<String> excludeLines) {
            this(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes, includeLines, excludeLines, "", "",
                    0, Priority.NORMAL);
        }

        /** No rate limit, normal priority. */
        public ContainerDefaults(String dataset, String namespace, Streams streams, StartPosition startPosition, Multiline multiline,
                                 boolean json, String jsonMessageKey, int maxBytes, List<String> includeLines, List<String> excludeLines,
                                 String pipeline, String jsonTarget) {
            this(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes, includeLines, excludeLines,
                    pipeline, jsonTarget, 0, Priority.NORMAL);
        }

        /** Without a default pipeline, JSON at the root. */
        public ContainerDefaults(String dataset, String namespace, Streams streams, StartPosition startPosition, Multiline multiline,
                                 boolean json, String jsonMessageKey, int maxBytes, List<String> includeLines, List<String> excludeLines,
                                 int maxRate, Priority priority) {
            this(dataset, namespace, streams, startPosition, multiline, json, jsonMessageKey, maxBytes, includeLines, excludeLines, "", "",
                    maxRate, priority);
        }
    }

    /** @param weightHigh {@code queue.weights.high}, the lane weight of a container of that priority; the same for the others */
    public record Queue(int maxEvents, long maxBytes, int weightHigh, int weightNormal, int weightLow) {
        /** With the default weights (4, 2, 1). */
        public Queue(int maxEvents, long maxBytes) {
            this(maxEvents, maxBytes, Priority.HIGH.defaultWeight(), Priority.NORMAL.defaultWeight(), Priority.LOW.defaultWeight());
        }

        /** The queue weight of a container of priority {@code p}. */
        public int weight(Priority p) {
            return switch (p) {
                case HIGH -> weightHigh;
                case NORMAL -> weightNormal;
                case LOW -> weightLow;
            };
        }
    }

    public record Elasticsearch(List<String> hosts, String username, String password, String apiKey,
                                String tlsCaFile, String tlsCaFingerprint, TlsVerify tlsVerify,
                                int bulkMaxEvents, long bulkMaxBytes, Duration flushInterval, int workers,
                                Duration timeout, Duration backoffInitial, Duration backoffMax,
                                String deadLetter, String proxyUrl, String tlsCertFile, String tlsKeyFile) {
        /** Without a proxy or a client certificate (tests). */
        public Elasticsearch(List<String> hosts, String username, String password, String apiKey,
                             String tlsCaFile, String tlsCaFingerprint, TlsVerify tlsVerify,
                             int bulkMaxEvents, long bulkMaxBytes, Duration flushInterval, int workers,
                             Duration timeout, Duration backoffInitial, Duration backoffMax, String deadLetter) {
            this(hosts, username, password, apiKey, tlsCaFile, tlsCaFingerprint, tlsVerify, bulkMaxEvents, bulkMaxBytes, flushInterval,
                    workers, timeout, backoffInitial, backoffMax, deadLetter, "", "", "");
        }

        @Override
        public String toString() {
            return "Elasticsearch[hosts=" + hosts + ", username=" + username
                    + ", password=" + Secrets.mask(password) + ", apiKey=" + Secrets.mask(apiKey) + "]";
        }
    }

    /**
     * What container labels may choose (labels are untrusted input): globs of allowed datasets,
     * namespaces and ingest pipelines, and how many distinct data streams labels may create.
     */
    public record Labels(List<String> allowedDatasets, List<String> allowedNamespaces, int maxDataStreams,
                         List<String> allowedPipelines) { }

    /**
     * Ceilings that labels and {@code defaults} may lower, never raise.
     *
     * @param processorsMaxCount       processors in one container's chain (labels)
     * @param processorMaxValueBytes   one processor option's value (a tokenizer, a field value), UTF-8 bytes
     * @param processorMaxFields       keys, fields, tags or conditions of one processor
     * @param maxRate     {@code limits.max_rate}: events a second any container may be read at most; 0: no ceiling
     * @param maxPriority {@code limits.max_priority}: the highest priority a label may claim
     * @param fieldMaxDepth    {@code limits.field_max_depth}: the deepest level of a content field ({@link FieldTree})
     * @param fieldMaxCount    {@code limits.field_max_count}: fields, objects and array elements of one document's content
     * @param fieldMaxKeyBytes {@code limits.field_max_key_bytes}: one content key, UTF-8 bytes
     * @param buffersMaxBytes {@code limits.buffers_max_bytes}: UTF-8 bytes all per-container buffers may hold together
     */
    public record Limits(int maxBytes, int multilineMaxLines, Duration multilineMaxTimeout, int regexMaxLength,
                         int regexMaxCount, int containerLabelsMaxCount, int containerLabelsMaxBytes,
                         int heldFilesPerContainer, long heldBytesTotal,
                         int processorsMaxCount, int processorMaxValueBytes, int processorMaxFields, int maxRate, Priority maxPriority,
                         int fieldMaxDepth, int fieldMaxCount, int fieldMaxKeyBytes, long buffersMaxBytes) {
        /**
         * {@code limits.buffers_max_bytes}'s default: the UTF-8 bytes all per-container buffers (partial lines, multiline
         * events, the API's line buffers) may hold together. They take at most twice that in the heap (builders grow by
         * doubling); with the queue's 64 MiB and two bulk requests in flight, that fits the image's {@code -Xmx192m}.
         */
        public static final long BUFFERS_MAX_BYTES = 16L * 1024 * 1024;

        public static final int PROCESSORS_MAX_COUNT = 16;
        public static final int PROCESSOR_MAX_VALUE_BYTES = 4096;
        public static final int PROCESSOR_MAX_FIELDS = 64;

        /** With the default field limits and {@code buffers_max_bytes}. */
        public Limits(int maxBytes, int multilineMaxLines, Duration multilineMaxTimeout, int regexMaxLength, int regexMaxCount,
                      int containerLabelsMaxCount, int containerLabelsMaxBytes, int heldFilesPerContainer, long heldBytesTotal,
                      int processorsMaxCount, int processorMaxValueBytes, int processorMaxFields, int maxRate, Priority maxPriority) {
            this(maxBytes, multilineMaxLines, multilineMaxTimeout, regexMaxLength, regexMaxCount, containerLabelsMaxCount,
                    containerLabelsMaxBytes, heldFilesPerContainer, heldBytesTotal, processorsMaxCount, processorMaxValueBytes,
                    processorMaxFields, maxRate, maxPriority, FieldTree.Limits.DEFAULTS.maxDepth(), FieldTree.Limits.DEFAULTS.maxFields(),
                    FieldTree.Limits.DEFAULTS.maxKeyBytes(), BUFFERS_MAX_BYTES);
        }

        /** {@code limits.field_*} as the field tree takes them. */
        public FieldTree.Limits fieldLimits() {
            return new FieldTree.Limits(fieldMaxDepth, fieldMaxCount, fieldMaxKeyBytes);
        }

        /** With the default processor limits, without a rate ceiling, every priority allowed. */
        public Limits(int maxBytes, int multilineMaxLines, Duration multilineMaxTimeout, int regexMaxLength, int regexMaxCount,
                      int containerLabelsMaxCount, int containerLabelsMaxBytes, int heldFilesPerContainer, long heldBytesTotal) {
            this(maxBytes, multilineMaxLines, multilineMaxTimeout, regexMaxLength, regexMaxCount, containerLabelsMaxCount,
                    containerLabelsMaxBytes, heldFilesPerContainer, heldBytesTotal, PROCESSORS_MAX_COUNT, PROCESSOR_MAX_VALUE_BYTES,
                    PROCESSOR_MAX_FIELDS, 0, Priority.HIGH);
        }

        /** Without a rate ceiling, every priority allowed. */
        public Limits(int maxBytes, int multilineMaxLines, Duration multilineMaxTimeout, int regexMaxLength, int regexMaxCount,
                      int containerLabelsMaxCount, int containerLabelsMaxBytes, int heldFilesPerContainer, long heldBytesTotal,
                      int processorsMaxCount, int processorMaxValueBytes, int processorMaxFields) {
            this(maxBytes, multilineMaxLines, multilineMaxTimeout, regexMaxLength, regexMaxCount, containerLabelsMaxCount,
                    containerLabelsMaxBytes, heldFilesPerContainer, heldBytesTotal, processorsMaxCount, processorMaxValueBytes,
                    processorMaxFields, 0, Priority.HIGH);
        }

        /** With the default processor limits. */
        public Limits(int maxBytes, int multilineMaxLines, Duration multilineMaxTimeout, int regexMaxLength, int regexMaxCount,
                      int containerLabelsMaxCount, int containerLabelsMaxBytes, int heldFilesPerContainer, long heldBytesTotal,
                      int maxRate, Priority maxPriority) {
            this(maxBytes, multilineMaxLines, multilineMaxTimeout, regexMaxLength, regexMaxCount, containerLabelsMaxCount,
                    containerLabelsMaxBytes, heldFilesPerContainer, heldBytesTotal, PROCESSORS_MAX_COUNT, PROCESSOR_MAX_VALUE_BYTES,
                    PROCESSOR_MAX_FIELDS, maxRate, maxPriority);
        }

        /** The limits when nothing is configured (tests, benchmarks). */
        public static Limits defaults() {
            return new Limits(10 * 1024 * 1024, 10_000, Duration.ofMinutes(1), 1024, 32, 100, 16_384, 4, 1L << 30);
        }
    }

    public record Registry(String path, Duration flushInterval) { }

    /**
     * {@code http.*}: where {@code /health}, {@code /ready} and {@code /metrics} listen; {@code stuckAfter}: how long a stage of
     * the agent may hold work without moving before {@code /health} fails (the liveness the image's HEALTHCHECK asks).
     */
    public record Http(boolean enabled, String host, int port, Duration stuckAfter) { }

    /**
     * {@code spool.*}: where unacknowledged bytes of files about to be lost go; {@code path} resolved ("" → beside the registry);
     * {@code maxSegmentsPerContainer}: the segments one container may have in it.
     */
    public record Spool(String path, long maxBytes, int maxSegmentsPerContainer) {
        /** With {@code max_segments_per_container}'s default (1000, as logferry-defaults.yml says). */
        public Spool(String path, long maxBytes) {
            this(path, maxBytes, 1000);
        }
    }
}
