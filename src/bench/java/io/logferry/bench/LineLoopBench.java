package io.logferry.bench;

import io.logferry.decode.DockerTime;
import io.logferry.decode.JsonFileReader;
import io.logferry.decode.LineMark;
import io.logferry.decode.Message;
import io.logferry.decode.MessageAssembler;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.metrics.Metrics;
import io.logferry.metrics.StageHistogram;
import io.logferry.model.Cursor;
import io.logferry.registry.InFlight;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;

/**
 * The file tailer's own line loop, {@link JsonFileReader}, over the plain corpus in memory: split at
 * {@code '\n'} → decode → assemble → document bytes, with each line marked in flight
 * ({@code inflight}: a slot of {@link InFlight}'s memory-mapped file, as the agent runs it) or not
 * ({@code none}: {@link LineMark#NONE}). The difference is what the poison-pill protection costs per
 * line. {@code readlag}: no mark, each line's Docker time parsed and counted into the read-lag
 * histogram as the file tailer does (issue 25). ns per json-file line.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class LineLoopBench {
    @Param({"none", "inflight", "readlag"})
    public String mark;

    private byte[] bytes;
    private int lines;
    private JsonFileReader reader;
    private JsonFileReader.Source source;
    private InFlight inFlight;
    private Path dir;
    // readlag: what the file tailer adds per line for logferry_event_read_lag_seconds (tail.ReadLag's work)
    private final DockerTime times = new DockerTime();
    private StageHistogram.Tally lag;
    private long readAt;

    @Setup(Level.Trial)
    public void setup(Blackhole hole) throws IOException {
        Corpus corpus = Corpus.generate("plain", 50_000, 42);
        int end = corpus.start[corpus.entries() - 1] + corpus.length[corpus.entries() - 1] + 1;
        bytes = java.util.Arrays.copyOf(corpus.data, end);
        lines = corpus.entries();
        if (lines != 50_000) {
            throw new IllegalStateException("the plain corpus has " + lines + " entries, not 50,000: fix @OperationsPerInvocation");
        }
        var c = Fixtures.container("plain");
        var s = Fixtures.settings(c);
        DocumentBuilder builder = Fixtures.builder(c, s, Fixtures.LOG_PATH);
        int[] docStart = new int[1];
        MessageAssembler assembler = new MessageAssembler(s, new MessageAssembler.Sink() {
            @Override
            public void message(Message m) {
                hole.consume(builder.buildHead(m, docStart));
            }

            @Override
            public void skipped(Cursor commit) {
                hole.consume(commit);
            }
        });
        reader = new JsonFileReader(assembler, new JsonFileReader.Listener() {
            @Override
            public String identify(byte[] line, int off, int len) {
                return Fixtures.FILE_ID;
            }

            @Override
            public void malformed(long offset, String why) {
                throw new IllegalStateException("malformed at " + offset + ": " + why);
            }

            @Override
            public void read(boolean atEnd) {
                if (lag != null) {
                    readAt = System.currentTimeMillis();
                }
            }

            @Override
            public void entry(String dockerTime) {
                if (lag != null) {
                    long t = times.epochMillis(dockerTime);
                    if (t != DockerTime.NONE) {
                        lag.add(false, readAt - t);
                    }
                }
            }
        });
        if (mark.equals("readlag")) {
            lag = new Metrics().readLag().tally();
        }
        if (mark.equals("inflight")) {
            dir = Files.createTempDirectory("linebench");
            inFlight = InFlight.open(InFlight.beside(dir.resolve("registry.json")));
            reader.mark(inFlight.take(c.id()));
        }
        byte[] data = bytes;
        source = new JsonFileReader.Source() {
            @Override
            public long size() {
                return data.length;
            }

            @Override
            public int read(ByteBuffer dst, long position) {
                if (position >= data.length) {
                    return -1;
                }
                int n = (int) Math.min(dst.remaining(), data.length - position);
                dst.put(data, (int) position, n);
                return n;
            }
        };
    }

    @TearDown(Level.Trial)
    public void tearDown() throws IOException {
        if (inFlight != null) {
            inFlight.close();
            Files.deleteIfExists(inFlight.file());
            Files.deleteIfExists(dir);
        }
    }

    /** The whole corpus (50,000 messages), read as one file from offset 0. */
    @Benchmark
    @OperationsPerInvocation(50_000)
    public void file() throws Exception {
        reader.open(Fixtures.FILE_ID, 0);
        while (reader.readOnce(source) > 0) {
            if (lag != null) {
                lag.flush();
            }
        }
    }
}
