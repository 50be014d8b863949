package io.logferry.migrate;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Writes a Filebeat registry directory in the format of libbeat's memlog store, as Filebeat 8.x
 * leaves it in {@code data/registry/filebeat}: {@code meta.json} ({@code {"version":"1"}}),
 * {@code active.dat} (Filebeat's own absolute path of the checkpoint), the checkpoint
 * {@code <txid>.json} (a JSON array of {@code {"_key": ..., ...value}}) and {@code log.json} (an
 * action line {@code {"op":"set","id":N}} then {@code {"k":...,"v":...}}, or
 * {@code {"op":"remove","id":N}} then {@code {"k":...}}). Sources: elastic/beats
 * {@code libbeat/statestore/backend/memlog/diskstore.go} ({@code WriteCheckpoint},
 * {@code updateActiveMarker}, {@code LogOperation}, {@code loadLogFile}) and {@code op.go}; the
 * values are shaped as the log/container input's state ({@code filebeat::logs::native::<inode>-<device>}:
 * {@code id}, {@code prev_id}, {@code source}, {@code offset}, {@code timestamp}, {@code ttl},
 * {@code type}, {@code FileStateOS}, {@code identifier_name}) and filestream's
 * ({@code filestream::<input id>::native::<inode>-<device>}: {@code ttl}, {@code updated},
 * {@code cursor.offset}, {@code meta.source}, {@code meta.identifier_name}), as Filebeat writes them
 * (the same fields as registry excerpts users publish from their {@code log.json}).
 */
public final class FilebeatFixture {
    private final List<String> checkpoint = new ArrayList<>();
    private final StringBuilder log = new StringBuilder();
    private long txid;
    private long next;

    /** A store whose checkpoint has transaction id {@code txid}; the log's operations follow it. */
    public FilebeatFixture(long txid) {
        this.txid = txid;
        this.next = txid + 1;
    }

    /** The value of the container (log) input's state for a file. */
    public static String containerState(String source, long inode, long device, long offset) {
        return ("{\"id\":\"native::%d-%d\",\"prev_id\":\"\",\"source\":\"%s\",\"offset\":%d,\"timestamp\":[2062097738578,1765140000],"
                + "\"ttl\":-1,\"type\":\"container\",\"FileStateOS\":{\"inode\":%d,\"device\":%d},\"identifier_name\":\"native\"}")
                .formatted(inode, device, source, offset, inode, device);
    }

    public static String containerKey(long inode, long device) {
        return "filebeat::logs::native::" + inode + "-" + device;
    }

    /** filestream's value; {@code offset} -1 writes {@code "cursor":null} (nothing acknowledged yet). */
    public static String filestreamState(String source, String identifier, long offset) {
        return ("{\"ttl\":1800000000000,\"updated\":[281470681743360,18446744011573954816],\"cursor\":%s,"
                + "\"meta\":{\"source\":\"%s\",\"identifier_name\":\"%s\"}}")
                .formatted(offset < 0 ? "null" : "{\"offset\":" + offset + "}", source, identifier);
    }

    public FilebeatFixture inCheckpoint(String key, String value) {
        checkpoint.add("{\"_key\":\"" + key + "\"," + value.substring(1));
        return this;
    }

    public FilebeatFixture set(String key, String value) {
        log.append("{\"op\":\"set\",\"id\":").append(next++).append("}\n{\"k\":\"").append(key).append("\",\"v\":").append(value).append("}\n");
        return this;
    }

    public FilebeatFixture remove(String key) {
        log.append("{\"op\":\"remove\",\"id\":").append(next++).append("}\n{\"k\":\"").append(key).append("\"}\n");
        return this;
    }

    /** Raw text appended to log.json (a cut-off operation, a stale one). */
    public FilebeatFixture raw(String text) {
        log.append(text);
        return this;
    }

    /** Writes {@code home/data/registry/filebeat} and returns that directory. */
    public Path write(Path home) throws IOException {
        Path dir = home.resolve("data/registry/filebeat");
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("meta.json"), "{\"version\":\"1\"}\n");
        if (!checkpoint.isEmpty() || txid > 0) {
            Files.writeString(dir.resolve(txid + ".json"), "[" + String.join(",\n", checkpoint) + "\n]", StandardCharsets.UTF_8);
            Files.writeString(dir.resolve("active.dat"), "/usr/share/filebeat/data/registry/filebeat/" + txid + ".json");
        }
        Files.writeString(dir.resolve("log.json"), log, StandardCharsets.UTF_8);
        return dir;
    }
}
