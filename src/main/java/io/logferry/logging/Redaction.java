package io.logferry.logging;

import io.logferry.config.Config;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Comparator;
import java.util.List;

/**
 * The last line of defence for "never a password or API key in the logs": the secrets of the
 * config are registered once at start, and {@link LogLayout} replaces any of them (and the
 * {@code Authorization} header values made from them) in every log line, text or JSON, whatever
 * a library put into a message or an exception. The code itself never logs them; this catches
 * what it does not control. Secrets shorter than {@value #MIN_LENGTH} characters are not
 * replaced (they would garble ordinary words); such a password is weak anyway.
 */
public final class Redaction {
    static final int MIN_LENGTH = 4;
    static final String MASK = "******";
    private static volatile List<String> secrets = List.of();

    private Redaction() { }

    public static void register(Config.Elasticsearch es) {
        List<String> s = new ArrayList<>();
        add(s, es.password());
        add(s, es.apiKey());
        if (!es.username().isEmpty() && !es.password().isEmpty()) {
            add(s, Base64.getEncoder().encodeToString((es.username() + ":" + es.password()).getBytes(StandardCharsets.UTF_8)));
        }
        if (!es.apiKey().isEmpty()) {
            // an encoded API key is base64("id:key"): the key alone is the secret part
            try {
                String decoded = new String(Base64.getDecoder().decode(es.apiKey().trim()), StandardCharsets.UTF_8);
                int colon = decoded.indexOf(':');
                if (colon > 0) {
                    add(s, decoded.substring(colon + 1));
                }
            } catch (IllegalArgumentException notBase64) {
                // an unencoded key: registered as it is above
            }
            int colon = es.apiKey().trim().indexOf(':');
            if (colon > 0) {
                // Filebeat's id:key form: the key part, and the header value the agent sends
                add(s, es.apiKey().trim().substring(colon + 1));
                add(s, Base64.getEncoder().encodeToString(es.apiKey().trim().getBytes(StandardCharsets.UTF_8)));
            }
        }
        if (!es.proxyUrl().isEmpty()) {
            try {
                String user = java.net.URI.create(es.proxyUrl()).getUserInfo();
                if (user != null && user.indexOf(':') > 0) {
                    add(s, user.substring(user.indexOf(':') + 1));
                }
            } catch (IllegalArgumentException notAUrl) {
                // refused by the config
            }
        }
        register(s);
    }

    static void register(List<String> more) {
        List<String> all = new ArrayList<>(secrets);
        for (String m : more) {
            add(all, m);
        }
        all.sort(Comparator.comparingInt(String::length).reversed());
        secrets = List.copyOf(all);
    }

    private static void add(List<String> list, String secret) {
        if (secret != null && secret.length() >= MIN_LENGTH && !list.contains(secret)) {
            list.add(secret);
        }
    }

    /** {@code text} with every registered secret replaced by {@value #MASK}. */
    public static String redact(String text) {
        if (text == null) {
            return null;
        }
        String out = text;
        for (String s : secrets) {
            if (out.contains(s)) {
                out = out.replace(s, MASK);
            }
        }
        return out;
    }

    static void clearForTests() {
        secrets = List.of();
    }
}
