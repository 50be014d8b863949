package io.logferry.selection;

import java.util.List;
import java.util.Map;

/**
 * Filebeat's modules as the {@code co.elastic.logs/module} and {@code co.elastic.logs/fileset*}
 * hints name them, mapped to the datasets Elastic's integrations install templates and ingest
 * pipelines for: module {@code nginx}, fileset {@code access} is dataset {@code nginx.access}, data
 * stream {@code logs-nginx.access-<namespace>}.
 *
 * <p>The table holds, for each module logferry knows, the filesets Filebeat's module has (from
 * {@code filebeat/module/<module>/<fileset>} in elastic/beats and the module pages of the Filebeat
 * reference) and the fileset each stream goes to when the hints name none. Filebeat, given a
 * module without a fileset, enables every fileset of the module on both streams, so each line is
 * read once per fileset (elastic/beats, {@code filebeat/autodiscover/builder/hints/logs.go},
 * {@code getFilesets}); logferry ships a line once, so it picks one fileset per stream: the one
 * the official image writes to that stream (nginx and httpd: the access log on stdout, the error
 * log on stderr; the others log everything to one place). docs/labels.md shows the table.
 *
 * <p>Immutable; safe from any thread.
 */
public final class Modules {
    private Modules() { }

    /**
     * One module.
     *
     * @param filesets the filesets Filebeat's module has
     * @param stdout   the fileset of stdout's lines when the hints name none
     * @param stderr   the fileset of stderr's lines when the hints name none
     */
    public record Module(List<String> filesets, String stdout, String stderr) {
        public Module {
            filesets = List.copyOf(filesets);
        }
    }

    private static Module one(String fileset, String... others) {
        List<String> all = new java.util.ArrayList<>(List.of(others));
        all.add(0, fileset);
        return new Module(all, fileset, fileset);
    }

    /** The modules logferry maps without a fileset hint; a module outside it needs {@code fileset}. */
    public static final Map<String, Module> TABLE = Map.ofEntries(
            Map.entry("activemq", one("log", "audit")),
            Map.entry("apache", new Module(List.of("access", "error"), "access", "error")),
            Map.entry("coredns", one("log")),
            Map.entry("couchdb", one("log")),
            Map.entry("elasticsearch", one("server", "gc", "audit", "slowlog", "deprecation")),
            Map.entry("envoyproxy", one("log")),
            Map.entry("haproxy", one("log")),
            Map.entry("kafka", one("log")),
            Map.entry("kibana", one("log", "audit")),
            Map.entry("logstash", one("log", "slowlog")),
            Map.entry("mongodb", one("log")),
            Map.entry("mssql", one("log")),
            Map.entry("mysql", one("error", "slowlog")),
            Map.entry("nats", one("log")),
            Map.entry("nginx", new Module(List.of("access", "error", "ingress_controller"), "access", "error")),
            Map.entry("postgresql", one("log")),
            Map.entry("rabbitmq", one("log")),
            Map.entry("redis", one("log", "slowlog")),
            Map.entry("traefik", one("access")),
            Map.entry("zookeeper", one("log", "audit")));

    /** The module of that name, or null. */
    public static Module of(String module) {
        return TABLE.get(module);
    }
}
