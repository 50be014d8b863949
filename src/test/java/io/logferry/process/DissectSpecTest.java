package io.logferry.process;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Elastic's published dissect tables, run through our {@link Dissect}: the Logstash dissect
 * filter's {@code spec/fixtures/dissect_tests.json} (logstash-plugins/logstash-filter-dissect, all
 * 15 cases, stored as they are in {@code process/dissect_tests.json}) and the examples of
 * Filebeat's and Elasticsearch's dissect docs ({@code process/dissect_examples.json}).
 */
class DissectSpecTest {
    private static final ObjectMapper MAPPER = new ObjectMapper();

    @TestFactory
    List<DynamicTest> logstashSpecTable() throws IOException {
        return cases("/process/dissect_tests.json", true);
    }

    @TestFactory
    List<DynamicTest> filebeatAndElasticsearchDocExamples() throws IOException {
        return cases("/process/dissect_examples.json", false);
    }

    /** The numbers for the closing note: every case of both tables passes, none is skipped. */
    @Test
    void everyCasePasses() throws IOException {
        int pass = 0;
        int total = 0;
        int skipped = 0;
        for (String file : List.of("/process/dissect_tests.json", "/process/dissect_examples.json")) {
            for (JsonNode c : load(file)) {
                total++;
                if (c.path("skip").asBoolean(false)) {
                    skipped++;
                } else if (run(c).equals(c.get("expected"))) {
                    pass++;
                }
            }
        }
        System.out.println("dissect specs: " + pass + " of " + total + " pass, " + skipped + " skipped");
        assertThat(pass).isEqualTo(total - skipped);
        assertThat(total).isEqualTo(29);
    }

    private static List<DynamicTest> cases(String file, boolean logstash) throws IOException {
        List<DynamicTest> tests = new ArrayList<>();
        for (JsonNode c : load(file)) {
            if (c.path("skip").asBoolean(false)) {
                continue;
            }
            tests.add(DynamicTest.dynamicTest((logstash ? "logstash: " : c.get("source").asText() + ": ") + c.get("name").asText(),
                    () -> assertThat(run(c)).as(c.get("tok").asText()).isEqualTo(c.get("expected"))));
        }
        return tests;
    }

    /** The fields the case's tokenizer makes of its message, nested at their dots as the event holds them. */
    static JsonNode run(JsonNode c) {
        Dissect d = new Dissect(c.get("tok").asText(), "message", "", false, true,
                Dissect.Trim.valueOf(c.path("trim_values").asText("none").toUpperCase()), c.path("trim_chars").asText(" "));
        Map<String, Object> found = d.dissect(c.get("msg").asText());
        assertThat(found).as("no match for " + c.get("name").asText()).isNotNull();
        Map<String, Object> nested = new LinkedHashMap<>();
        found.forEach((k, v) -> Fields.put(nested, Fields.path(k), v, true));
        try {
            return MAPPER.readTree(MAPPER.writeValueAsString(nested));      // numbers as JSON reads them (321 an int, as in the table)
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static JsonNode load(String file) throws IOException {
        try (InputStream in = DissectSpecTest.class.getResourceAsStream(file)) {
            return MAPPER.readTree(in);
        }
    }
}
