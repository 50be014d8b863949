package io.logferry.migrate;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Filebeat's registry as Filebeat itself would load it, read only. The format is libbeat's
 * {@code memlog} store (elastic/beats {@code libbeat/statestore/backend/memlog/diskstore.go}):
 *
 * <pre>
 *   data/registry/filebeat/
 *     meta.json     {"version":"1"}
 *     active.dat    the path of the current checkpoint, e.g. /usr/share/filebeat/data/registry/filebeat/1234.json
 *     1234.json     the checkpoint: a JSON array of {"_key": key, ...value}; its name is its transaction id
 *     log.json      the operations after it, two lines each: {"op":"set","id":1235} then {"k": key, "v": value},
 *                   or {"op":"remove","id":1236} then {"k": key}
 * </pre>
 *
 * Loading follows {@code loadLogFile}: operations whose id is at most the checkpoint's are older
 * (a truncation of the log that did not happen before a restart) and skipped; the next id must be
 * one more than the last, and an operation that breaks the sequence, or is cut off (Filebeat was
 * killed while writing), ends the log: what came before it stands, as it does for Filebeat. The
 * states kept are those of the inputs that read files: the {@code log}/{@code container} input
 * ({@code filebeat::logs::native::<inode>-<device>}, value {@code source}, {@code offset},
 * {@code FileStateOS.inode}/{@code device}) and {@code filestream}
 * ({@code filestream::<input id>::native::<inode>-<device>} or {@code ...::fingerprint::<sha256>},
 * value {@code cursor.offset}, {@code meta.source}). Pure reading; no state is kept.
 */
public final class FilebeatRegistry {
    private static final ObjectMapper JSON = new ObjectMapper();
    /** A registry Filebeat writes is a few MB at most; anything far larger is not one. */
    static final long MAX_FILE_BYTES = 512L * 1024 * 1024;
    private static final Pattern NATIVE = Pattern.compile("(\\d+)-(\\d+)");

    /** How a state names its file. */
    public enum Identity { NATIVE, FINGERPRINT, OTHER }

    /**
     * One file's state: where Filebeat's acknowledged reading of it ends. {@code offset} is -1 when
     * nothing of it is acknowledged yet (a filestream cursor that is still null). {@code inode} and
     * {@code device} are set for {@link Identity#NATIVE}, {@code fingerprint} (hex SHA-256) for
     * {@link Identity#FINGERPRINT}.
     */
    public record State(String key, String input, String source, long offset, Identity identity, long inode, long device,
                        String fingerprint) { }

    /** The states, and what could not be used, one line each. */
    public record Loaded(Path dir, List<State> states, List<String> warnings) {
        public Loaded {
            states = List.copyOf(states);
            warnings = List.copyOf(warnings);
        }
    }

    private FilebeatRegistry() { }

    /**
     * The directory holding {@code meta.json} and {@code log.json}: {@code dir} itself, or
     * {@code dir/filebeat}, {@code dir/registry/filebeat}, {@code dir/data/registry/filebeat}
     * (Filebeat's data directory or its home given instead).
     */
    public static Path locate(Path dir) throws IOException {
        for (String sub : List.of("", "filebeat", "registry/filebeat", "data/registry/filebeat")) {
            Path d = sub.isEmpty() ? dir : dir.resolve(sub);
            if (Files.isRegularFile(d.resolve("meta.json")) || Files.isRegularFile(d.resolve("log.json"))) {
                return d;
            }
        }
        throw new IOException(dir + " holds no Filebeat registry (no meta.json or log.json in it, nor in filebeat/,"
                + " registry/filebeat/ or data/registry/filebeat/ under it)");
    }

    public static Loaded load(Path given) throws IOException {
        Path dir = locate(given);
        List<String> warnings = new ArrayList<>();
        Path meta = dir.resolve("meta.json");
        if (Files.isRegularFile(meta)) {
            JsonNode m = readSmall(meta);
            String version = m.path("version").asText("");
            if (!version.equals("1")) {
                throw new IOException(meta + ": registry version '" + version + "' is not one this migration reads (only \"1\","
                        + " libbeat's memlog store)");
            }
        }
        Map<String, JsonNode> table = new LinkedHashMap<>();
        Path checkpoint = checkpoint(dir, warnings);
        long txid = 0;
        if (checkpoint != null) {
            txid = Long.parseUnsignedLong(checkpoint.getFileName().toString().replace(".json", ""));
            JsonNode arr = readSmall(checkpoint);
            if (!arr.isArray()) {
                throw new IOException(checkpoint + ": not a JSON array (a corrupt checkpoint)");
            }
            for (JsonNode e : arr) {
                if (e.path("_key").isTextual()) {
                    table.put(e.get("_key").asText(), e);
                }
            }
        }
        Path log = dir.resolve("log.json");
        if (Files.isRegularFile(log)) {
            replay(log, txid, table, warnings);
        }
        List<State> states = new ArrayList<>();
        for (Map.Entry<String, JsonNode> e : table.entrySet()) {
            State s = state(e.getKey(), e.getValue(), warnings);
            if (s != null) {
                states.add(s);
            }
        }
        return new Loaded(dir, states, warnings);
    }

    /** The checkpoint {@code active.dat} names (by its file name: Filebeat wrote its own path to it), else the newest {@code <n>.json}. */
    private static Path checkpoint(Path dir, List<String> warnings) throws IOException {
        Path active = dir.resolve("active.dat");
        if (Files.isRegularFile(active)) {
            String named = Files.readString(active, StandardCharsets.UTF_8).trim();
            String name = named.substring(named.lastIndexOf('/') + 1);
            if (name.matches("\\d{1,20}\\.json") && Files.isRegularFile(dir.resolve(name))) {
                return dir.resolve(name);
            }
            warnings.add(active + " names '" + named + "', which is not here; the newest checkpoint in " + dir + " is used");
        }
        Path newest = null;
        long best = -1;
        try (var files = Files.list(dir)) {
            for (Path p : (Iterable<Path>) files::iterator) {
                String n = p.getFileName().toString();
                if (n.matches("\\d{1,19}\\.json")) {
                    long id = Long.parseLong(n.substring(0, n.length() - 5));
                    if (id > best) {
                        best = id;
                        newest = p;
                    }
                }
            }
        }
        return newest;
    }

    private static JsonNode readSmall(Path p) throws IOException {
        if (Files.size(p) > MAX_FILE_BYTES) {
            throw new IOException(p + " is " + Files.size(p) + " bytes: larger than any Filebeat registry (" + MAX_FILE_BYTES + ")");
        }
        try {
            JsonNode n = JSON.readTree(p.toFile());
            if (n == null) {
                throw new IOException(p + " is empty");
            }
            return n;
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IOException(p + ": not valid JSON (" + e.getOriginalMessage() + ")");
        }
    }

    /** Applies the operations of {@code log.json} after {@code txid}, as {@code loadLogFile} does. */
    private static void replay(Path log, long txid, Map<String, JsonNode> table, List<String> warnings) throws IOException {
        if (Files.size(log) > MAX_FILE_BYTES) {
            throw new IOException(log + " is " + Files.size(log) + " bytes: larger than any Filebeat registry (" + MAX_FILE_BYTES + ")");
        }
        long last = txid;
        try (InputStream in = Files.newInputStream(log); JsonParser p = JSON.createParser(in)) {
            while (true) {
                JsonNode action;
                JsonNode op;
                try {
                    if (p.nextToken() == null) {
                        return;
                    }
                    action = JSON.readTree(p);
                    if (p.nextToken() == null) {
                        warnings.add(log + ": the last operation (id " + action.path("id") + ") has no body: Filebeat was stopped"
                                + " while writing it; it is ignored, as Filebeat ignores it");
                        return;
                    }
                    op = JSON.readTree(p);
                } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
                    warnings.add(log + ": an operation is cut off or not JSON (" + e.getOriginalMessage() + "); the operations before"
                            + " it are used, as Filebeat uses them");
                    return;
                }
                long id = action.path("id").asLong(-1);
                if (!action.isObject() || id < 0 || !op.isObject()) {
                    warnings.add(log + ": an operation is not {\"op\":...,\"id\":...} followed by its body; the operations before it are used");
                    return;
                }
                if (Long.compareUnsigned(id, txid) <= 0) {
                    continue;            // older than the checkpoint: already in it
                }
                if (id != last + 1) {
                    warnings.add(log + ": operation " + id + " follows " + last + " (ids must be consecutive); the operations"
                            + " from it on are ignored, as Filebeat ignores them");
                    return;
                }
                last = id;
                JsonNode k = op.has("k") ? op.get("k") : op.get("K");
                if (k == null || !k.isTextual()) {
                    continue;
                }
                String kind = action.path("op").asText();
                if (kind.equals("set")) {
                    JsonNode v = op.has("v") ? op.get("v") : op.get("V");
                    table.put(k.asText(), v == null ? JSON.createObjectNode() : v);
                } else if (kind.equals("remove")) {
                    table.remove(k.asText());
                }
            }
        }
    }

    /** The state of one key, null for keys of other inputs (with a warning when it names a file and cannot be used). */
    static State state(String key, JsonNode v, List<String> warnings) {
        if (key.startsWith("filebeat::logs::")) {
            String source = v.path("source").asText("");
            JsonNode os = v.path("FileStateOS");
            if (!os.path("inode").canConvertToLong() || !os.path("device").canConvertToLong()) {
                warnings.add("Filebeat state " + key + " (" + source + ") has no FileStateOS inode/device; not used");
                return null;
            }
            long offset = v.path("offset").canConvertToLong() ? v.get("offset").asLong() : -1;
            return new State(key, v.path("type").asText("log"), source, offset < 0 ? -1 : offset, Identity.NATIVE,
                    os.get("inode").longValue(), os.get("device").longValue(), null);
        }
        if (key.startsWith("filestream::")) {
            String rest = key.substring("filestream::".length());
            // <input id>::<identifier>::<file id>; the input id may itself hold "::", the file id never does for native/fingerprint
            String source = v.path("meta").path("source").asText("");
            JsonNode cursor = v.path("cursor");
            long offset = cursor.path("offset").canConvertToLong() ? cursor.get("offset").asLong() : -1;
            int at = rest.lastIndexOf("::");
            int before = at <= 0 ? -1 : rest.lastIndexOf("::", at - 1);
            String identifier = before < 0 ? "" : rest.substring(before + 2, at);
            String fileId = at < 0 ? "" : rest.substring(at + 2);
            if (identifier.equals("native")) {
                Matcher m = NATIVE.matcher(fileId);
                if (m.matches()) {
                    return new State(key, "filestream", source, offset < 0 ? -1 : offset, Identity.NATIVE,
                            Long.parseUnsignedLong(m.group(1)), Long.parseUnsignedLong(m.group(2)), null);
                }
            } else if (identifier.equals("fingerprint") && fileId.matches("[0-9a-f]{64}")) {
                return new State(key, "filestream", source, offset < 0 ? -1 : offset, Identity.FINGERPRINT, 0, 0, fileId);
            }
            warnings.add("Filebeat state " + key + " (" + source + ") names its file by '" + (identifier.isEmpty() ? "?" : identifier)
                    + "', which this migration cannot match to a file on disk (native and fingerprint only); not used");
            return new State(key, "filestream", source, offset < 0 ? -1 : offset, Identity.OTHER, 0, 0, null);
        }
        return null;
    }
}
