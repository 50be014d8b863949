package io.logferry.bench;

import io.logferry.config.Config;
import io.logferry.config.ConfigException;
import io.logferry.config.ConfigLoader;
import io.logferry.decode.DockerJsonDecoder;
import io.logferry.decode.Message;
import io.logferry.decode.MessageAssembler;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.model.ContainerInfo;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.selection.Selector;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.PrintWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Pre-serialises a container's json-file log into {@code _bulk} NDJSON with the agent's own
 * decoder, assembler and document builder, so that {@link BulkLoader} can send exactly the
 * documents the agent would send (run 4 of scripts/bench.sh, the ceiling). Also writes the byte
 * offset of every batch of {@code --batch} documents, one a line.
 *
 * <pre>
 * java -cp target/logferry-bench.jar io.logferry.bench.BulkCorpus --log FILE-json.log --out FILE.ndjson
 *     --batches FILE.batches --id ID --name NAME --image IMAGE [--label k=v]... [--namespace NS]
 *     [--path LOG_PATH] [--batch 1600] [--max-docs N]
 * </pre>
 * {@code --max-docs} stops after the first N documents (the Elasticsearch warm-up of scripts/bench.sh).
 */
public final class BulkCorpus {
    private BulkCorpus() { }

    public static void main(String[] args) throws Exception {
        Map<String, String> labels = new LinkedHashMap<>();
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i < args.length; i += 2) {
            if (i + 1 >= args.length) {
                throw new IllegalArgumentException("option " + args[i] + " needs a value");
            }
            if (args[i].equals("--label")) {
                String[] kv = args[i + 1].split("=", 2);
                labels.put(kv[0], kv.length > 1 ? kv[1] : "");
            } else {
                opt.put(args[i].substring(2), args[i + 1]);
            }
        }
        Path log = Path.of(req(opt, "log"));
        Path out = Path.of(req(opt, "out"));
        Path batches = Path.of(req(opt, "batches"));
        int batch = Integer.parseInt(opt.getOrDefault("batch", "1600"));
        long maxDocs = Long.parseLong(opt.getOrDefault("max-docs", String.valueOf(Long.MAX_VALUE)));
        Map<String, String> env = new LinkedHashMap<>();
        if (opt.containsKey("namespace")) {
            env.put("LOGFERRY_DEFAULTS_NAMESPACE", opt.get("namespace"));
        }
        Config cfg;
        try {
            cfg = new ConfigLoader(env).load(null);
        } catch (ConfigException e) {
            throw new IllegalArgumentException(String.join("; ", e.problems()), e);
        }
        ContainerInfo c = new ContainerInfo(req(opt, "id"), req(opt, "name"), req(opt, "image"), labels,
                log.toString(), "json-file", false);
        Selector.Decision d = new Selector(cfg, "").decide(c);
        ContainerSettings s = d.settings().orElseThrow(() -> new IllegalArgumentException("not selected: " + d.reason()));
        DocumentBuilder builder = new DocumentBuilder(c, s, new DocumentBuilder.AgentInfo("bench", "bulk-corpus",
                opt.getOrDefault("host", "bench-host")), opt.getOrDefault("path", log.toString()));

        long t0 = System.nanoTime();
        long[] docs = {0};
        long[] bytes = {0};
        int[] docStart = new int[1];
        try (OutputStream o = new BufferedOutputStream(Files.newOutputStream(out), 1 << 20);
             PrintWriter b = new PrintWriter(Files.newBufferedWriter(batches, StandardCharsets.US_ASCII))) {
            b.println(0);
            MessageAssembler a = new MessageAssembler(s, new MessageAssembler.Sink() {
                @Override
                public void message(Message m) {
                    if (docs[0] >= maxDocs) {
                        return;
                    }
                    byte[] p = builder.build(m, docStart);
                    try {
                        o.write(p);
                    } catch (IOException e) {
                        throw new java.io.UncheckedIOException(e);
                    }
                    bytes[0] += p.length;
                    if (++docs[0] % batch == 0) {
                        b.println(bytes[0]);
                    }
                }

                @Override
                public void skipped(Cursor commit) {
                }
            });
            String fileId = null;
            try (InputStream in = Files.newInputStream(log)) {
                byte[] buf = new byte[1 << 20];
                int fill = 0;
                long bufStart = 0;
                int n;
                while (docs[0] < maxDocs && (n = in.read(buf, fill, buf.length - fill)) > 0) {
                    int from = fill;
                    fill += n;
                    int lineStart = 0;
                    for (int i = from; i < fill; i++) {
                        if (buf[i] == '\n') {
                            if (fileId == null) {
                                fileId = Long.toHexString(Arrays.hashCode(Arrays.copyOfRange(buf, lineStart, i)));
                            }
                            a.accept(DockerJsonDecoder.decode(buf, lineStart, i - lineStart, bufStart + lineStart, bufStart + i + 1), 1, fileId);
                            lineStart = i + 1;
                        }
                    }
                    System.arraycopy(buf, lineStart, buf, 0, fill - lineStart);
                    fill -= lineStart;
                    bufStart += lineStart;
                    if (fill == buf.length) {
                        buf = Arrays.copyOf(buf, buf.length * 2);
                    }
                }
            }
            a.flushAll();
            if (docs[0] % batch != 0) {
                b.println(bytes[0]);
            }
        }
        System.out.printf("{\"docs\":%d,\"bytes\":%d,\"index\":\"%s\",\"seconds\":%.1f}%n", docs[0], bytes[0], s.dataStream(),
                (System.nanoTime() - t0) / 1e9);
    }

    static String req(Map<String, String> opt, String key) {
        String v = opt.get(key);
        if (v == null) {
            throw new IllegalArgumentException("--" + key + " is required");
        }
        return v;
    }
}
