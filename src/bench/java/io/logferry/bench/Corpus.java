package io.logferry.bench;

import io.logferry.elasticsearch.JsonOut;

import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/**
 * json-file lines for the micro-benchmarks, generated in memory with the same mixes as
 * {@code shared/bench/gen-docker-log.py} (plain: one ~100-byte line per entry; realistic: 70% text,
 * 15% JSON, 8% WARN, 5.8% Java stack traces, 0.2% 16-24 KiB lines split by Docker into 16 KiB
 * partial entries, 1% non-ASCII). As in scripts/bench.sh, where a container {@code cat}s the
 * corpus, every entry is on stdout. All lines sit in one buffer, as the tailer sees them.
 */
public final class Corpus {
    private static final String[] WORDS = ("alpha beta gamma delta request served user cache miss hit GET POST "
            + "/api/v1/items took ms status ok").split(" ");
    private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd'T'HH:mm:ss.SSSSSSSSS'Z'")
            .withZone(ZoneOffset.UTC);
    private static final int DOCKER_SPLIT = 16 * 1024;

    /** Every json-file line, newline excluded, back to back in {@link #data}. */
    public final byte[] data;
    public final int[] start;
    public final int[] length;
    public final int messages;

    private Corpus(byte[] data, int[] start, int[] length, int messages) {
        this.data = data;
        this.start = start;
        this.length = length;
        this.messages = messages;
    }

    public int entries() {
        return start.length;
    }

    public static Corpus generate(String mix, int messages, long seed) {
        boolean realistic = switch (mix) {
            case "plain" -> false;
            case "realistic" -> true;
            default -> throw new IllegalArgumentException("mix is plain or realistic, not " + mix);
        };
        Random rnd = new Random(seed);
        Random trnd = new Random(seed + 1);
        long[] nanos = {Instant.parse("2026-01-01T00:00:00Z").getEpochSecond() * 1_000_000_000L};
        List<String> logs = new ArrayList<>();
        for (int seq = 1; seq <= messages; seq++) {
            double r = realistic ? rnd.nextDouble() : 0.0;
            StringBuilder text = new StringBuilder();
            for (int i = 0, n = 5 + rnd.nextInt(21); i < n; i++) {
                text.append(i == 0 ? "" : " ").append(WORDS[rnd.nextInt(WORDS.length)]);
            }
            if (r < 0.70) {
                logs.add("seq=" + seq + " INFO " + text + "\n");
            } else if (r < 0.85) {
                logs.add("{\"level\": \"info\", \"seq\": " + seq + ", \"msg\": \"" + text + "\", \"latency_ms\": "
                        + (1 + rnd.nextInt(999)) + "}\n");
            } else if (r < 0.93) {
                logs.add("seq=" + seq + " WARN " + text + "\n");
            } else if (r < 0.988) {
                logs.add("seq=" + seq + " ERROR java.lang.IllegalStateException: " + text + "\n");
                for (int i = 0, n = 3 + rnd.nextInt(10); i < n; i++) {
                    logs.add("\tat com.example.Service" + i + ".call(Service" + i + ".java:" + (10 + rnd.nextInt(491)) + ")\n");
                }
            } else if (r < 0.99) {
                String big = "seq=" + seq + " BIG " + "x".repeat(16 * 1024 + rnd.nextInt(8 * 1024 + 1)) + "\n";
                while (big.length() > DOCKER_SPLIT) {           // ASCII: chars are bytes
                    logs.add(big.substring(0, DOCKER_SPLIT));
                    big = big.substring(DOCKER_SPLIT);
                }
                logs.add(big);
            } else {
                logs.add("seq=" + seq + " INFO donn\u00e9es re\u00e7ues \u2713 \u65e5\u672c\u8a9e " + text + "\n");
            }
        }
        JsonOut out = new JsonOut(logs.size() * 160);
        int[] start = new int[logs.size()];
        int[] length = new int[logs.size()];
        for (int i = 0; i < logs.size(); i++) {
            nanos[0] += 1000L * (1 + trnd.nextInt(900));
            start[i] = out.length();
            out.ascii("{\"log\":").string(logs.get(i)).ascii(",\"stream\":\"stdout\",\"time\":\"")
                    .ascii(TIME.format(Instant.ofEpochSecond(0, nanos[0]))).ascii("\"}");
            length[i] = out.length() - start[i];
            out.raw('\n');
        }
        return new Corpus(out.toBytes(), start, length, messages);
    }
}
