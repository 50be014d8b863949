package io.logferry.config;

import java.nio.charset.StandardCharsets;
import java.util.Base64;

/**
 * An Elastic Cloud "Cloud ID" as Filebeat's {@code cloud.id} takes it: {@code <label>:<base64>}, the
 * base64 of {@code <domain>[:<port>]$<elasticsearch id>[:<port>][$<kibana id>[:<port>]]}. The cluster is
 * {@code https://<elasticsearch id>.<domain>:<port>} (443 unless a port is given), Kibana the same with
 * its id. Pure.
 *
 * @param kibana empty when the Cloud ID names no Kibana
 */
public record CloudId(String elasticsearch, String kibana) {
    /** @throws IllegalArgumentException with what is wrong (never the ID itself: it is not a secret, but long) */
    public static CloudId parse(String cloudId) {
        String id = cloudId.trim();
        int colon = id.indexOf(':');
        String encoded = colon >= 0 ? id.substring(colon + 1) : id;
        String decoded;
        try {
            decoded = new String(Base64.getDecoder().decode(encoded), StandardCharsets.UTF_8);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("is not a Cloud ID: the part after the label is not base64");
        }
        String[] parts = decoded.split("\\$", -1);
        if (parts.length < 2 || parts[0].isBlank() || parts[1].isBlank()) {
            throw new IllegalArgumentException("is not a Cloud ID: it decodes to no domain$elasticsearch-id");
        }
        String domain = parts[0];
        String port = "443";
        int p = domain.lastIndexOf(':');
        if (p > 0) {
            port = domain.substring(p + 1);
            domain = domain.substring(0, p);
        }
        for (char c : (domain + parts[1] + (parts.length > 2 ? parts[2] : "")).toCharArray()) {
            if (!(Character.isLetterOrDigit(c) || c == '.' || c == '-' || c == ':')) {
                throw new IllegalArgumentException("is not a Cloud ID: its host names hold '" + c + "'");
            }
        }
        return new CloudId(url(parts[1], domain, port), parts.length > 2 && !parts[2].isBlank() ? url(parts[2], domain, port) : "");
    }

    private static String url(String id, String domain, String port) {
        int p = id.indexOf(':');
        return p > 0 ? "https://" + id.substring(0, p) + "." + domain + ":" + id.substring(p + 1)
                : "https://" + id + "." + domain + ":" + port;
    }
}
