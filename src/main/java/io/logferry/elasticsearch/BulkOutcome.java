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
        /**
         * 401/403 that is not a block: no privilege to write to that index (a role or an API key
         * without it, or a label naming a stream the agent may not write). Retrying cannot fix it:
         * dead-letter it once, like a refused document, and count it apart.
         */
        FORBIDDEN,
        /** Elasticsearch refuses this document (mapping conflict and other 4xx): dead-letter it. */
        DEAD_LETTER
    }

    public enum Request {
        /** The whole request failed in a way that retrying can fix (connection, timeout, 429, 5xx, auth). */
        RETRY_ALL,
        /** The request is too large or malformed as a whole: split it and send the halves. */
        SPLIT,
        /** A block on the cluster (read-only, flood stage) refused the whole request: pause, retry, never drop. */
        BLOCKED
    }

    private BulkOutcome() { }

    /**
     * @param status the item's HTTP status; 0 when the response did not give one
     * @param errorType the item's {@code error.type}, or null
     */
    public static Item item(int status, String errorType) {
        if (status >= 200 && status < 300) {
            return Item.DELIVERED;
        }
        if (status == 409) {
            return Item.DELIVERED;
        }
        if (status == 429 || status == 408 || status >= 500) {
            return Item.RETRY;
        }
        if (isBlock(status, errorType)) {
            return Item.BLOCKED;
        }
        if (status == 401 || status == 403) {
            // not allowed to write there: retried, it would be refused forever and hold its
            // worker; the dead-letter stream may well take it (and if not, it is a counted loss)
            return Item.FORBIDDEN;
        }
        if (status >= 400 && status < 500) {
            return Item.DEAD_LETTER;
        }
        // no status, or one a bulk item never has: nothing says Elasticsearch holds it
        return Item.RETRY;
    }

    /**
     * True for an item refused because its fields' types meet the mapping other documents made (a
     * field that is an object there and a value here, or the reverse): {@code document_parsing_exception}
     * ({@code mapper_parsing_exception} before Elasticsearch 8), or {@code illegal_argument_exception}
     * "mapper [f] cannot be changed from type [long] to [ObjectMapper]" when both shapes reach a new
     * mapping in one request. Such a document gets one second chance with its content's fields in a
     * field that takes any shape ({@link Retype}); anything else refused is dead-lettered at once.
     */
    public static boolean mappingConflict(int status, String errorType, String reason) {
        if (status != 400 || errorType == null) {
            return false;
        }
        return errorType.equals("document_parsing_exception") || errorType.equals("mapper_parsing_exception")
                || (errorType.equals("illegal_argument_exception") && reason != null && reason.contains("cannot be changed from type"));
    }

    /** For a request that got no bulk response body: {@code status} 0 means no HTTP response at all. */
    public static Request request(int status) {
        return request(status, null);
    }

    /**
     * @param status    the response's HTTP status; 0 when there was no HTTP response at all
     * @param errorType the response body's {@code error.type}, or null
     */
    public static Request request(int status, String errorType) {
        if (status == 413 || status == 400) {
            return Request.SPLIT;
        }
        if (isBlock(status, errorType)) {
            return Request.BLOCKED;
        }
        return Request.RETRY_ALL;
    }

    /** 403 with an error type that names a block ({@code cluster_block_exception}, {@code index_block_exception}). */
    private static boolean isBlock(int status, String errorType) {
        return status == 403 && errorType != null && errorType.contains("block");
    }
}
