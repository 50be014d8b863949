package io.logferry.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

/** The mistakes an operator makes in a config, each refused or warned with where and why (issue 27). */
class ConfigMistakesTest {
    @TempDir
    Path dir;

    private List<String> problems(String text) throws IOException {
        Path f = dir.resolve("logferry.yml");
        Files.writeString(f, text);
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(Map.of()).load(f));
        assertThat(e).as("refused:\n" + text).isNotNull();
        return e.problems();
    }

    @Test
    void aSecondBlockOfTheSameSectionIsRefusedWithBothLines() throws Exception {
        List<String> p = problems("""
                elasticsearch:
                  hosts: ["https://es:9200"]
                registry:
                  flush_interval: 2s
                elasticsearch:
                  api_key: abc
                """);
        assertThat(p).singleElement().asString()
                .contains("line 5, column")
                .contains("key 'elasticsearch' is given twice in the same mapping (first at line 1)");
    }

    @Test
    void aKeyTwiceInsideASectionIsRefusedToo() throws Exception {
        assertThat(problems("registry:\n  flush_interval: 2s\n  path: /a\n  flush_interval: 3s\n")).singleElement().asString()
                .contains("line 4").contains("key 'flush_interval' is given twice").contains("(first at line 2)");
    }

    @Test
    void aYamlErrorSaysItsLineAndColumn() throws Exception {
        assertThat(problems("elasticsearch:\n  hosts: [\"https://es:9200\"\nregistry:\n  path: /x\n")).singleElement().asString()
                .startsWith("config: " + dir.resolve("logferry.yml") + " is not valid YAML: line ")
                .containsPattern("line \\d+, column \\d+: ");
    }

    @Test
    void aMissingOrUnreadableFileSaysWhy() throws Exception {
        Path missing = dir.resolve("nope.yml");
        ConfigException e = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(Map.of()).load(missing));
        assertThat(e.problems()).singleElement().asString().isEqualTo("config: cannot read " + missing
                + ": no such file (give the path with --config; in a container, mount the file there)");
        ConfigException d = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(Map.of()).load(dir));
        assertThat(d.problems()).singleElement().asString().startsWith("config: cannot read " + dir + ": ").doesNotEndWith(": ");
        Path bad = dir.resolve("latin1.yml");
        Files.write(bad, new byte[] {'a', ':', ' ', (byte) 0xe9, '\n'});
        ConfigException c = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(Map.of()).load(bad));
        assertThat(c.problems()).singleElement().asString().endsWith(": not UTF-8 text");
        Files.setPosixFilePermissions(bad, PosixFilePermissions.fromString("---------"));
        if (!Files.isReadable(bad)) {   // root reads it anyway
            ConfigException a = catchThrowableOfType(ConfigException.class, () -> new ConfigLoader(Map.of()).load(bad));
            assertThat(a.problems()).singleElement().asString().contains("permission denied");
        }
    }

    @Test
    void aMisspelledVariableIsWarnedWithTheNearestKeyAndTheOthersAreNot() throws Exception {
        ConfigLoader loader = new ConfigLoader(Map.of("LOGFERRY_ELASTICSEARCH_HOST", "http://es:9200",
                "LOGFERRY_ELASTICSEARCH_HOSTS", "http://es:9200", "LOGFERRY_LOG_LEVEL", "debug", "LOGFERRY_TEST_DIR", "/tmp/x",
                "LOGFERRY_NOTHING_LIKE_IT_AT_ALL_REALLY", "1", "PATH", "/bin"));
        loader.load(null);
        assertThat(loader.warnings()).containsExactly(
                "config: environment variable LOGFERRY_ELASTICSEARCH_HOST is not a config key and is ignored;"
                        + " did you mean LOGFERRY_ELASTICSEARCH_HOSTS?",
                "config: environment variable LOGFERRY_NOTHING_LIKE_IT_AT_ALL_REALLY is not a config key and is ignored");
    }

    @Test
    void editDistance() {
        assertThat(ConfigLoader.distance("kitten", "sitting")).isEqualTo(3);
        assertThat(ConfigLoader.distance("", "abc")).isEqualTo(3);
        assertThat(ConfigLoader.distance("same", "same")).isZero();
    }
}
