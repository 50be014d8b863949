package io.logferry.elasticsearch;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

class TemplatesTest {
    private static final ObjectMapper JSON = new ObjectMapper();

    @ParameterizedTest(name = "{0} and {1}: {2}")
    @CsvSource({
            "logs-nginx-*, logs-nginx-*, true",
            "logs-*-*, logs-nginx-*, true",
            "logs-*, logs-nginx-*, true",
            "*, logs-nginx-*, true",
            "logs-ngi*, logs-nginx-*, true",
            "logs-nginx-prod, logs-nginx-*, true",
            "*-prod, logs-nginx-*, true",
            "logs-ngin-*, logs-nginx-*, false",
            "logs-nginxx-*, logs-nginx-*, false",
            "metrics-*, logs-nginx-*, false",
            "logs-nginx, logs-nginx-*, false",
            "logs-docker*, logs-nginx-*, false",
            "logs-*-*, logs-docker*, true",
            "logs-nginx-*, logs-docker*, false",
            "a*b, *c, false",
            "a*b, a*, true",
            "ab, a*b, true",
            "a, a, true",
            "a, b, false",
    })
    void overlap(String a, String b, boolean expected) {
        assertThat(Templates.overlap(a, b)).isEqualTo(expected);
        assertThat(Templates.overlap(b, a)).as("symmetric").isEqualTo(expected);
    }

    /** Against brute force: every string of up to 8 characters over the patterns' alphabet. */
    @Test
    void overlapAgreesWithBruteForceOnRandomPatterns() {
        long seed = new SplittableRandom().nextLong();
        SplittableRandom r = new SplittableRandom(seed);
        char[] alphabet = {'a', 'b', '*'};
        for (int n = 0; n < 2000; n++) {
            String a = random(r, alphabet, 4);
            String b = random(r, alphabet, 4);
            // if two patterns of up to 4 characters share a string, they share one of at most 8 (their literals, in turn)
            boolean brute = false;
            for (int len = 0; len <= 8 && !brute; len++) {
                for (int k = 0; k < (1 << len) && !brute; k++) {
                    StringBuilder s = new StringBuilder();
                    for (int i = 0; i < len; i++) {
                        s.append((k >> i & 1) == 0 ? 'a' : 'b');
                    }
                    brute = glob(a, s.toString()) && glob(b, s.toString());
                }
            }
            assertThat(Templates.overlap(a, b)).as("seed %d: '%s' and '%s'", seed, a, b).isEqualTo(brute);
        }
    }

    private static String random(SplittableRandom r, char[] alphabet, int max) {
        StringBuilder s = new StringBuilder();
        int len = r.nextInt(max + 1);
        for (int i = 0; i < len; i++) {
            s.append(alphabet[r.nextInt(alphabet.length)]);
        }
        return s.toString();
    }

    private static boolean glob(String p, String s) {
        return s.matches(p.replace("*", ".*"));
    }

    private static JsonNode templates(String json) throws Exception {
        return JSON.readTree("{\"index_templates\":[" + json + "]}");
    }

    private static String template(String name, String patterns, int priority, String managedBy) {
        return "{\"name\":\"" + name + "\",\"index_template\":{\"index_patterns\":[" + patterns + "],\"priority\":" + priority
                + (managedBy == null ? "" : ",\"_meta\":{\"managed_by\":\"" + managedBy + "\"}") + "}}";
    }

    @Test
    void theMainTemplateIsPutUnlessOneOfThatNameIsSomeoneElses() throws Exception {
        assertThat(Templates.decide("logferry", null, templates(""))).isInstanceOf(Templates.Decision.Install.class);
        assertThat(Templates.decide("logferry", null, JSON.readTree("{}"))).isInstanceOf(Templates.Decision.Install.class);
        assertThat(Templates.decide("logferry", null, templates(template("logferry", "\"logs-docker*\"", 200, "logferry"))))
                .isInstanceOf(Templates.Decision.Install.class);
        assertThat(Templates.decide("logferry", null, templates(template("logferry", "\"logs-docker*\"", 200, null))))
                .isEqualTo(new Templates.Decision.NotOurs("logferry"));
        assertThat(Templates.decide("logferry", null, templates(template("logferry", "\"logs-docker*\"", 200, "fleet"))))
                .isEqualTo(new Templates.Decision.NotOurs("logferry"));
        // the main template is checked by name only: a foreign logs-docker-* template is its own business
        assertThat(Templates.decide("logferry", null, templates(template("mine", "\"logs-docker-x*\"", 300, null))))
                .isInstanceOf(Templates.Decision.Install.class);
    }

    @Test
    void aDatasetTemplateNeverShadowsOneWrittenForThatDataset() throws Exception {
        String builtIn = template("logs", "\"logs-*-*\"", 100, null);
        String ours = template("logferry", "\"logs-docker*\",\"logs-logferry*\"", 200, "logferry");
        String oursNginx = template("logferry-nginx", "\"logs-nginx-*\"", 200, "logferry");
        // Elasticsearch's catch-all and logferry's own: put it
        assertThat(Templates.decide("logferry-nginx", "logs-nginx-*", templates(builtIn + "," + ours + "," + oursNginx)))
                .isInstanceOf(Templates.Decision.Install.class);
        assertThat(Templates.decide("logferry-nginx", "logs-nginx-*", templates(template("all", "\"*\"", 1, null))))
                .isInstanceOf(Templates.Decision.Install.class);
        // an operator's template for nginx: never shadowed, whatever its priority
        for (int priority : new int[] {0, 150, 200, 500}) {
            assertThat(Templates.decide("logferry-nginx", "logs-nginx-*",
                    templates(builtIn + "," + template("nginx-mine", "\"other-*\",\"logs-nginx-prod*\"", priority, null))))
                    .isEqualTo(new Templates.Decision.WouldShadow("nginx-mine", "logs-nginx-prod*", priority));
        }
        assertThat(Templates.decide("logferry-nginx", "logs-nginx-*", templates(template("ngi", "\"logs-ngi*\"", 100, null))))
                .isInstanceOf(Templates.Decision.WouldShadow.class);
        // a template for another dataset is not in the way
        assertThat(Templates.decide("logferry-nginx", "logs-nginx-*", templates(template("ngin", "\"logs-ngin-*\"", 100, null))))
                .isInstanceOf(Templates.Decision.Install.class);
        // the name taken by someone else
        assertThat(Templates.decide("logferry-nginx", "logs-nginx-*", templates(template("logferry-nginx", "\"x-*\"", 1, null))))
                .isEqualTo(new Templates.Decision.NotOurs("logferry-nginx"));
    }

    @Test
    void aModulesDatasetTemplateIsNotPutOverTheIntegrations() throws Exception {
        // what Fleet installs for Elastic's nginx integration: logs-nginx.access, for logs-nginx.access-*, priority 200
        String fleet = "{\"name\":\"logs-nginx.access\",\"index_template\":{\"index_patterns\":[\"logs-nginx.access-*\"],"
                + "\"priority\":200,\"_meta\":{\"managed_by\":\"fleet\",\"package\":{\"name\":\"nginx\"}}}}";
        String builtIn = template("logs", "\"logs-*-*\"", 100, null);
        assertThat(Templates.decide("logferry-nginx.access", "logs-nginx.access-*", templates(builtIn + "," + fleet)))
                .isEqualTo(new Templates.Decision.WouldShadow("logs-nginx.access", "logs-nginx.access-*", 200));
        // without the integration, only Elasticsearch's catch-all: logferry's is put (priority 199, below Fleet's 200)
        assertThat(Templates.decide("logferry-nginx.access", "logs-nginx.access-*", templates(builtIn)))
                .isInstanceOf(Templates.Decision.Install.class);
        // the other fileset's integration template does not stand in the way
        assertThat(Templates.decide("logferry-nginx.error", "logs-nginx.error-*", templates(builtIn + "," + fleet)))
                .isInstanceOf(Templates.Decision.Install.class);
    }
}
