package io.logferry.elasticsearch;

import io.logferry.model.AckTracker;
import io.logferry.model.Cursor;
import io.logferry.model.LogEvent;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.function.Predicate;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@link RoundOutcome} on canned bulk responses ({@code src/test/resources/bulk/*.json}, read as
 * the output reads them) and on requests refused as a whole. Five events a..e per request;
 * {@code letters} names those sent as their dead letter; lists are the event names in order, "-"
 * for none.
 */
class RoundOutcomeTest {
    private static final String NAMES = "abcdefgh";
    private final AckTracker tracker = new AckTracker("c0ffee", null);

    private List<LogEvent> events(int n) {
        List<LogEvent> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            out.add(new LogEvent(tracker, new byte[] {'x', '\n'}, 0, new Cursor(1, "f", i)));
        }
        return out;
    }

    private static String names(List<LogEvent> events, List<LogEvent> all) {
        StringBuilder b = new StringBuilder();
        for (LogEvent e : events) {
            b.append(NAMES.charAt(all.indexOf(e)));
        }
        return b.isEmpty() ? "-" : b.toString();
    }

    private static String refusals(List<RoundOutcome.Refusal> rs, List<LogEvent> all) {
        return names(rs.stream().map(RoundOutcome.Refusal::event).toList(), all);
    }

    private static Predicate<LogEvent> letters(String names, List<LogEvent> all) {
        Set<LogEvent> set = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        if (!names.equals("-")) {
            for (char c : names.toCharArray()) {
                set.add(all.get(NAMES.indexOf(c)));
            }
        }
        return set::contains;
    }

    private static List<BulkResponse.Result> fixture(String name) throws IOException {
        try (InputStream in = RoundOutcomeTest.class.getResourceAsStream("/bulk/" + name)) {
            // as the output reads a response while no block is watched: not past "errors":false
            return BulkResponse.parse(in, false);
        }
    }

    private static Set<String> set(String spaceSeparated) {
        return spaceSeparated.equals("-") ? Set.of() : new HashSet<>(Arrays.asList(spaceSeparated.split(" ")));
    }

    @ParameterizedTest(name = "{0} letters {1}")
    @CsvSource(delimiter = '|', textBlock = """
            # fixture        | letters | retyped | acked | again | toLetter | toRetype | lost | delivered dup deadLettered retried blocked retyped | failed | blocked indices | unnamed | delivered to
            all-created.json | -       | -       | abcde | -     | -        | -        | -    | 5 0 0 0 0 0                                 | -      | -               | false   | -
            all-created.json | bd      | -       | abcde | -     | -        | -        | -    | 3 0 2 0 0 0                                 | -      | -               | false   | -
            all-created.json | b       | ce      | abcde | -     | -        | -        | -    | 4 0 1 0 0 2                                 | -      | -               | false   | -
            mixed.json       | -       | -       | ab    | cde   | -        | e        | -    | 2 1 0 2 0 0                                 | d      | -               | false   | logs-docker-default
            mixed.json       | e       | -       | ab    | cd    | -        | -        | e    | 2 1 0 2 0 0                                 | d      | -               | false   | logs-docker-default
            mixed.json       | -       | e       | ab    | cde   | e        | -        | -    | 2 1 0 2 0 0                                 | d      | -               | false   | logs-docker-default
            mixed.json       | -       | d       | ab    | cde   | -        | e        | -    | 2 1 0 2 0 0                                 | d      | -               | false   | logs-docker-default
            blocks.json      | -       | -       | a     | bcde  | de       | -        | -    | 1 0 0 2 2 0                                 | bc     | logs-shop-prod  | true    | logs-web-prod
            blocks.json      | bcde    | -       | a     | bc    | -        | -        | de   | 1 0 0 2 2 0                                 | -      | logs-shop-prod  | true    | logs-web-prod
            letters.json     | abcd    | -       | ae    | d     | -        | -        | bc   | 1 1 1 1 0 0                                 | -      | -               | false   | logs-docker-default
            letters.json     | -       | -       | ae    | bcd   | c        | b        | -    | 2 1 0 1 0 0                                 | -      | -               | false   | logs-logferry.deadletter-default logs-docker-default
            no-status.json   | -       | -       | ad    | bce   | -        | -        | -    | 2 0 0 3 0 0                                 | -      | -               | false   | logs-docker-default
            """)
    void itemsOfAResponse(String fixture, String letters, String retyped, String acked, String again, String toLetter, String toRetype,
                          String lost, String counts, String failed, String blockedIndices, boolean unnamed, String deliveredTo)
            throws IOException {
        List<LogEvent> sent = events(5);
        RoundOutcome o = RoundOutcome.of(sent, letters(letters, sent), letters(retyped, sent), fixture(fixture));

        assertThat(o.split()).isFalse();
        assertThat(names(o.acked(), sent)).as("acked").isEqualTo(acked);
        assertThat(names(o.again(), sent)).as("again").isEqualTo(again);
        assertThat(refusals(o.toLetter(), sent)).as("to dead-letter").isEqualTo(toLetter);
        assertThat(refusals(o.toRetype(), sent)).as("to retype").isEqualTo(toRetype);
        assertThat(refusals(o.lost(), sent)).as("lost").isEqualTo(lost);
        assertThat(o.delivered() + " " + o.duplicates() + " " + o.deadLettered() + " " + o.retried() + " " + o.blocked() + " " + o.retyped())
                .as("delivered duplicates deadLettered retried blocked retyped").isEqualTo(counts);
        assertThat(names(o.failedItems(), sent)).as("failed items (5xx, block)").isEqualTo(failed);
        assertThat(o.blockedIndices().keySet()).as("blocked indices").isEqualTo(set(blockedIndices));
        assertThat(o.blockedUnnamed()).as("a block without its index").isEqualTo(unnamed);
        assertThat(o.deliveredTo()).as("delivered to").isEqualTo(set(deliveredTo));
        // every event ends in exactly one place
        assertThat(o.acked().size() + o.again().size() + o.lost().size()).isEqualTo(sent.size());
    }

    @ParameterizedTest(name = "HTTP {0} {1}, {2} events, letters {3}")
    @CsvSource(delimiter = '|', nullValues = "null", textBlock = """
            # status | error type              | events | letters | split | again | toLetter | lost | retried | blocked | cluster blocked
            413      | null                    | 4      | -       | true  | -     | -        | -    | 0       | 0       | false
            400      | illegal_argument_exception | 2   | -       | true  | -     | -        | -    | 0       | 0       | false
            413      | null                    | 1      | -       | false | a     | a        | -    | 0       | 0       | false
            400      | null                    | 1      | a       | false | -     | -        | a    | 0       | 0       | false
            403      | cluster_block_exception | 3      | -       | false | abc   | -        | -    | 3       | 3       | true
            403      | cluster_block_exception | 2      | b       | false | ab    | -        | -    | 2       | 2       | true
            403      | security_exception      | 3      | -       | false | abc   | -        | -    | 3       | 0       | false
            403      | null                    | 3      | -       | false | abc   | -        | -    | 3       | 0       | false
            401      | security_exception      | 2      | -       | false | ab    | -        | -    | 2       | 0       | false
            503      | null                    | 2      | -       | false | ab    | -        | -    | 2       | 0       | false
            429      | es_rejected_execution_exception | 2 | a   | false | ab    | -        | -    | 2       | 0       | false
            0        | null                    | 2      | -       | false | ab    | -        | -    | 2       | 0       | false
            """)
    void aRequestRefusedAsAWhole(int status, String type, int n, String letters, boolean split, String again, String toLetter,
                                 String lost, int retried, int blocked, boolean clusterBlocked) {
        List<LogEvent> sent = events(n);
        RoundOutcome o = RoundOutcome.failed(sent, letters(letters, sent), status, type, "HTTP " + status + " from es1");

        assertThat(o.split()).as("split").isEqualTo(split);
        assertThat(o.acked()).as("nothing is delivered").isEmpty();
        assertThat(names(o.again(), sent)).as("again").isEqualTo(again);
        assertThat(refusals(o.toLetter(), sent)).as("to dead-letter").isEqualTo(toLetter);
        assertThat(refusals(o.lost(), sent)).as("lost").isEqualTo(lost);
        assertThat(o.retried()).as("retried").isEqualTo(retried);
        assertThat(o.blocked()).as("blocked").isEqualTo(blocked);
        assertThat(o.blockedIndices().containsKey(BlockWatch.CLUSTER)).as("the cluster blocked").isEqualTo(clusterBlocked);
    }

    @Test
    void aRefusalCarriesItsStatusTypeAndReason() throws IOException {
        List<LogEvent> sent = events(5);
        RoundOutcome o = RoundOutcome.of(sent, e -> false, fixture("blocks.json"));
        assertThat(o.toLetter()).extracting(RoundOutcome.Refusal::status).containsExactly(403, 401);
        assertThat(o.toLetter()).extracting(RoundOutcome.Refusal::forbidden).containsExactly(true, true);
        assertThat(o.toLetter().get(0).why()).startsWith("403 security_exception: action [indices:data/write/bulk[s]] is unauthorized");
        assertThat(o.blockedIndices().get("logs-shop-prod")).startsWith("403 cluster_block_exception: index [logs-shop-prod] blocked by");

        RoundOutcome mixed = RoundOutcome.of(sent, e -> false, fixture("mixed.json"));
        assertThat(mixed.toLetter()).isEmpty();
        // a mapping conflict: first retyped, not dead-lettered
        assertThat(mixed.toRetype()).singleElement().satisfies(r -> {
            assertThat(r.forbidden()).isFalse();
            assertThat(r.type()).isEqualTo("document_parsing_exception");
        });
        assertThat(mixed.firstRetry()).isEqualTo("429 es_rejected_execution_exception: rejected execution of coordinating operation");
    }

    @Test
    void whenEverythingWasCreatedTheBatchIsAcknowledgedAsItIs() throws IOException {
        List<LogEvent> sent = events(5);
        RoundOutcome o = RoundOutcome.of(sent, e -> false, fixture("all-created.json"));
        assertThat(o.acked()).as("no copy of the batch on the common path").isSameAs(sent);
    }
}
