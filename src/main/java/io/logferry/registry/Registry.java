package io.logferry.registry;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * The offset registry on disk: for each container, the log file (by fingerprint) and the byte
 * offset up to which everything is acknowledged, and the files read after it and not yet
 * acknowledged ({@code read}: from the first read, not the first acknowledgement), so that a
 * restart knows which of them Docker deleted meanwhile and reports what the spool does not hold. Versioned JSON, written to a temp file, synced
 * and renamed, mode 0600; the previous good copy is kept as {@code <path>.bak} and used when the
 * main file is corrupt or truncated. Only the registry flusher writes it.
 */
public final class Registry {
    private static final Logger log = LoggerFactory.getLogger(Registry.class);
    private static final ObjectMapper MAPPER = new ObjectMapper();
    public static final int VERSION = 1;

    /**
     * Where a container's acknowledged data ends, and the files read from there on whose bytes are
     * not all acknowledged yet, in the order they were read (the first may be {@code fileId} itself).
     */
    public record Entry(String fileId, long offset, String path, List<Read> read) {
        public Entry {
            read = List.copyOf(read);
        }

        public Entry(String fileId, long offset, String path) {
            this(fileId, offset, path, List.of());
        }
    }

    /** Bytes {@code [from, to)} of the log file {@code fileId} were read and are not all acknowledged. */
    public record Read(String fileId, long from, long to) { }

    /** What the last {@link #write} put in the file; a write of the same is skipped. */
    private Map<String, Entry> lastWritten;

    private final Path path;
    private final Path backup;
    private final Path temp;

    public Registry(Path path) {
        this.path = path;
        this.backup = path.resolveSibling(path.getFileName() + ".bak");
        this.temp = path.resolveSibling(path.getFileName() + ".tmp");
    }

    public Path path() {
        return path;
    }

    /** Reads the registry; a corrupt file is reported and the backup used; nothing at all gives an empty map. */
    public Map<String, Entry> load() {
        if (Files.exists(path)) {
            try {
                return read(path);
            } catch (IOException | RuntimeException e) {
                log.error("registry {} is corrupt or truncated ({}); using the previous good copy {}", path, e.getMessage(), backup);
            }
            if (Files.exists(backup)) {
                try {
                    return read(backup);
                } catch (IOException | RuntimeException e) {
                    log.error("registry backup {} is unusable too ({}); starting without offsets, the _id rule absorbs the replay", backup, e.getMessage());
                }
            }
            return new TreeMap<>();
        }
        if (Files.exists(backup)) {
            try {
                return read(backup);
            } catch (IOException | RuntimeException e) {
                log.error("registry backup {} is unusable ({})", backup, e.getMessage());
            }
        }
        return new TreeMap<>();
    }

    private static Map<String, Entry> read(Path p) throws IOException {
        JsonNode root = MAPPER.readTree(Files.readAllBytes(p));
        if (root == null || !root.isObject()) {
            throw new IOException("empty or not a JSON object");
        }
        int version = root.path("version").asInt(-1);
        if (version != VERSION) {
            throw new IOException("unknown registry version " + root.path("version"));
        }
        Map<String, Entry> out = new TreeMap<>();
        JsonNode containers = root.path("containers");
        for (Iterator<Map.Entry<String, JsonNode>> it = containers.fields(); it.hasNext(); ) {
            Map.Entry<String, JsonNode> e = it.next();
            JsonNode v = e.getValue();
            if (!v.hasNonNull("file") || !v.hasNonNull("offset")) {
                throw new IOException("entry " + e.getKey() + " lacks file or offset");
            }
            List<Read> read = new ArrayList<>();
            for (JsonNode r : v.path("read")) {
                read.add(new Read(r.path("file").asText(), r.path("from").asLong(0), r.path("to").asLong(0)));
            }
            out.put(e.getKey(), new Entry(v.get("file").asText(), v.get("offset").asLong(), v.path("path").asText(""), read));
        }
        return out;
    }

    private static boolean readable(Path p) {
        try {
            read(p);
            return true;
        } catch (IOException | RuntimeException e) {
            return false;
        }
    }

    /** Writes the entries atomically; the file it replaces becomes the backup. */
    public synchronized void write(Map<String, Entry> entries) throws IOException {
        if (entries.equals(lastWritten)) {
            return;     // nothing moved since the last write: an idle agent neither writes nor syncs every second
        }
        ObjectNode root = MAPPER.createObjectNode();
        root.put("version", VERSION);
        root.put("written", Instant.now().toString());
        ObjectNode containers = root.putObject("containers");
        for (Map.Entry<String, Entry> e : new TreeMap<>(entries).entrySet()) {
            ObjectNode n = containers.putObject(e.getKey());
            n.put("file", e.getValue().fileId());
            n.put("offset", e.getValue().offset());
            n.put("path", e.getValue().path());
            if (!e.getValue().read().isEmpty()) {
                com.fasterxml.jackson.databind.node.ArrayNode read = n.putArray("read");
                for (Read r : e.getValue().read()) {
                    read.addObject().put("file", r.fileId()).put("from", r.from()).put("to", r.to());
                }
            }
        }
        byte[] bytes = MAPPER.writerWithDefaultPrettyPrinter().writeValueAsBytes(root);
        Files.createDirectories(path.toAbsolutePath().getParent());
        Files.deleteIfExists(temp);
        try (FileChannel ch = FileChannel.open(temp, java.util.Set.of(StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE),
                PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-------")))) {
            ByteBuffer buf = ByteBuffer.wrap(bytes);
            while (buf.hasRemaining()) {
                ch.write(buf);
            }
            ch.force(true);
        }
        if (Files.exists(path) && Files.size(path) > 0 && readable(path)) {
            // only a good copy becomes the backup: a corrupt main file must not replace the good backup
            Files.copy(path, backup, StandardCopyOption.REPLACE_EXISTING);
            Files.setPosixFilePermissions(backup, PosixFilePermissions.fromString("rw-------"));
        }
        try {
            Files.move(temp, path, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } catch (AtomicMoveNotSupportedException e) {
            Files.move(temp, path, StandardCopyOption.REPLACE_EXISTING);
        }
        try (FileChannel dir = FileChannel.open(path.toAbsolutePath().getParent(), StandardOpenOption.READ)) {
            dir.force(true);
        } catch (IOException ignored) {
            // some filesystems cannot sync a directory; the rename is still atomic
        }
        lastWritten = Map.copyOf(entries);
    }
}
