package io.logferry.http;

import java.io.IOException;
import java.io.InputStream;
import java.net.HttpURLConnection;
import java.net.URI;
import java.nio.charset.StandardCharsets;

/**
 * The image's {@code HEALTHCHECK}: {@code java -cp logferry.jar io.logferry.http.HealthCheck}
 * asks the agent's {@code /health} on {@code LOGFERRY_HTTP_HOST:LOGFERRY_HTTP_PORT} (default
 * 127.0.0.1:5066) and exits 0 on 200, 1 otherwise. Java is the one program every runtime image of
 * logferry has: newer eclipse-temurin images ship neither curl nor wget, and busybox 1.35's wget
 * crashes on {@code -T}. Loads nothing else (no logging, no config) to start in a blink.
 */
public final class HealthCheck {
    private HealthCheck() { }

    public static void main(String[] args) {
        System.exit(check(System.getenv("LOGFERRY_HTTP_HOST"), System.getenv("LOGFERRY_HTTP_PORT")));
    }

    static int check(String hostVar, String portVar) {
        String host = hostVar == null || hostVar.isBlank() || hostVar.equals("0.0.0.0") || hostVar.equals("::") ? "127.0.0.1" : hostVar.trim();
        String port = portVar == null || portVar.isBlank() ? "5066" : portVar.trim();
        String url = "http://" + (host.contains(":") ? "[" + host + "]" : host) + ":" + port + "/health";
        try {
            HttpURLConnection c = (HttpURLConnection) URI.create(url).toURL().openConnection();
            c.setConnectTimeout(3000);
            c.setReadTimeout(4000);
            int status = c.getResponseCode();
            try (InputStream in = status >= 400 ? c.getErrorStream() : c.getInputStream()) {
                String body = in == null ? "" : new String(in.readAllBytes(), StandardCharsets.UTF_8).strip();
                System.out.println(status + " " + body);
            }
            return status == 200 ? 0 : 1;
        } catch (IOException | IllegalArgumentException e) {
            System.out.println(url + ": " + e);
            return 1;
        }
    }
}
