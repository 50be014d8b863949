package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.logferry.config.Config;
import org.apache.http.util.EntityUtils;
import org.elasticsearch.client.ResponseException;

import javax.net.ssl.SSLException;
import java.io.IOException;
import java.net.ConnectException;
import java.net.SocketTimeoutException;
import java.net.UnknownHostException;

/**
 * Turns what the REST client throws into one line an operator can act on, for {@code check},
 * {@code setup} and {@code /health}: {@code authentication failed for user logferry (401)}. Never
 * includes a password or an API key: only the user name and the hosts.
 */
public final class EsErrors {
    private static final ObjectMapper JSON = new ObjectMapper();

    private EsErrors() { }

    /** The HTTP status of a refusal, or 0 when there was no answer. */
    public static int status(Throwable e) {
        return e instanceof ResponseException re ? re.getResponse().getStatusLine().getStatusCode() : 0;
    }

    public static String describe(Throwable e, Config.Elasticsearch es) {
        if (e instanceof ResponseException re) {
            int status = status(re);
            String reason = reason(re);
            return switch (status) {
                case 401 -> who(es).isEmpty()
                        ? "authentication required (401): set elasticsearch.username and elasticsearch.password, or elasticsearch.api_key"
                        : "authentication failed for " + who(es) + " (401)";
                case 403 -> (who(es).isEmpty() ? "anonymous access" : who(es)) + " is not allowed to do this (403)" + (reason.isEmpty() ? "" : ": " + reason);
                default -> "answered " + status + (reason.isEmpty() ? "" : ": " + reason);
            };
        }
        Throwable root = e;
        while (root.getCause() != null && root.getCause() != root) {
            if (root instanceof SSLException) {
                break;
            }
            root = root.getCause();
        }
        String hosts = hosts(es.hosts());
        if (root instanceof ConnectException || e instanceof ConnectException) {
            return "cannot connect to " + hosts + " (" + message(root) + ")";
        }
        if (root instanceof UnknownHostException) {
            return "unknown host " + message(root) + " in " + hosts;
        }
        if (root instanceof SocketTimeoutException) {
            return "no answer from " + hosts + " in time (" + message(root) + ")";
        }
        if (root instanceof SSLException || e instanceof SSLException) {
            return "TLS with " + hosts + " failed (" + message(root) + "); check elasticsearch.tls.ca_file, "
                    + "elasticsearch.tls.ca_fingerprint and elasticsearch.tls.verify";
        }
        if (e instanceof IOException) {
            return "cannot reach " + hosts + " (" + e.getClass().getSimpleName() + ": " + message(e) + ")";
        }
        return e.getClass().getSimpleName() + ": " + message(e);
    }

    /**
     * A host URL as it may be printed: credentials in it ({@code https://user:pass@es:9200}) become
     * {@code ***}. {@code start} refuses such URLs; this keeps them out of every line all the same.
     */
    public static String redact(String url) {
        if (url == null) {
            return "";
        }
        int scheme = url.indexOf("://");
        int from = scheme < 0 ? 0 : scheme + 3;
        int slash = url.indexOf('/', from);
        int authorityEnd = slash < 0 ? url.length() : slash;
        int at = url.lastIndexOf('@', authorityEnd - 1);
        return at < from ? url : url.substring(0, from) + "***" + url.substring(at);
    }

    /** The hosts, comma separated, each {@link #redact redacted}. */
    public static String hosts(java.util.List<String> hosts) {
        StringBuilder b = new StringBuilder();
        for (String h : hosts) {
            if (!b.isEmpty()) {
                b.append(", ");
            }
            b.append(redact(h));
        }
        return b.toString();
    }

    /** {@code user NAME}, {@code the API key}, or empty without credentials. */
    static String who(Config.Elasticsearch es) {
        if (!es.apiKey().isEmpty()) {
            return "the API key";
        }
        if (!es.username().isEmpty()) {
            return "user " + es.username();
        }
        return "";
    }

    private static String message(Throwable t) {
        String m = t.getMessage();
        return m == null || m.isBlank() ? t.getClass().getSimpleName() : m;
    }

    /** Elasticsearch's {@code error.reason} (or {@code error.root_cause[0].reason}), else empty. */
    static String reason(ResponseException re) {
        try {
            if (re.getResponse().getEntity() == null) {
                return "";
            }
            JsonNode n = JSON.readTree(EntityUtils.toString(re.getResponse().getEntity()));
            JsonNode err = n.path("error");
            if (err.isTextual()) {
                return err.asText();
            }
            String r = err.path("reason").asText("");
            if (r.isEmpty()) {
                r = err.path("root_cause").path(0).path("reason").asText("");
            }
            return r.length() > 300 ? r.substring(0, 300) + "..." : r;
        } catch (IOException | RuntimeException ex) {
            return "";
        }
    }
}
