package io.logferry.bench;

import io.logferry.decode.DockerEntry;
import io.logferry.decode.Message;
import io.logferry.decode.MessageAssembler;
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

import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * Decoded json-file entries → messages ({@link MessageAssembler#accept}): partial-line joining,
 * max_bytes, multiline, line filters and (java+json) JSON decoding of the message. Per json-file
 * entry, in ns. {@code plain}: the plain corpus with the defaults; {@code java}: the realistic
 * corpus with {@code logferry.multiline=java}; {@code java+json}: and {@code logferry.json=true}.
 *
 * <p>{@link #javaPatternFind} / {@link #javaPatternLookingAt}: the multiline test alone, per
 * line, as the assembler runs it ({@code find()}) and anchored ({@code lookingAt()}), which is
 * equivalent for the built-in patterns since they begin with {@code ^}.
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class MessageAssemblerBench {
    static final int LINES = 10_000;

    @Param({"plain", "java", "java+json"})
    public String settings;

    private List<DockerEntry> entries;
    private String[] texts;
    private Pattern pattern;
    private MessageAssembler assembler;
    private Blackhole sinkHole;
    private int next;

    @Setup(Level.Trial)
    public void setup(Blackhole bh) {
        Corpus corpus = Corpus.generate(settings.equals("plain") ? "plain" : "realistic", 50_000, 42);
        entries = Fixtures.entries(corpus);
        var s = Fixtures.settings(Fixtures.container(settings));
        pattern = Pattern.compile(s.multiline().enabled() ? s.multiline().pattern().source() : "^(\\s+at\\s|Caused by:)");
        texts = entries.stream().map(DockerEntry::log).toArray(String[]::new);
        sinkHole = bh;
        assembler = new MessageAssembler(s, new MessageAssembler.Sink() {
            @Override
            public void message(Message m) {
                sinkHole.consume(m);
            }

            @Override
            public void skipped(Cursor commit) {
                sinkHole.consume(commit);
            }
        });
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void accept() throws InterruptedException {
        List<DockerEntry> es = entries;
        int i = next;
        for (int k = 0; k < LINES; k++) {
            if (i == es.size()) {
                i = 0;
            }
            assembler.accept(es.get(i), 1, Fixtures.FILE_ID);
            i++;
        }
        next = i;
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void javaPatternFind(Blackhole bh) {
        String[] t = texts;
        int i = next;
        for (int k = 0; k < LINES; k++) {
            if (i == t.length) {
                i = 0;
            }
            bh.consume(pattern.matcher(t[i]).find());
            i++;
        }
        next = i;
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void javaPatternLookingAt(Blackhole bh) {
        String[] t = texts;
        int i = next;
        for (int k = 0; k < LINES; k++) {
            if (i == t.length) {
                i = 0;
            }
            bh.consume(pattern.matcher(t[i]).lookingAt());
            i++;
        }
        next = i;
    }
}
