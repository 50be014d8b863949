package io.logferry.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The two compose files parsed as YAML (no compose plugin on the build machine) and held to what
 * docs/security.md promises: the socket proxy pinned by version and able to run without IPv6, the
 * agent with a memory limit, its own log rotated, no-new-privileges, a read-only root and no
 * capabilities, in both files.
 */
class ComposeFilesTest {
    private static final ObjectMapper YAML = new ObjectMapper(new YAMLFactory());
    private static final Pattern PINNED = Pattern.compile(":v?\\d+\\.\\d+(\\.\\d+)?(@sha256:[0-9a-f]{64})?}?$");

    private static JsonNode compose(String file) throws IOException {
        return YAML.readTree(Path.of("deploy", file).toFile());
    }

    /** The image a service runs, with a ${VAR:-default} replaced by its default. */
    private static String image(JsonNode service) {
        return service.path("image").asText().replaceAll("\\$\\{[A-Z_]+:-([^}]*)}", "$1");
    }

    private static List<String> texts(JsonNode list) {
        List<String> out = new ArrayList<>();
        list.forEach(n -> out.add(n.asText()));
        return out;
    }

    private static void hardened(JsonNode agent, String where) {
        assertThat(agent.path("read_only").asBoolean()).as(where + " read_only").isTrue();
        assertThat(texts(agent.path("cap_drop"))).as(where + " cap_drop").containsExactly("ALL");
        assertThat(texts(agent.path("security_opt"))).as(where + " security_opt").contains("no-new-privileges:true");
        JsonNode logging = agent.path("logging");
        assertThat(logging.path("driver").asText()).as(where + " logging driver").isEqualTo("json-file");
        assertThat(logging.path("options").path("max-size").asText()).as(where + " its own log rotated").isNotEmpty();
        assertThat(logging.path("options").path("max-file").asText()).as(where + " its own log rotated").isNotEmpty();
        assertThat(agent.path("deploy").path("resources").path("limits").path("memory").asText()).as(where + " memory limit")
                .matches("\\d+[MG]");
    }

    @Test
    void theSingleHostFileRunsAPinnedProxyAndAHardenedAgent() throws IOException {
        JsonNode services = compose("docker-compose.yml").path("services");
        JsonNode proxy = services.path("socket-proxy");
        assertThat(image(proxy)).doesNotEndWith(":latest").containsPattern(PINNED);
        assertThat(proxy.path("environment").has("DISABLE_IPV6")).as("the proxy can be told the host has no IPv6").isTrue();
        assertThat(proxy.path("environment").path("POST").asText()).isEqualTo("0");
        assertThat(texts(proxy.path("security_opt"))).contains("no-new-privileges:true");
        hardened(services.path("logferry"), "docker-compose.yml logferry");
        assertThat(services.path("logferry").path("environment").path("LOGFERRY_DOCKER_HOST").asText())
                .as("the agent talks to the proxy, not the socket").isEqualTo("tcp://socket-proxy:2375");
        assertThat(texts(services.path("logferry-setup").path("security_opt"))).contains("no-new-privileges:true");
    }

    @Test
    void theSwarmFileKeepsTheSamePromises() throws IOException {
        JsonNode agent = compose("docker-compose.swarm.yml").path("services").path("logferry");
        hardened(agent, "docker-compose.swarm.yml logferry");
        assertThat(agent.path("deploy").path("mode").asText()).isEqualTo("global");
        assertThat(agent.path("deploy").path("update_config").path("order").asText()).as("never two agents on one registry")
                .isEqualTo("stop-first");
    }
}
