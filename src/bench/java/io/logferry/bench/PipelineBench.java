package io.logferry.bench;

import io.logferry.decode.DockerJsonDecoder;
import io.logferry.decode.Message;
import io.logferry.decode.MessageAssembler;
import io.logferry.elasticsearch.DocumentBuilder;
import io.logferry.model.Cursor;
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
import org.openjdk.jmh.annotations.Warmup;
import org.openjdk.jmh.infra.Blackhole;

import java.util.concurrent.TimeUnit;

/**
 * The tailer's per-line work without I/O, queue or output: json-file line → decode → assemble →
 * document bytes, as {@code FileTailer.line} and {@code FileTailer.publish} do it. Per json-file
 * line, in ns (1000 ns/line = 1 CPU s per million lines). {@code plain}: plain corpus, defaults
 * (run 1 of scripts/bench.sh); {@code java+json}: realistic corpus with multiline java and JSON
 * decoding (run 2); {@code java}: realistic corpus, multiline only; {@code java+json+dissect}: run 2 with a
 * dissect hint (what a dissect processor adds).
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class PipelineBench {
    static final int LINES = 10_000;

    @Param({"plain", "java", "java+json", "java+json+dissect"})
    public String settings;

    private Corpus corpus;
    private MessageAssembler assembler;
    private DocumentBuilder builder;
    private final int[] docStart = new int[1];
    private Blackhole hole;
    private int next;
    private long offset;

    @Setup(Level.Trial)
    public void setup(Blackhole bh) {
        corpus = Corpus.generate(settings.equals("plain") ? "plain" : "realistic", 50_000, 42);
        var c = Fixtures.container(settings);
        var s = Fixtures.settings(c);
        builder = Fixtures.builder(c, s, Fixtures.LOG_PATH);
        hole = bh;
        assembler = new MessageAssembler(s, new MessageAssembler.Sink() {
            @Override
            public void message(Message m) {
                hole.consume(builder.buildHead(m, docStart));
            }

            @Override
            public void skipped(Cursor commit) {
                hole.consume(commit);
            }
        });
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void line() throws Exception {
        Corpus c = corpus;
        int i = next;
        long off = offset;
        for (int k = 0; k < LINES; k++) {
            if (i == c.entries()) {
                i = 0;
            }
            long end = off + c.length[i] + 1;
            assembler.accept(DockerJsonDecoder.decode(c.data, c.start[i], c.length[i], off, end), 1, Fixtures.FILE_ID);
            off = end;
            i++;
        }
        next = i;
        offset = off;
    }
}
