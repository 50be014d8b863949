package io.logferry.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import com.github.dockerjava.api.model.Info;
import com.github.dockerjava.api.model.Version;
import io.logferry.config.Config;
import io.logferry.config.Secrets;
import io.logferry.docker.Discovery;
import io.logferry.docker.DockerConnection;
import io.logferry.docker.Inspect;
import io.logferry.elasticsearch.EsConnection;
import io.logferry.elasticsearch.EsErrors;
import io.logferry.elasticsearch.KibanaSetup;
import io.logferry.elasticsearch.Setup;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.DataStream;
import io.logferry.model.LinePattern;
import io.logferry.model.MultilineType;
import io.logferry.model.Printable;
import io.logferry.selection.DataStreamBudget;
import io.logferry.selection.Selector;
import org.apache.http.util.EntityUtils;
import org.elasticsearch.client.Request;
import org.elasticsearch.client.Response;
import org.elasticsearch.client.ResponseException;
import org.elasticsearch.client.RestClient;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;

/**
 * {@code logferry check}: the config as loaded (secrets masked), whether Docker, Elasticsearch and
 * (when set) Kibana answer with the configured credentials, and what would be shipped: every
 * container with the decision of {@link Selector} and the settings its labels give. Findings go to
 * stdout; each problem is one line on stderr ({@code elasticsearch: authentication failed for user
 * logferry (401)}). Exit 0 when everything needed is reachable, 1 otherwise (2, a bad config, is
 * decided before this runs). Reads only: it changes nothing anywhere.
 */
final class CheckCommand {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final Config config;
    private final Path configFile;
    private final PrintStream out;
    private final PrintStream err;
    private int problems;
    private boolean esReachable;
    /** The data streams the selected containers write to, and the dead-letter stream. */
    private final java.util.SortedSet<String> dataStreams = new java.util.TreeSet<>();

    CheckCommand(Config config, Path configFile, PrintStream out, PrintStream err) {
        this.config = config;
        this.configFile = configFile;
        this.out = out;
        this.err = err;
    }

    int run() {
        config();
        DockerClient docker = docker();
        elasticsearch();
        kibana();
        if (docker != null) {
            containers(docker);
            try {
                docker.close();
            } catch (IOException ignored) {
                // nothing to do
            }
        }
        privileges();
        out.println(problems == 0 ? "check: ok" : "check: " + problems + (problems == 1 ? " problem" : " problems"));
        return problems == 0 ? 0 : 1;
    }

    private void problem(String line) {
        problems++;
        err.println(line);
    }

    // ---- config ----

    private void config() {
        Config.Elasticsearch es = config.elasticsearch();
        out.println("config: ok (" + (configFile == null ? "built-in defaults and LOGFERRY_* environment" : configFile) + ")");
        Config.Docker d = config.docker();
        out.println("  docker: host " + d.host() + ", containers_path " + d.containersPath() + ", read_mode "
                + lower(d.readMode()));
        out.println("  selection: mode " + lower(config.selection().mode()) + ", include_labels " + config.selection().includeLabels()
                + ", exclude_labels " + config.selection().excludeLabels() + ", exclude_self " + config.selection().excludeSelf());
        out.println("  output: " + lower(config.output()));
        if (config.output() == Config.Output.ELASTICSEARCH) {
            out.println("  elasticsearch: hosts " + EsErrors.hosts(es.hosts()) + ", " + credentials(es) + ", tls " + tls(es)
                    + (es.proxyUrl().isEmpty() ? "" : ", through proxy " + EsErrors.hosts(java.util.List.of(es.proxyUrl()))));
            out.println("  elasticsearch: bulk_max_events " + es.bulkMaxEvents() + ", bulk_max_bytes " + es.bulkMaxBytes()
                    + ", flush_interval " + es.flushInterval().toMillis() + "ms, workers " + es.workers()
                    + ", dead_letter " + es.deadLetter());
        }
        out.println("  setup.enabled " + config.setupEnabled() + ", kibana.url " + (config.kibanaUrl().isBlank() ? "(not set)" : config.kibanaUrl())
                + ", retention " + (!config.retention().ilmPolicy().isEmpty() ? "ILM policy " + config.retention().ilmPolicy()
                : config.retention().dataRetention().isEmpty() ? "none (documents kept until deleted)" : config.retention().dataRetention()));
        out.println("  queue: max_events " + config.queue().maxEvents() + ", max_bytes " + config.queue().maxBytes()
                + "; registry " + config.registry().path() + "; http " + (config.http().enabled()
                ? config.http().host() + ":" + config.http().port() : "off"));
    }

    static String credentials(Config.Elasticsearch es) {
        if (!es.apiKey().isEmpty()) {
            return "api_key " + Secrets.mask(es.apiKey()) + (es.username().isEmpty() ? "" : " (wins over username " + es.username() + ")");
        }
        if (!es.username().isEmpty()) {
            return "username " + es.username() + ", password " + (es.password().isEmpty() ? "(empty)" : Secrets.mask(es.password()));
        }
        return "no credentials";
    }

    private static String tls(Config.Elasticsearch es) {
        List<String> parts = new ArrayList<>();
        parts.add("verify " + lower(es.tlsVerify()));
        if (!es.tlsCaFile().isEmpty()) {
            parts.add("ca_file " + es.tlsCaFile());
        }
        if (!es.tlsCaFingerprint().isEmpty()) {
            parts.add("ca_fingerprint " + es.tlsCaFingerprint());
        }
        if (!es.tlsCertFile().isEmpty()) {
            parts.add("client certificate " + es.tlsCertFile());
        }
        return String.join(", ", parts);
    }

    // ---- docker ----

    private DockerClient docker() {
        Config.Docker d = config.docker();
        DockerClient docker = null;
        try {
            docker = DockerConnection.connect(d);
            Version v = docker.versionCmd().exec();
            Info info = docker.infoCmd().exec();
            out.println("docker: ok: Docker " + v.getVersion() + " (API " + v.getApiVersion() + ") at " + d.host()
                    + ", host name " + info.getName() + ", " + info.getContainers() + " containers");
        } catch (RuntimeException e) {
            problem("docker: cannot reach " + d.host() + " (" + rootMessage(e) + ")");
            if (docker != null) {
                try {
                    docker.close();
                } catch (IOException ignored) {
                    // it never worked
                }
            }
            return null;
        }
        Path containers = Path.of(d.containersPath());
        if (Files.isDirectory(containers) && Files.isReadable(containers)) {
            out.println("  " + d.containersPath() + ": readable (logs are read from the json-file logs)");
        } else if (d.readMode() == Config.ReadMode.FILE) {
            problem("docker: " + d.containersPath() + " is not a readable directory, and docker.read_mode is file: mount it read-only");
        } else {
            out.println("  " + d.containersPath() + ": not readable here" + (d.readMode() == Config.ReadMode.AUTO
                    ? " (read_mode auto: logs come through the Docker logs API)" : ""));
        }
        return docker;
    }

    // ---- elasticsearch ----

    private void elasticsearch() {
        if (config.output() != Config.Output.ELASTICSEARCH) {
            out.println("elasticsearch: skipped (output is " + lower(config.output()) + ")");
            return;
        }
        Config.Elasticsearch es = config.elasticsearch();
        try (RestClient client = EsConnection.build(es)) {
            JsonNode health = json(client.performRequest(new Request("GET", "/_cluster/health")));
            StringBuilder line = new StringBuilder("elasticsearch: ok: cluster ").append(health.path("cluster_name").asText("?"))
                    .append(" (status ").append(health.path("status").asText("?")).append(") at ").append(EsErrors.hosts(es.hosts()));
            String version = version(client);
            if (!version.isEmpty()) {
                line.append(", version ").append(version);
            }
            String user = authenticatedAs(client, es);
            if (!user.isEmpty()) {
                line.append(", authenticated as ").append(user);
            }
            out.println(line);
            out.println("  index template '" + Setup.TEMPLATE + "': " + template(client));
            esReachable = true;
        } catch (Exception e) {
            problem("elasticsearch: " + EsErrors.describe(e, es));
        }
    }

    /** {@code GET /}'s version; empty where the cluster does not serve it (or the user may not see it). */
    private static String version(RestClient client) {
        try {
            return json(client.performRequest(new Request("GET", "/"))).path("version").path("number").asText("");
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String authenticatedAs(RestClient client, Config.Elasticsearch es) {
        if (es.apiKey().isEmpty() && es.username().isEmpty()) {
            return "";
        }
        try {
            JsonNode n = json(client.performRequest(new Request("GET", "/_security/_authenticate")));
            String name = n.path("username").asText("");
            String key = n.path("api_key").path("name").asText("");
            return key.isEmpty() ? name : name + " (API key " + key + ")";
        } catch (IOException | RuntimeException e) {
            return "";
        }
    }

    private static String template(RestClient client) {
        try {
            JsonNode r = json(client.performRequest(new Request("GET", "/_index_template/" + Setup.TEMPLATE)));
            JsonNode t = r.path("index_templates").path(0).path("index_template");
            return t.isMissingNode() || io.logferry.elasticsearch.Templates.ours(t) ? "installed"
                    : "a template named '" + Setup.TEMPLATE + "' exists that logferry did not put (no _meta.managed_by: logferry): left as it is";
        } catch (ResponseException e) {
            int status = EsErrors.status(e);
            return status == 404 ? "not installed yet (`logferry setup` installs it; so does `run` unless setup.enabled is false)"
                    : "unknown (" + status + ")";
        } catch (IOException e) {
            return "unknown (" + e.getMessage() + ")";
        }
    }

    private static JsonNode json(Response r) throws IOException {
        return r.getEntity() == null ? JSON.createObjectNode() : JSON.readTree(EntityUtils.toString(r.getEntity()));
    }

    // ---- kibana ----

    private void kibana() {
        String url = config.kibanaUrl();
        if (url.isBlank()) {
            return;
        }
        try {
            String version = new KibanaSetup(url, config.elasticsearch()).status();
            out.println("kibana: ok: Kibana " + version + " at " + url);
        } catch (KibanaSetup.KibanaException e) {
            problem(e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            problem("kibana: interrupted");
        } catch (Exception e) {
            problem("kibana: cannot reach " + url + " (" + rootMessage(e) + ")");
        }
    }

    // ---- containers ----

    private void containers(DockerClient docker) {
        List<ContainerInfo> all = new ArrayList<>();
        try {
            for (Container c : docker.listContainersCmd().withShowAll(true).exec()) {
                ContainerInfo info = Inspect.container(docker, c.getId());
                if (info != null) {
                    all.add(info);
                }
            }
        } catch (RuntimeException e) {
            problem("docker: cannot list containers (" + rootMessage(e) + ")");
            return;
        }
        // decided in Docker's list order, the order in which an agent started now meets them (the data-stream cap
        // admits streams first come, first served), then shown by name
        Selector selector = new Selector(config, Discovery.selfContainerId());
        DataStreamBudget budget = new DataStreamBudget(config);
        Map<ContainerInfo, Selector.Decision> decisions = new java.util.LinkedHashMap<>();
        for (ContainerInfo c : all) {
            decisions.put(c, budget.apply(selector.decide(c)));
        }
        all.sort(Comparator.comparing(ContainerInfo::name));
        List<String> shipped = new ArrayList<>();
        List<String> skipped = new ArrayList<>();
        int count = 0;
        for (ContainerInfo c : all) {
            Selector.Decision d = decisions.get(c);
            String state = c.running() ? "running" : "stopped";
            List<String> lines = d.selected() ? shipped : skipped;
            if (d.selected()) {
                count++;
                ContainerSettings s = d.settings().orElseThrow();
                dataStreams.addAll(s.dataStreams());
                shipped.add("  ship  " + c.describe() + " [" + state + ", " + c.logDriver() + "] -> " + streams(s) + ": " + settings(s));
                if (s.module() != null) {
                    for (String dataset : s.datasets()) {
                        shipped.add("        module " + s.module() + ", " + DataStream.logs(dataset, s.namespace()) + ": " + integration(dataset));
                    }
                }
                for (String p : s.processors().describe()) {
                    shipped.add("        processor " + p);     // the effective chain, in the order it runs
                }
            } else {
                skipped.add("  skip  " + c.describe() + " [" + state + "]: " + d.reason());
            }
            for (Selector.Refusal r : d.refusals()) {
                lines.add("        refused (" + r.reason() + "): " + r.message());
            }
        }
        out.println("containers: " + count + " of " + all.size() + " would be shipped"
                + (budget.size() == 0 ? "" : "; " + budget.size() + " data streams chosen by labels (labels.max_data_streams "
                + config.labels().maxDataStreams() + ")"));
        // names, label keys and values are untrusted: one line each, no control character reaches the terminal
        shipped.forEach(l -> out.println(Printable.escape(l)));
        skipped.forEach(l -> out.println(Printable.escape(l)));
    }

    /** The data stream of the container's lines, or of each stream when a module sends them to two. */
    static String streams(ContainerSettings s) {
        return s.stderrDataset() == null ? s.dataStream()
                : s.dataStream("stdout") + " (stdout), " + s.dataStream("stderr") + " (stderr)";
    }

    /** What the cluster has for a module's dataset (template, pipeline), asked once per dataset. */
    private String integration(String dataset) {
        if (!esReachable) {
            return "the integration's index template and ingest pipeline not checked (Elasticsearch not reachable)";
        }
        return integrations.computeIfAbsent(dataset, d -> {
            try (RestClient client = EsConnection.build(config.elasticsearch())) {
                return io.logferry.elasticsearch.Integrations.check(client, d);
            } catch (Exception e) {
                return "the integration's index template and ingest pipeline not checked (" + rootMessage(e) + ")";
            }
        });
    }

    private final Map<String, String> integrations = new java.util.HashMap<>();

    // ---- privileges ----

    /**
     * With security on, whether the credentials may do what the agent does: create documents (and
     * the data stream on the first one) in every data stream the selected containers use and in
     * the dead-letter stream, and install index templates when {@code setup.enabled}. Asked with
     * {@code _has_privileges}, which changes nothing; skipped where security is off.
     */
    private void privileges() {
        Config.Elasticsearch es = config.elasticsearch();
        if (!esReachable || (es.username().isEmpty() && es.apiKey().isEmpty())) {
            return;
        }
        java.util.SortedSet<String> streams = new java.util.TreeSet<>(dataStreams);
        streams.add(DataStream.logs(config.defaults().dataset(), config.defaults().namespace()).name());
        streams.add(es.deadLetter());
        com.fasterxml.jackson.databind.node.ObjectNode q = JSON.createObjectNode();
        if (config.setupEnabled()) {
            q.putArray("cluster").add("manage_index_templates");
        }
        com.fasterxml.jackson.databind.node.ObjectNode idx = q.putArray("index").addObject();
        streams.forEach(idx.putArray("names")::add);
        idx.putArray("privileges").add("create_doc").add("auto_configure");
        try (RestClient client = EsConnection.build(es)) {
            Request r = new Request("POST", "/_security/user/_has_privileges");
            r.setJsonEntity(q.toString());
            JsonNode n = json(client.performRequest(r));
            List<String> missing = new ArrayList<>();
            n.path("cluster").fields().forEachRemaining(f -> {
                if (!f.getValue().asBoolean()) {
                    missing.add(f.getKey() + " on the cluster (setup.enabled is true)");
                }
            });
            Map<String, List<String>> byLack = new java.util.TreeMap<>();   // "auto_configure and create_doc" -> streams
            n.path("index").fields().forEachRemaining(f -> {
                List<String> lacks = new ArrayList<>();
                f.getValue().fields().forEachRemaining(p -> {
                    if (!p.getValue().asBoolean()) {
                        lacks.add(p.getKey());
                    }
                });
                if (!lacks.isEmpty()) {
                    byLack.computeIfAbsent(String.join(" and ", new java.util.TreeSet<>(lacks)), k -> new ArrayList<>()).add(f.getKey());
                }
            });
            byLack.forEach((lacks, names) -> missing.add(lacks + " on " + String.join(", ", names)));
            if (missing.isEmpty()) {
                out.println("  privileges: ok (create_doc and auto_configure on " + String.join(", ", streams)
                        + (config.setupEnabled() ? "; manage_index_templates" : "") + ")");
            } else {
                problem("elasticsearch: " + (es.apiKey().isEmpty() ? "user " + es.username() : "the API key") + " lacks "
                        + String.join("; ", missing));
            }
        } catch (Exception e) {
            out.println("  privileges: not checked (" + (e instanceof ResponseException ? EsErrors.describe(e, es) : rootMessage(e)) + ")");
        }
    }

    static String settings(ContainerSettings s) {
        StringBuilder b = new StringBuilder();
        b.append("streams ").append(lower(s.streams()));
        b.append(", start ").append(lower(s.startPosition()));
        ContainerSettings.MultilineRule m = s.multiline();
        b.append(", multiline ").append(m.type());
        if (m.type() == MultilineType.CUSTOM) {
            b.append(" /").append(m.pattern()).append("/ negate ").append(m.negate()).append(" match ")
                    .append(m.matchAfter() ? "after" : "before");
        }
        b.append(", json ").append(s.json());
        if (s.json()) {
            // how Filebeat's json.* hints were read: where the keys go, overwrite_keys, add_error_key
            List<String> how = new ArrayList<>();
            if (!s.jsonMessageKey().isEmpty()) {
                how.add("message_key " + s.jsonMessageKey());
            }
            how.add(s.jsonTarget().isEmpty() ? "keys at the root" : "keys under " + s.jsonTarget());
            if (s.jsonOptions().overwriteKeys()) {
                how.add("overwrite_keys");
            }
            if (!s.jsonOptions().addErrorKey()) {
                how.add("no error key");
            }
            b.append(" (").append(String.join(", ", how)).append(')');
        }
        b.append(", max_bytes ").append(s.maxBytes());
        if (!s.includeLines().isEmpty()) {
            b.append(", include_lines ").append(patterns(s.includeLines()));
        }
        if (!s.excludeLines().isEmpty()) {
            b.append(", exclude_lines ").append(patterns(s.excludeLines()));
        }
        if (!s.fields().isEmpty()) {
            b.append(", fields ").append(new java.util.TreeMap<>(s.fields()));
        }
        if (s.pipeline() != null) {
            b.append(", pipeline ").append(s.pipeline());
        }
        return b.toString();
    }

    private static String patterns(List<LinePattern> ps) {
        return ps.stream().map(LinePattern::source).collect(Collectors.joining(", ", "[", "]"));
    }

    private static String lower(Enum<?> e) {
        return e.name().toLowerCase(Locale.ROOT).replace('_', '-');
    }

    /** The most telling exception of a chain: a connect, host, TLS or timeout failure when there is one, else the root. */
    static String rootMessage(Throwable e) {
        Throwable t = e;
        Throwable pick = null;
        while (t != null) {
            if (pick == null && (t instanceof java.net.ConnectException || t instanceof java.net.UnknownHostException
                    || t instanceof javax.net.ssl.SSLException || t instanceof java.net.http.HttpTimeoutException
                    || t instanceof java.net.SocketTimeoutException)) {
                pick = t;
            }
            if (t.getCause() == null || t.getCause() == t) {
                break;
            }
            t = t.getCause();
        }
        Throwable shown = pick != null ? pick : t;
        String m = shown.getMessage();
        return shown.getClass().getSimpleName() + (m == null || m.isBlank() ? "" : ": " + m);
    }
}
