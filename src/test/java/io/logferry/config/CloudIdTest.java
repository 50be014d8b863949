package io.logferry.config;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** Elastic Cloud's Cloud ID and cloud.auth, as Filebeat reads them. */
class CloudIdTest {
    private static String id(String label, String decoded) {
        return label + ":" + Base64.getEncoder().encodeToString(decoded.getBytes(StandardCharsets.UTF_8));
    }

    @Test
    void theClusterAndKibanaComeFromTheDecodedId() {
        assertThat(CloudId.parse(id("staging", "us-east-1.aws.found.io$cd9f8e7a$b4c5d6e7")))
                .isEqualTo(new CloudId("https://cd9f8e7a.us-east-1.aws.found.io:443", "https://b4c5d6e7.us-east-1.aws.found.io:443"));
        assertThat(CloudId.parse(id("x", "eu-west-1.aws.found.io:9243$es1$kb1")))
                .isEqualTo(new CloudId("https://es1.eu-west-1.aws.found.io:9243", "https://kb1.eu-west-1.aws.found.io:9243"));
        assertThat(CloudId.parse(id("x", "example.com$es1:9200$kb1:5601")))
                .isEqualTo(new CloudId("https://es1.example.com:9200", "https://kb1.example.com:5601"));
        assertThat(CloudId.parse(id("x", "example.com$es1")).kibana()).isEmpty();
    }

    @Test
    void whatIsNoCloudIdIsRefusedWithWhy() {
        assertThatThrownBy(() -> CloudId.parse("label:!!!")).hasMessageContaining("not base64");
        assertThatThrownBy(() -> CloudId.parse(id("x", "only-a-domain"))).hasMessageContaining("no domain$elasticsearch-id");
        assertThatThrownBy(() -> CloudId.parse(id("x", "evil.com/x?$es"))).hasMessageContaining("its host names hold '/'");
    }

    @Test
    void cloudIdAndAuthSetHostsKibanaAndTheUser() throws Exception {
        Config c = new ConfigLoader(Map.of("LOGFERRY_ELASTICSEARCH_CLOUD_ID", id("prod", "found.io$es9$kb9"),
                "LOGFERRY_ELASTICSEARCH_CLOUD_AUTH", "elastic:pass:with:colons")).load(null);
        assertThat(c.elasticsearch().hosts()).containsExactly("https://es9.found.io:443");
        assertThat(c.kibanaUrl()).isEqualTo("https://kb9.found.io:443");
        assertThat(c.elasticsearch().username()).isEqualTo("elastic");
        assertThat(c.elasticsearch().password()).isEqualTo("pass:with:colons");

        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(Map.of(
                "LOGFERRY_ELASTICSEARCH_CLOUD_ID", id("prod", "found.io$es9"), "LOGFERRY_ELASTICSEARCH_HOSTS", "https://other:9200",
                "LOGFERRY_ELASTICSEARCH_CLOUD_AUTH", "nocolon")).load(null));
        assertThat(e.problems()).contains(
                "config: keys 'elasticsearch.hosts' and 'elasticsearch.cloud.id' both name the cluster; give one",
                "config: key 'elasticsearch.cloud.auth' must be user:password");
    }
}
