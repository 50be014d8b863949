package io.logferry.it;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The image's HEALTHCHECK run as the image runs it, against an agent on this machine: the command,
 * its timeout and the image's environment read from the Dockerfile's last stage by
 * {@code scripts/bench/image-healthcheck.py} (the bench's idle run uses the same), with
 * {@code LOGFERRY_HTTP_PORT} set to the agent's port. Healthy is exit status 0 within the timeout.
 */
final class ImageHealthCheck {
    private final List<String> cmd = new ArrayList<>();
    private final JsonNode env;
    private final long timeoutMillis;
    private final int port;

    ImageHealthCheck(int port) throws IOException, InterruptedException {
        this.port = port;
        Process p = new ProcessBuilder("python3", "scripts/bench/image-healthcheck.py", "Dockerfile", "--jar",
                AgentProcess.jar().toString()).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IllegalStateException("image-healthcheck.py failed: " + out);
        }
        JsonNode check = new ObjectMapper().readTree(out);
        if (check.path("cmd").isNull()) {
            throw new IllegalStateException("the Dockerfile has no HEALTHCHECK: " + out);
        }
        check.path("cmd").forEach(a -> cmd.add(a.asText()));
        env = check.path("env");
        timeoutMillis = (long) (check.path("timeout_s").asDouble(30) * 1000);
    }

    /** The check's exit status and output; a check that does not finish within the image's timeout counts as status 124. */
    Result run() throws IOException, InterruptedException {
        ProcessBuilder pb = new ProcessBuilder(cmd).redirectErrorStream(true);
        env.fields().forEachRemaining(e -> pb.environment().put(e.getKey(), e.getValue().asText()));
        pb.environment().put("LOGFERRY_HTTP_PORT", Integer.toString(port));
        Process p = pb.start();
        if (!p.waitFor(timeoutMillis, TimeUnit.MILLISECONDS)) {
            p.destroyForcibly();
            return new Result(124, "timed out after " + timeoutMillis + " ms");
        }
        return new Result(p.exitValue(), new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).trim());
    }

    Path script() {
        return Path.of(cmd.get(0));
    }

    record Result(int status, String output) {
        boolean healthy() {
            return status == 0;
        }
    }
}
