package io.logferry.bench;

import io.logferry.config.Config;
import io.logferry.config.ConfigException;
import io.logferry.config.ConfigLoader;
import io.logferry.decode.DockerEntry;
import io.logferry.decode.DockerJsonDecoder;
import io.logferry.decode.Message;
import io.logferry.decode.MessageAssembler;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.selection.Selector;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The agent's own objects, built the way the agent builds them: settings from the built-in
 * defaults and the container's labels through {@link Selector}, documents through
 * {@link DocumentBuilder}. Only public API, so that the benchmarks follow the code as it changes.
 */
public final class Fixtures {
    public static final String CONTAINER_ID = "3f4e8a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7";
    public static final String LOG_PATH = "/var/lib/docker/containers/" + CONTAINER_ID + "/" + CONTAINER_ID + "-json.log";
    public static final String FILE_ID = "0123456789abcdef";

    private Fixtures() { }

    /**
     * {@code plain}: no labels; {@code java}: logferry.multiline=java; {@code java+json}: and logferry.json=true;
     * {@code java+json+dissect}: and a dissect hint ({@code seq=%{seq|long} %{level} %{msg}}, which the JSON lines fail).
     */
    public static ContainerInfo container(String kind) {
        Map<String, String> labels = new LinkedHashMap<>();
        labels.put("com.docker.compose.project", "shop");
        labels.put("com.docker.compose.service", "api");
        labels.put("logferry.bench", "micro");
        switch (kind) {
            case "plain" -> { }
            case "java" -> labels.put("logferry.multiline", "java");
            case "java+json" -> {
                labels.put("logferry.multiline", "java");
                labels.put("logferry.json", "true");
            }
            case "java+json+dissect" -> {
                labels.put("logferry.multiline", "java");
                labels.put("logferry.json", "true");
                labels.put("co.elastic.logs/processors.1.dissect.tokenizer", "seq=%{seq|long} %{level} %{msg}");
            }
            default -> throw new IllegalArgumentException("kind is plain, java, java+json or java+json+dissect, not " + kind);
        }
        return new ContainerInfo(CONTAINER_ID, "/shop-api-1", "registry.example.com/shop/api:1.4.2", labels,
                LOG_PATH, "json-file", false);
    }

    public static Config config() {
        try {
            return new ConfigLoader(Map.of()).load(null);
        } catch (ConfigException e) {
            throw new IllegalStateException(String.join("; ", e.problems()), e);
        }
    }

    public static ContainerSettings settings(ContainerInfo c) {
        Config cfg = config();
        Selector.Decision d = new Selector(cfg, "").decide(c);
        return d.settings().orElseThrow(() -> new IllegalStateException("not selected: " + d.reason()));
    }

    public static DocumentBuilder builder(ContainerInfo c, ContainerSettings s, String logPath) {
        return new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("0.1.0-bench", "7d0c1f0e-5b6a-4c3d-9e8f-0a1b2c3d4e5f",
                "docker-host-01"), logPath);
    }

    /** Decodes every line of the corpus. */
    public static List<DockerEntry> entries(Corpus corpus) {
        List<DockerEntry> out = new ArrayList<>(corpus.entries());
        long offset = 0;
        for (int i = 0; i < corpus.entries(); i++) {
            try {
                out.add(DockerJsonDecoder.decode(corpus.data, corpus.start[i], corpus.length[i], offset, offset + corpus.length[i] + 1));
            } catch (DockerJsonDecoder.MalformedLineException e) {
                throw new IllegalStateException("corpus line " + i + ": " + e.getMessage(), e);
            }
            offset += corpus.length[i] + 1;
        }
        return out;
    }

    /** The first {@code n} messages of the corpus. */
    public static List<Message> messagesOf(ContainerInfo c, ContainerSettings s, Corpus corpus, int n) {
        try {
            List<Message> all = messages(corpus, s);
            return all.subList(0, Math.min(n, all.size()));
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new IllegalStateException(e);
        }
    }

    /** The messages the assembler makes of the corpus with the given settings. */
    public static List<Message> messages(Corpus corpus, ContainerSettings s) throws InterruptedException {
        List<Message> out = new ArrayList<>();
        MessageAssembler a = new MessageAssembler(s, new MessageAssembler.Sink() {
            @Override
            public void message(Message m) {
                out.add(m);
            }

            @Override
            public void skipped(Cursor commit) {
            }
        });
        for (DockerEntry e : entries(corpus)) {
            a.accept(e, 1, FILE_ID);
        }
        a.flushAll();
        return out;
    }
}
