package io.logferry.docker;

import static org.assertj.core.api.Assertions.assertThat;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.github.dockerjava.api.command.InspectContainerResponse;
import io.logferry.model.ContainerInfo;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Inspect answers as the Docker API writes them (trimmed to the fields that matter) read into ContainerInfo. */
class InspectTest {
    private static final ObjectMapper JSON = new ObjectMapper().configure(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES, false);
    private static final String ID = "2bd022612d5632ba8d818efad39115c682edfaaef06886fd2fcc365a88131e89";

    private static ContainerInfo read(String json) throws Exception {
        return Inspect.info(JSON.readValue(json.replace('\'', '"'), InspectContainerResponse.class));
    }

    @Test
    void aRunningJsonFileContainer() throws Exception {
        ContainerInfo c = read("{'Id':'" + ID + "','Name':'/web','Image':'sha256:abc',"
                + "'LogPath':'/var/lib/docker/containers/" + ID + "/" + ID + "-json.log',"
                + "'State':{'Running':true},'Config':{'Image':'nginx:1.27','Labels':{'logferry.dataset':'nginx'}},"
                + "'HostConfig':{'LogConfig':{'Type':'json-file','Config':{}}}}");

        assertThat(c).isEqualTo(new ContainerInfo(ID, "web", "nginx:1.27", Map.of("logferry.dataset", "nginx"),
                "/var/lib/docker/containers/" + ID + "/" + ID + "-json.log", "json-file", true));
    }

    @Test
    void anotherLogDriverAndAStoppedContainer() throws Exception {
        ContainerInfo c = read("{'Id':'" + ID + "','Name':'/db','Image':'sha256:abc','LogPath':'',"
                + "'State':{'Running':false},'Config':{'Image':'postgres:17','Labels':null},"
                + "'HostConfig':{'LogConfig':{'Type':'local','Config':{}}}}");

        assertThat(c.logDriver()).isEqualTo("local");
        assertThat(c.running()).isFalse();
        assertThat(c.labels()).isEmpty();
        assertThat(c.logPath()).isEmpty();
    }

    @Test
    void missingPartsGetTheirDefaults() throws Exception {
        ContainerInfo c = read("{'Id':'" + ID + "','Image':'sha256:abc'}");

        assertThat(c).isEqualTo(new ContainerInfo(ID, ID, "sha256:abc", Map.of(), "", "json-file", false));
    }
}
