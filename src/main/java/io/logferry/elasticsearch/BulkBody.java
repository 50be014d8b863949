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

/**
 * A {@code _bulk} body made of the events' own serialised bytes, written to the connection part by
 * part: no copy of the whole body is made. The HTTP client uses an entity that is its own content
 * producer as it is; {@link #close()} rewinds it, so that a retry on another host sends it again
 * from the start (as the client's own {@code NByteArrayEntity} does).
 */
final class BulkBody extends AbstractHttpEntity implements HttpAsyncContentProducer {
    private final byte[][] parts;
    private final long length;
    private int part;
    private ByteBuffer current;

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
    public void produceContent(ContentEncoder encoder, IOControl io) throws IOException {
        while (part < parts.length) {
            if (current == null) {
                current = ByteBuffer.wrap(parts[part]);
            }
            encoder.write(current);
            if (current.hasRemaining()) {
                return;                          // the channel is full: called again when it drains
            }
            current = null;
            part++;
        }
        encoder.complete();
    }

    @Override
    public void close() {
        part = 0;
        current = null;
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
