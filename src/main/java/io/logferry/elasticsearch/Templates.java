package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * Which index templates logferry may put, decided from what the cluster already holds. Pure
 * functions on the JSON of {@code GET /_index_template}, table-tested; {@link Setup} and
 * {@link DatasetTemplates} do the requests.
 *
 * <p>The rule: logferry puts a template only under a name that is free or holds a template of
 * its own ({@code _meta.managed_by: logferry}), and a dataset template
 * ({@code logferry-<dataset>} for {@code logs-<dataset>-*}) only where no template of someone
 * else's is specific to that dataset. A foreign pattern that also reaches {@code logs-docker*}
 * (Elasticsearch's own {@code logs-*-*}, an operator's {@code logs-*}) is a catch-all: logferry's
 * main template already takes precedence over it for {@code logs-docker*} by design, and a
 * dataset template does the same for its dataset. A foreign pattern that reaches the dataset's
 * streams but not {@code logs-docker*} ({@code logs-nginx-*}, {@code logs-ngi*}) was written for
 * those streams: logferry's template, at priority 200, would shadow it, so none is put.
 *
 * <p>Stateless; safe from any thread.
 */
public final class Templates {
    /** The {@code _meta} key and value that mark a template logferry put. */
    public static final String MANAGED_BY = "managed_by";
    public static final String OURS = "logferry";
    /** The main template's domain: a foreign pattern reaching it is a catch-all. */
    static final String MAIN_PATTERN = "logs-docker*";

    private Templates() { }

    /** What to do about one template name. */
    public sealed interface Decision {
        /** Nothing stands in the way: put it (again). */
        record Install() implements Decision { }

        /** A template of that name exists and logferry did not create it: leave it as it is. */
        record NotOurs(String name) implements Decision { }

        /** A foreign template is specific to the pattern: logferry's would shadow it. */
        record WouldShadow(String name, String pattern, int priority) implements Decision { }
    }

    /** True when {@code indexTemplate} (the {@code index_template} object) carries {@code _meta.managed_by: logferry}. */
    public static boolean ours(JsonNode indexTemplate) {
        return OURS.equals(indexTemplate.path("_meta").path(MANAGED_BY).asText(null));
    }

    /**
     * @param name       the template name logferry would put
     * @param pattern    its index pattern ({@code logs-nginx-*}); null for the main template,
     *                   which is checked by its name only
     * @param templates  the body of {@code GET /_index_template}: {@code {"index_templates":[{"name":..,"index_template":{..}}]}}
     */
    public static Decision decide(String name, String pattern, JsonNode templates) {
        JsonNode list = templates.path("index_templates");
        for (JsonNode t : list) {
            if (t.path("name").asText().equals(name) && !ours(t.path("index_template"))) {
                return new Decision.NotOurs(name);
            }
        }
        if (pattern == null) {
            return new Decision.Install();
        }
        for (JsonNode t : list) {
            JsonNode it = t.path("index_template");
            if (ours(it)) {
                continue;
            }
            for (JsonNode p : it.path("index_patterns")) {
                String foreign = p.asText();
                if (overlap(foreign, pattern) && !overlap(foreign, MAIN_PATTERN)) {
                    return new Decision.WouldShadow(t.path("name").asText(), foreign, it.path("priority").asInt(0));
                }
            }
        }
        return new Decision.Install();
    }

    /**
     * True when some name matches both index patterns, where {@code *} stands for any run of
     * characters (the only wildcard Elasticsearch has in index patterns). O(|a|·|b|) time and space.
     */
    static boolean overlap(String a, String b) {
        // can[i][j]: some string matches both a[i..] and b[j..]; filled from the ends
        boolean[][] can = new boolean[a.length() + 1][b.length() + 1];
        for (int i = a.length(); i >= 0; i--) {
            for (int j = b.length(); j >= 0; j--) {
                boolean aEnd = i == a.length();
                boolean bEnd = j == b.length();
                boolean v;
                if (aEnd && bEnd) {
                    v = true;
                } else if (!aEnd && a.charAt(i) == '*') {
                    // a's star matches nothing more, or takes the next character b produces (any, if b's is a star too)
                    v = can[i + 1][j] || (!bEnd && can[i][j + 1]);
                } else if (!bEnd && b.charAt(j) == '*') {
                    v = can[i][j + 1] || (!aEnd && can[i + 1][j]);
                } else {
                    v = !aEnd && !bEnd && a.charAt(i) == b.charAt(j) && can[i + 1][j + 1];
                }
                can[i][j] = v;
            }
        }
        return can[0][0];
    }
}
