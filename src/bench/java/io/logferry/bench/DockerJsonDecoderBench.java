package io.logferry.bench;

import io.logferry.decode.DockerJsonDecoder;
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
 * One json-file line → {@code DockerEntry} ({@link DockerJsonDecoder#decode}), per line. The
 * score is nanoseconds per json-file line: 1000 ns/line is 1 CPU second per million lines.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class DockerJsonDecoderBench {
    /** Lines per invocation: the corpus is cycled in slices of this many lines. */
    static final int LINES = 10_000;

    @Param({"plain", "realistic"})
    public String mix;

    private Corpus corpus;
    private int next;

    @Setup(Level.Trial)
    public void setup() {
        corpus = Corpus.generate(mix, 50_000, 42);
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void decode(Blackhole bh) throws DockerJsonDecoder.MalformedLineException {
        Corpus c = corpus;
        int i = next;
        for (int k = 0; k < LINES; k++) {
            if (i == c.entries()) {
                i = 0;
            }
            bh.consume(DockerJsonDecoder.decode(c.data, c.start[i], c.length[i], c.start[i], c.start[i] + c.length[i] + 1));
            i++;
        }
        next = i;
    }
}
