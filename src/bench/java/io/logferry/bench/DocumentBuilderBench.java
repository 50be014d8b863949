package io.logferry.bench;

import io.logferry.decode.Message;
import io.logferry.elasticsearch.DocumentBuilder;
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

import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Message → bulk action line + document ({@link DocumentBuilder#build}), per message, in ns.
 * {@code settings}: as in {@link MessageAssemblerBench}. {@code path}: {@code with} is what the
 * agent does (log.file.path written, and escaped, in every document); {@code none} leaves the
 * path out, which bounds what pre-serialising it once per container would save.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class DocumentBuilderBench {
    static final int MESSAGES = 10_000;

    @Param({"plain", "java+json"})
    public String settings;

    @Param({"with", "none"})
    public String path;

    private List<Message> messages;
    private DocumentBuilder builder;
    private final int[] docStart = new int[1];
    private int next;

    @Setup(Level.Trial)
    public void setup() throws InterruptedException {
        var c = Fixtures.container(settings);
        var s = Fixtures.settings(c);
        messages = Fixtures.messages(Corpus.generate(settings.equals("plain") ? "plain" : "realistic", 50_000, 42), s);
        builder = Fixtures.builder(c, s, path.equals("with") ? Fixtures.LOG_PATH : null);
    }

    @Benchmark
    @OperationsPerInvocation(MESSAGES)
    public void build(Blackhole bh) {
        List<Message> ms = messages;
        int i = next;
        for (int k = 0; k < MESSAGES; k++) {
            if (i == ms.size()) {
                i = 0;
            }
            bh.consume(builder.buildHead(ms.get(i), docStart));
            i++;
        }
        next = i;
    }
}
