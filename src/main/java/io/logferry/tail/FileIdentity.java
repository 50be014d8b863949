package io.logferry.tail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Which file a json-file log is. Docker renames a log on rotation and reuses inode numbers of
 * deleted files, so a file is named by a fingerprint of its first line, whose nanosecond
 * timestamp makes it unique: the first 8 bytes of the SHA-256 of the line's first 4 KiB, in hex.
 * The fingerprint is part of every document's {@code _id} and of the registry's entries: a
 * changed function duplicates every replayed line after an upgrade, so
 * {@code FileIdentityTest} pins its values. While a file is open, its inode ({@link #key}) names it.
 * Stateless; safe from any thread.
 */
public final class FileIdentity {
    /** The bytes of the first line that make up its fingerprint. */
    static final int FINGERPRINT_BYTES = 4096;
    /** How far a file is read for its first newline before the first 4 KiB of a longer line stand for it. */
    private static final int FIRST_LINE_WINDOW = 64 * 1024;

    private FileIdentity() { }

    /** The fingerprint of a first line (without its newline): pure, the same in every version. */
    static String fingerprint(byte[] line, int off, int len) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(line, off, Math.min(len, FINGERPRINT_BYTES));
            return HexFormat.of().formatHex(md.digest(), 0, 8);
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }

    /** The fingerprint of the file's first complete line, or null while it has none (or the file is gone). */
    public static String fingerprint(Path p) throws IOException {
        try (FileChannel ch = FileChannel.open(p, StandardOpenOption.READ)) {
            return fingerprint(ch);
        } catch (NoSuchFileException e) {
            return null;
        }
    }

    /** The same, read through an open file (positional reads; its position is not moved). */
    static String fingerprint(FileChannel ch) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(FIRST_LINE_WINDOW);
        while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
            for (int i = 0; i < b.position(); i++) {
                if (b.get(i) == '\n') {
                    return fingerprint(b.array(), 0, i);
                }
            }
        }
        // no newline within the first 64 KiB: the first 4 KiB of a longer line identify it as well
        return b.position() < b.capacity() ? null : fingerprint(b.array(), 0, b.position());
    }

    /**
     * The time Docker stamped on the file's first line (its {@code "time"} field), in epoch
     * nanoseconds; 0 when it has none or it cannot be read. Orders a container's files, spooled or
     * not, oldest first.
     */
    static long firstTime(FileChannel ch) {
        try {
            ByteBuffer b = ByteBuffer.allocate(FIRST_LINE_WINDOW);
            while (b.hasRemaining() && ch.read(b, b.position()) > 0) {
                for (int i = 0; i < b.position(); i++) {
                    if (b.get(i) == '\n') {
                        return time(new String(b.array(), 0, i, java.nio.charset.StandardCharsets.UTF_8));
                    }
                }
            }
            return 0;
        } catch (IOException e) {
            return 0;
        }
    }

    /** The {@code "time":"..."} of one json-file line in epoch nanoseconds, 0 when it has none. */
    static long time(String line) {
        int at = line.lastIndexOf("\"time\":\"");
        if (at < 0) {
            return 0;
        }
        int from = at + 8;
        int to = line.indexOf('"', from);
        try {
            java.time.Instant t = java.time.Instant.parse(line.substring(from, to));
            return t.getEpochSecond() * 1_000_000_000L + t.getNano();
        } catch (RuntimeException e) {
            return 0;
        }
    }

    /** The file's inode (its {@code fileKey}), or null when the path names nothing. */
    static Object key(Path p) {
        try {
            return Files.readAttributes(p, BasicFileAttributes.class).fileKey();
        } catch (IOException e) {
            return null;
        }
    }

    /** An open file and the identity (inode) of that very file. */
    record Opened(FileChannel channel, Object key) { }

    /**
     * Opens a path and learns which file it opened: the path's identity before and after the open
     * must agree, else Docker renamed it in between and it is tried again. Null when it is gone.
     */
    static Opened openStable(Path p) throws IOException {
        for (int attempt = 0; attempt < 5; attempt++) {
            Object before = key(p);
            if (before == null) {
                return null;
            }
            FileChannel ch;
            try {
                ch = FileChannel.open(p, StandardOpenOption.READ);
            } catch (NoSuchFileException e) {
                return null;
            }
            if (before.equals(key(p))) {
                return new Opened(ch, before);
            }
            ch.close();
        }
        return null;
    }
}
