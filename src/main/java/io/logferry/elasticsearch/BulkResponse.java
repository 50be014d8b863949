package io.logferry.elasticsearch;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;

/**
 * Reads what Elasticsearch answers to {@code _bulk}: the items of a response, or the error type of
 * a request it refused as a whole. Pure; no state.
 */
final class BulkResponse {
    private static final JsonFactory JSON = new JsonFactory();

    /** One item of a bulk response: its status, its {@code error.type} and {@code error.reason}, and its {@code _index} when asked for. */
    record Result(int status, String type, String reason, String index) { }

    /** Every item of a response that says {@code "errors":false}: with {@code create}, each one is a 201. */
    static final Result CREATED = new Result(201, null, null, null);

    private BulkResponse() { }

    /** Reads {@code {"errors":..,"items":[{"create":{"_index":..,"status":..,"error":{"type":..,"reason":..}}},..]}}. */
    static List<Result> parse(byte[] body) throws IOException {
        return parse(new ByteArrayInputStream(body), true);
    }

    /**
     * The items of a bulk response, in order; or null, unless {@code allItems}, when it starts with
     * {@code "errors":false} (Elasticsearch writes it before the items): every item was created,
     * and the items are not read at all, the common case at full speed.
     */
    static List<Result> parse(InputStream body, boolean allItems) throws IOException {
        List<Result> out = new ArrayList<>(512);
        try (JsonParser p = JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                throw new IOException("not a JSON object");
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (!allItems && t == JsonToken.VALUE_FALSE && out.isEmpty() && name.equals("errors")) {
                    return null;
                }
                if (name.equals("items") && t == JsonToken.START_ARRAY) {
                    while (p.nextToken() == JsonToken.START_OBJECT) {
                        p.nextToken();           // the action name
                        p.nextToken();           // its object
                        out.add(item(p));
                        p.nextToken();           // end of the item
                    }
                } else {
                    p.skipChildren();
                }
            }
        }
        return out;
    }

    private static Result item(JsonParser p) throws IOException {
        int status = 0;
        String type = null;
        String reason = null;
        String index = null;
        while (p.nextToken() == JsonToken.FIELD_NAME) {
            String f = p.currentName();
            p.nextToken();
            if (f.equals("status")) {
                status = p.getIntValue();
            } else if (f.equals("_index")) {
                index = p.getText();
            } else if (f.equals("error") && p.currentToken() == JsonToken.START_OBJECT) {
                while (p.nextToken() == JsonToken.FIELD_NAME) {
                    String ef = p.currentName();
                    p.nextToken();
                    if (ef.equals("type")) {
                        type = p.getText();
                    } else if (ef.equals("reason")) {
                        reason = p.getText();
                    } else {
                        p.skipChildren();
                    }
                }
            } else {
                p.skipChildren();
            }
        }
        return new Result(status, type, reason, index);
    }

    /**
     * The {@code error.type} of an error response ({@code {"error":{"type":"cluster_block_exception",..},"status":403}});
     * null when the body is missing, not JSON, or has none (a proxy's HTML page, {@code {"error":"text"}}).
     */
    static String errorType(InputStream body) {
        if (body == null) {
            return null;
        }
        try (JsonParser p = JSON.createParser(body)) {
            if (p.nextToken() != JsonToken.START_OBJECT) {
                return null;
            }
            while (p.nextToken() == JsonToken.FIELD_NAME) {
                String name = p.currentName();
                JsonToken t = p.nextToken();
                if (name.equals("error") && t == JsonToken.START_OBJECT) {
                    while (p.nextToken() == JsonToken.FIELD_NAME) {
                        String f = p.currentName();
                        if (p.nextToken() == JsonToken.VALUE_STRING && f.equals("type")) {
                            return p.getText();
                        }
                        p.skipChildren();
                    }
                    return null;
                }
                p.skipChildren();
            }
            return null;
        } catch (IOException e) {
            return null;
        }
    }
}
