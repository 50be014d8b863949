package io.logferry.elasticsearch;

import org.apache.http.entity.AbstractHttpEntity;
import org.apache.http.entity.ContentType;
import org.apache.http.nio.ContentEncoder;
import org.apache.http.nio.IOControl;
import org.apache.http.nio.entity.HttpAsyncContentProducer;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.SequenceInputStream;
import java.nio.ByteBuffer;
import java.util.Arrays;
import java.util.Collections;
import java.util.concurrent.ConcurrentLinkedQueue;

/**
 * A {@code _bulk} body made of the events' own serialised bytes. They are gathered into a direct
 * buffer of {@link #CHUNK} bytes at a time, which the connection writes to the socket as it is: one
 * copy of each byte and one socket write per chunk. (Handed small heap arrays, the client would copy
 * them into its 8 KiB session buffer, then again into a temporary direct buffer for each socket
 * write, one write per 8 KiB.) The HTTP client uses an entity that is its own content producer as
 * it is; {@link #close()} rewinds it, so that a retry on another host sends it again from the start
 * (as the client's own {@code NByteArrayEntity} does).
 */
final class BulkBody extends AbstractHttpEntity implements HttpAsyncContentProducer {
    static final int CHUNK = 128 * 1024;
    /** Chunk buffers not in use: about one per request in flight (direct memory is freed only by a GC). */
    private static final ConcurrentLinkedQueue<ByteBuffer> FREE = new ConcurrentLinkedQueue<>();

    private final byte[][] parts;
    private final long length;
    private int part;
    private int partOffset;
    private ByteBuffer chunk;

    BulkBody(byte[][] parts, ContentType type) {
        this.parts = parts;
        long n = 0;
        for (byte[] p : parts) {
            n += p.length;
        }
        this.length = n;
        setContentType(type.toString());
    }

    @Override
    public synchronized void produceContent(ContentEncoder encoder, IOControl io) throws IOException {
        if (chunk == null) {
            chunk = FREE.poll();
            if (chunk == null) {
                chunk = ByteBuffer.allocateDirect(CHUNK);
            }
            chunk.limit(0);
        }
        while (true) {
            if (!chunk.hasRemaining()) {
                if (part == parts.length) {
                    release();
                    encoder.complete();
                    return;
                }
                fill();
            }
            encoder.write(chunk);
            if (chunk.hasRemaining()) {
                return;                          // the socket is full: called again when it drains
            }
        }
    }

    /** The next bytes of the parts, as many as fit, into the empty chunk. */
    private void fill() {
        chunk.clear();
        while (part < parts.length && chunk.hasRemaining()) {
            byte[] p = parts[part];
            int n = Math.min(p.length - partOffset, chunk.remaining());
            chunk.put(p, partOffset, n);
            partOffset += n;
            if (partOffset == p.length) {
                part++;
                partOffset = 0;
            }
        }
        chunk.flip();
    }

    private void release() {
        if (chunk != null) {
            chunk.clear();
            FREE.offer(chunk);
            chunk = null;
        }
    }

    @Override
    public synchronized void close() {
        part = 0;
        partOffset = 0;
        release();
    }

    @Override
    public boolean isRepeatable() {
        return true;
    }

    @Override
    public long getContentLength() {
        return length;
    }

    @Override
    public InputStream getContent() {
        return new SequenceInputStream(Collections.enumeration(
                Arrays.stream(parts).map(ByteArrayInputStream::new).toList()));
    }

    @Override
    public void writeTo(OutputStream out) throws IOException {
        for (byte[] p : parts) {
            out.write(p);
        }
    }

    @Override
    public boolean isStreaming() {
        return false;
    }
}
