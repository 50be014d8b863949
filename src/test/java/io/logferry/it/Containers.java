package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.startupcheck.OneShotStartupCheckStrategy;
import org.testcontainers.utility.DockerImageName;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** Test containers on the local engine: the busybox image, network none, labelled for one test. */
public final class Containers {
    private Containers() { }

    /** A container that runs {@code script} with sh; labels select it for one test's agent. */
    public static GenericContainer<?> shell(String name, Map<String, String> labels, String script) {
        GenericContainer<?> c = new GenericContainer<>(DockerImageName.parse(TestEnv.image()))
                .withNetworkMode("none")
                .withLabels(labels)
                .withCreateContainerCmdModifier(cmd -> cmd.withName(name))
                .withCommand("sh", "-c", script)
                // Testcontainers' shared client keeps pooled connections: after DockerRestartIT restarted
                // dockerd, the first request on a stale one fails with a broken pipe; the next attempt
                // takes a new connection
                .withStartupAttempts(3);
        return c;
    }

    /** A container that prints its lines and exits; {@code start()} returns once it has exited. */
    public static GenericContainer<?> oneShot(String name, Map<String, String> labels, String script) {
        return shell(name, labels, script).withStartupCheckStrategy(new OneShotStartupCheckStrategy().withTimeout(Duration.ofMinutes(2)));
    }

    /** An awk script printing "{tag} out N" on stdout and "{tag} err N" on stderr for N in 1..count. */
    public static String numbered(String tag, int count, boolean stderrToo) {
        return "awk 'BEGIN{for(i=1;i<=" + count + ";i++){print \"" + tag + " out \" i; "
                + (stderrToo ? "print \"" + tag + " err \" i > \"/dev/stderr\"; " : "") + "}}'";
    }

    private static final Pattern NUMBERED = Pattern.compile("^(\\S+) (out|err) (\\d+)$");

    /**
     * Checks that the documents hold each numbered line exactly once: for every tag and stream,
     * the numbers 1..expected[tag], none missing, none twice; and that stream matches out/err.
     */
    public static void assertExactlyOnce(List<JsonNode> docs, Map<String, Integer> expectedPerStream, boolean stderrToo) {
        Map<String, List<Integer>> seen = new TreeMap<>();
        List<String> strays = new ArrayList<>();
        for (JsonNode d : docs) {
            String message = d.path("message").asText();
            Matcher m = NUMBERED.matcher(message);
            if (!m.matches()) {
                strays.add(message);
                continue;
            }
            String stream = d.path("stream").asText();
            assertThat(stream).as("stream of '%s'", message).isEqualTo(m.group(2).equals("out") ? "stdout" : "stderr");
            seen.computeIfAbsent(m.group(1) + " " + m.group(2), k -> new ArrayList<>()).add(Integer.parseInt(m.group(3)));
        }
        assertThat(strays).as("documents that are not numbered lines").isEmpty();
        Map<String, String> problems = new TreeMap<>();
        expectedPerStream.forEach((tag, n) -> {
            for (String s : stderrToo ? List.of("out", "err") : List.of("out")) {
                List<Integer> got = seen.getOrDefault(tag + " " + s, List.of());
                Map<Integer, Integer> times = new HashMap<>();
                got.forEach(i -> times.merge(i, 1, Integer::sum));
                List<Integer> missing = new ArrayList<>();
                List<Integer> twice = new ArrayList<>();
                for (int i = 1; i <= n; i++) {
                    int t = times.getOrDefault(i, 0);
                    if (t == 0) {
                        missing.add(i);
                    } else if (t > 1) {
                        twice.add(i);
                    }
                }
                if (!missing.isEmpty() || !twice.isEmpty() || got.size() != n) {
                    problems.put(tag + " " + s, got.size() + " of " + n + "; missing " + head(missing) + "; twice " + head(twice));
                }
            }
        });
        assertThat(problems).as("lines not delivered exactly once").isEmpty();
    }

    private static String head(List<Integer> l) {
        return l.size() <= 10 ? l.toString() : l.subList(0, 10) + "... (" + l.size() + ")";
    }
}
