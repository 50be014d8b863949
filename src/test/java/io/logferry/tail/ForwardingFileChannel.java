package io.logferry.tail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.MappedByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.channels.ReadableByteChannel;
import java.nio.channels.WritableByteChannel;

/**
 * A read-only log file for tests of a copy to the spool: everything is the real file's, and
 * {@link #beforeTransfer} and {@link #beforeRead} run before each {@code transferTo} and each
 * positional {@code read}, where a test stalls the copy or does what another thread would do
 * meanwhile.
 */
public class ForwardingFileChannel extends FileChannel {
    private final FileChannel file;

    public ForwardingFileChannel(FileChannel file) {
        this.file = file;
    }

    /** Runs before each {@code transferTo} (the spool's copy); nothing by default. */
    protected void beforeTransfer() throws IOException {
    }

    /** Runs before each positional {@code read}; nothing by default. */
    protected void beforeRead() throws IOException {
    }

    @Override
    public long transferTo(long position, long count, WritableByteChannel target) throws IOException {
        beforeTransfer();
        return file.transferTo(position, count, target);
    }

    @Override
    public int read(ByteBuffer dst) throws IOException {
        return file.read(dst);
    }

    @Override
    public long read(ByteBuffer[] dsts, int offset, int length) throws IOException {
        return file.read(dsts, offset, length);
    }

    @Override
    public int write(ByteBuffer src) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public long write(ByteBuffer[] srcs, int offset, int length) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public long position() throws IOException {
        return file.position();
    }

    @Override
    public FileChannel position(long newPosition) throws IOException {
        file.position(newPosition);
        return this;
    }

    @Override
    public long size() throws IOException {
        return file.size();
    }

    @Override
    public FileChannel truncate(long size) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public void force(boolean metaData) throws IOException {
        file.force(metaData);
    }

    @Override
    public long transferFrom(ReadableByteChannel src, long position, long count) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public int read(ByteBuffer dst, long position) throws IOException {
        beforeRead();
        return file.read(dst, position);
    }

    @Override
    public int write(ByteBuffer src, long position) throws IOException {
        throw new IOException("read-only");
    }

    @Override
    public MappedByteBuffer map(MapMode mode, long position, long size) throws IOException {
        return file.map(mode, position, size);
    }

    @Override
    public FileLock lock(long position, long size, boolean shared) throws IOException {
        return file.lock(position, size, shared);
    }

    @Override
    public FileLock tryLock(long position, long size, boolean shared) throws IOException {
        return file.tryLock(position, size, shared);
    }

    @Override
    protected void implCloseChannel() throws IOException {
        file.close();
    }
}
