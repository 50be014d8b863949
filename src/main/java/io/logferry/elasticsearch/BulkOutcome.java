package io.logferry.elasticsearch;

/**
 * What to do with a bulk item or a whole bulk request, decided from the status and error type
 * alone. One pure function, table-tested: every failure is sorted here and nowhere else.
 */
public final class BulkOutcome {
    public enum Item {
        /** Elasticsearch holds it: created (2xx), or already there (409 on create). */
        DELIVERED,
        /** Try this item again later: 429, 5xx. */
        RETRY,
        /** A block on the index or cluster (read-only, flood stage): pause, retry, never drop. */
        BLOCKED,
        /** Elasticsearch refuses this document (mapping conflict and other 4xx): dead-letter it. */
        DEAD_LETTER
    }

    public enum Request {
        /** The whole request failed in a way that retrying can fix (connection, timeout, 429, 5xx, auth). */
        RETRY_ALL,
        /** The request is too large or malformed as a whole: split it and send the halves. */
        SPLIT
    }

    private BulkOutcome() { }

    public static Item item(int status, String errorType) {
        if (status < 300) {
            return Item.DELIVERED;
        }
        if (status == 409) {
            return Item.DELIVERED;
        }
        if (status == 429 || status >= 500) {
            return Item.RETRY;
        }
        if (status == 403 && errorType != null && errorType.contains("block")) {
            return Item.BLOCKED;
        }
        if (status == 408) {
            return Item.RETRY;
        }
        return Item.DEAD_LETTER;
    }

    /** For a request that got no bulk response body: {@code status} 0 means no HTTP response at all. */
    public static Request request(int status) {
        if (status == 413 || status == 400) {
            return Request.SPLIT;
        }
        return Request.RETRY_ALL;
    }
}
