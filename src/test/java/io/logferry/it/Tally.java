package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The numbers for the closing note of a fault scenario: lines sent / lines found / duplicates
 * found. Printed on System.out and appended to {@code target/fault-scenarios.txt}; the assertion
 * itself stays {@link Containers#assertExactlyOnce}.
 */
final class Tally {
    private static final Pattern NUMBERED = Pattern.compile("^(\\S+) (out|err) (\\d+)$");

    private Tally() { }

    /** Numbered lines per tag (stdout only) in a scenario, from the messages of every document found. */
    static String report(String scenario, Instant started, Map<String, Integer> sentPerTag, List<String> messages) {
        long sent = sentPerTag.values().stream().mapToLong(Integer::longValue).sum();
        Set<String> distinct = new HashSet<>();
        long matching = 0;
        for (String m : messages) {
            Matcher x = NUMBERED.matcher(m);
            if (!x.matches()) {
                continue;
            }
            Integer max = sentPerTag.get(x.group(1));
            int n = Integer.parseInt(x.group(3));
            if (max == null || n < 1 || n > max) {
                continue;
            }
            matching++;
            distinct.add(m);
        }
        long seconds = Duration.between(started, Instant.now()).toSeconds();
        String line = String.format("%s: lines sent %d / lines found %d / duplicates found %d (%d s)",
                scenario, sent, distinct.size(), matching - distinct.size(), seconds);
        System.out.println("[fault-scenario] " + line);
        try {
            Files.createDirectories(Path.of("target"));
            Files.writeString(Path.of("target", "fault-scenarios.txt"), line + "\n", StandardCharsets.UTF_8,
                    StandardOpenOption.CREATE, StandardOpenOption.APPEND);
        } catch (IOException e) {
            System.out.println("cannot write target/fault-scenarios.txt: " + e.getMessage());
        }
        return line;
    }

    static List<String> messages(List<JsonNode> docs) {
        return docs.stream().map(d -> d.path("message").asText()).toList();
    }

    /** A container script printing "{tag} out N" for N in 1..chunks*perChunk, one awk per chunk, pausing between chunks. */
    static String paced(String tag, int chunks, int perChunk, String pause) {
        return "i=0; while [ $i -lt " + chunks + " ]; do awk -v b=$i 'BEGIN{for(j=1;j<=" + perChunk + ";j++) print \"" + tag
                + " out \" (b*" + perChunk + "+j)}'; i=$((i+1)); sleep " + pause + "; done; sleep 3600";
    }
}
