package io.logferry.config;

/** Passwords and API keys never leave the process in clear: logs, check output and metrics use this. */
public final class Secrets {
    private Secrets() { }

    public static String mask(String secret) {
        return secret == null || secret.isEmpty() ? "" : "******";
    }
}
