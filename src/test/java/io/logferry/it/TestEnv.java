package io.logferry.it;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.util.UUID;

import static org.assertj.core.api.Assertions.fail;

/**
 * The real Docker engine and Elasticsearch that scripts/env-up.sh starts, as its env.sh describes
 * them. Without them, integration tests are skipped on a developer machine and fail under CI=true.
 */
public final class TestEnv {
    private TestEnv() { }

    static String require(String name) {
        String v = System.getenv(name);
        if (v == null || v.isBlank()) {
            String why = name + " is not set: run the tests with scripts/test.sh (or source /tmp/logferry-test/env.sh after scripts/env-up.sh)";
            if ("true".equals(System.getenv("CI"))) {
                fail(why);
            }
            Assumptions.abort(why);
        }
        return v;
    }

    public static String dockerHost() {
        return require("DOCKER_HOST");
    }

    public static Path containersPath() {
        return Path.of(require("LOGFERRY_TEST_DOCKER_ROOT")).resolve("containers");
    }

    public static String esUrl() {
        return require("LOGFERRY_TEST_ES_URL");
    }

    public static String image() {
        return require("LOGFERRY_TEST_IMAGE");
    }

    public static String esCtl() {
        return require("LOGFERRY_TEST_ES_CTL");
    }

    /** A short unique name for one test's data stream namespace and container label. */
    public static String uniqueName(String prefix) {
        return prefix + UUID.randomUUID().toString().replace("-", "").substring(0, 10);
    }

    public static int freePort() {
        try (ServerSocket s = new ServerSocket(0)) {
            return s.getLocalPort();
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }
}
