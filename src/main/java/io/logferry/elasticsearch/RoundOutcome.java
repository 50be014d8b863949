package io.logferry.elasticsearch;

import io.logferry.model.LogEvent;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Predicate;

/**
 * What one {@code _bulk} request did to the events it carried, decided from the events, which of
 * them went as dead letters, and the response (or the failure of the whole request). A pure
 * function, table-tested ({@code RoundOutcomeTest}); {@link ElasticsearchOutput} only carries the
 * outcome out: it acks, counts, logs, builds the dead letters and sends {@link #again()}.
 *
 * <pre>
 *   item (BulkOutcome.item)    sent as the document              sent retyped (Retype)           sent as its dead letter
 *   DELIVERED (2xx, 409)       acked, delivered (409: duplicate)  acked, delivered, retyped       acked, dead-lettered
 *   RETRY (429, 5xx, ...)      again, retried                     again, retried                  again, retried
 *   BLOCKED (403 + block)      again, retried, blocked            again, retried, blocked         again, retried, blocked
 *   DEAD_LETTER, mapping       again retyped (toRetype)           again as a new dead letter      lost (acked, counted, logged)
 *     conflict (BulkOutcome.mappingConflict)
 *   DEAD_LETTER, FORBIDDEN     again as a new dead letter         again as a new dead letter      lost (acked, counted, logged)
 *
 *   whole request (BulkOutcome.request)
 *   SPLIT, more than one event      split: the halves are sent apart
 *   SPLIT, one event                as DEAD_LETTER above, for that event
 *   BLOCKED                         all again, retried, blocked; the cluster is the blocked index
 *   RETRY_ALL                       all again, retried
 * </pre>
 *
 * @param split          the request must be split in halves; every other field is empty
 * @param acked          to acknowledge: Elasticsearch holds them (or their dead letter)
 * @param delivered      of {@code acked}, the documents themselves (not dead letters)
 * @param duplicates     of {@code delivered}, those Elasticsearch already had (409)
 * @param deadLettered   of {@code acked}, those delivered as dead letters
 * @param again          to send in the next request, in their order
 * @param retried        of {@code again}, those retried (not new dead letters): the next request waits the backoff when there are any
 * @param blocked        of {@code retried}, those held by a block
 * @param firstRetry     why the first of {@code retried} was refused, for the log; null when none was
 * @param toLetter       events refused for the first time (or refused again once retyped): each goes as a dead letter in the
 *                       next request
 * @param lost           dead letters refused too: acknowledged, counted and logged as lost
 * @param blockedIndices data stream (or {@link BlockWatch#CLUSTER}) → why, for the blocks this response named
 * @param blockedUnnamed a block came back without its index (it was not asked for)
 * @param deliveredTo    the data streams documents were delivered to (when the response names them)
 * @param toRetype       documents refused for a mapping conflict, sent as themselves: each goes retyped in the next request
 * @param retyped        of {@code delivered}, those delivered retyped
 * @param failedItems    of {@code retried}, the documents (not dead letters) whose own item failed with a 5xx or a block:
 *                       failures of their destination (an ingest pipeline, a data stream), not of the cluster as a whole
 *                       (429, or the whole request); the output parks those whose container chose that destination
 */
record RoundOutcome(boolean split, List<LogEvent> acked, int delivered, int duplicates, int deadLettered,
                    List<LogEvent> again, int retried, int blocked, String firstRetry,
                    List<Refusal> toLetter, List<Refusal> lost,
                    Map<String, String> blockedIndices, boolean blockedUnnamed, Set<String> deliveredTo,
                    List<LogEvent> failedItems, List<Refusal> toRetype, int retyped) {

    /** An event Elasticsearch refused, and why. */
    record Refusal(LogEvent event, int status, String type, String reason, boolean forbidden) {
        String why() {
            return status + " " + type + ": " + reason;
        }
    }

    private static final RoundOutcome SPLIT = new RoundOutcome(true, List.of(), 0, 0, 0, List.of(), 0, 0, null,
            List.of(), List.of(), Map.of(), false, Set.of(), List.of(), List.of(), 0);

    /**
     * @param sent     the events of the request, in order
     * @param isLetter which of them were sent as their dead letter
     * @param results  the response's items, one per event in order; null when it said {@code "errors":false}
     */
    static RoundOutcome of(List<LogEvent> sent, Predicate<LogEvent> isLetter, List<BulkResponse.Result> results) {
        return of(sent, isLetter, e -> false, results);
    }

    /**
     * @param sent      the events of the request, in order
     * @param isLetter  which of them were sent as their dead letter
     * @param isRetyped which of them were sent retyped ({@link Retype}), after a mapping conflict
     * @param results   the response's items, one per event in order; null when it said {@code "errors":false}
     */
    static RoundOutcome of(List<LogEvent> sent, Predicate<LogEvent> isLetter, Predicate<LogEvent> isRetyped,
                           List<BulkResponse.Result> results) {
        if (results == null && !anyLetter(sent, isLetter) && !anyLetter(sent, isRetyped)) {
            // every document created, none a dead letter: the common case, without a copy of the list
            return new RoundOutcome(false, sent, sent.size(), 0, 0, List.of(), 0, 0, null, List.of(), List.of(), Map.of(), false,
                    Set.of(), List.of(), List.of(), 0);
        }
        Sorting s = new Sorting(sent.size());
        for (int i = 0; i < sent.size(); i++) {
            BulkResponse.Result r = results == null ? BulkResponse.CREATED : results.get(i);
            LogEvent e = sent.get(i);
            s.item(e, isLetter.test(e), isRetyped.test(e), r);
        }
        return s.outcome();
    }

    /**
     * The outcome of a request that got no bulk response.
     *
     * @param status    its HTTP status; 0 when there was no HTTP response at all
     * @param errorType the {@code error.type} of the response body, or null
     * @param message   what went wrong, for the logs and the dead letter
     */
    static RoundOutcome failed(List<LogEvent> sent, Predicate<LogEvent> isLetter, int status, String errorType, String message) {
        Sorting s = new Sorting(sent.size());
        switch (BulkOutcome.request(status, errorType)) {
            case SPLIT -> {
                if (sent.size() > 1) {
                    return SPLIT;
                }
                LogEvent e = sent.get(0);
                s.refused(e, isLetter.test(e), new Refusal(e, status, "request_refused", message, false));
            }
            case BLOCKED -> {
                for (LogEvent e : sent) {
                    s.retry(e, message);
                    s.blocked++;
                }
                s.blockedIndices.put(BlockWatch.CLUSTER, message);
            }
            case RETRY_ALL -> {
                for (LogEvent e : sent) {
                    s.retry(e, message);
                }
            }
        }
        return s.outcome();
    }

    private static boolean anyLetter(List<LogEvent> sent, Predicate<LogEvent> isLetter) {
        for (LogEvent e : sent) {
            if (isLetter.test(e)) {
                return true;
            }
        }
        return false;
    }

    /** The outcome as it is built, item by item. */
    private static final class Sorting {
        final List<LogEvent> acked;
        final List<LogEvent> again = new ArrayList<>();
        final List<Refusal> toLetter = new ArrayList<>(0);
        final List<Refusal> lost = new ArrayList<>(0);
        final Map<String, String> blockedIndices = new LinkedHashMap<>(0);
        final Set<String> deliveredTo = new LinkedHashSet<>(0);
        final List<LogEvent> failedItems = new ArrayList<>(0);
        final List<Refusal> toRetype = new ArrayList<>(0);
        int retyped;
        int delivered;
        int duplicates;
        int deadLettered;
        int retried;
        int blocked;
        String firstRetry;
        boolean blockedUnnamed;

        Sorting(int n) {
            acked = new ArrayList<>(n);
        }

        void item(LogEvent e, boolean letter, boolean isRetyped, BulkResponse.Result r) {
            BulkOutcome.Item kind = BulkOutcome.item(r.status(), r.type());
            switch (kind) {
                case DELIVERED -> {
                    acked.add(e);
                    if (letter) {
                        deadLettered++;
                        return;
                    }
                    delivered++;
                    if (isRetyped) {
                        retyped++;
                    }
                    if (r.status() == 409) {
                        duplicates++;
                    }
                    if (r.index() != null) {
                        deliveredTo.add(BlockWatch.dataStream(r.index()));
                    }
                }
                case RETRY -> {
                    retry(e, r.status() + " " + r.type() + ": " + r.reason());
                    if (r.status() >= 500 && !letter) {
                        failedItems.add(e);
                    }
                }
                case BLOCKED -> {
                    if (!letter) {
                        failedItems.add(e);
                    }
                    again.add(e);
                    retried++;
                    blocked++;
                    if (r.index() == null) {
                        blockedUnnamed = true;
                    } else {
                        blockedIndices.putIfAbsent(BlockWatch.dataStream(r.index()), r.status() + " " + r.type() + ": " + r.reason());
                    }
                }
                case DEAD_LETTER, FORBIDDEN -> {
                    Refusal refusal = new Refusal(e, r.status(), r.type(), r.reason(), kind == BulkOutcome.Item.FORBIDDEN);
                    if (!letter && !isRetyped && BulkOutcome.mappingConflict(r.status(), r.type(), r.reason())) {
                        toRetype.add(refusal);
                        again.add(e);
                    } else {
                        refused(e, letter, refusal);
                    }
                }
            }
        }

        void retry(LogEvent e, String why) {
            again.add(e);
            retried++;
            if (firstRetry == null) {
                firstRetry = why;
            }
        }

        /** The first refusal makes a dead letter of it; a dead letter refused is lost. */
        void refused(LogEvent e, boolean letter, Refusal r) {
            if (letter) {
                lost.add(r);
            } else {
                toLetter.add(r);
                again.add(e);
            }
        }

        RoundOutcome outcome() {
            return new RoundOutcome(false, acked, delivered, duplicates, deadLettered, again, retried, blocked, firstRetry,
                    toLetter, lost, blockedIndices, blockedUnnamed, deliveredTo, failedItems, toRetype, retyped);
        }
    }
}
