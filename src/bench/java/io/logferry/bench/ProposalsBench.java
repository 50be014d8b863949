package io.logferry.bench;

import io.logferry.decode.DockerEntry;
import io.logferry.decode.DockerJsonDecoder;
import io.logferry.elasticsearch.JsonOut;
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

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The agent's code next to the {@link Prototypes} of proposed changes, per json-file line (or per
 * message for the escape pair), in ns:
 * <ul>
 * <li>{@code decodeJackson} vs {@code decodeScanner}: DockerJsonDecoder.decode vs a scanner for
 *     dockerd's fixed layout (falling back to Jackson otherwise);</li>
 * <li>{@code escapeJsonOut} vs {@code escapeGetBytes}: JsonOut.string vs getBytes + run copy,
 *     on the decoded messages;</li>
 * <li>{@code passthrough}: the whole plain path with the message's escaped bytes copied from
 *     the json-file line into the document (compare with PipelineBench.line, plain).</li>
 * </ul>
 */
@State(Scope.Thread)
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 2, time = 2)
@Measurement(iterations = 3, time = 2)
@Fork(1)
public class ProposalsBench {
    static final int LINES = 10_000;

    @Param({"plain", "realistic"})
    public String mix;

    private Corpus corpus;
    private String[] texts;
    private final JsonOut out = new JsonOut(64 * 1024);
    private final Prototypes.Scanned scanned = new Prototypes.Scanned();
    private byte[] head;
    private byte[] fileAndTail;
    private long idHigh = 0x0123456789abcdefL;
    private long idLow = 0x7edcba9876543210L;
    private int next;

    @Setup(Level.Trial)
    public void setup() {
        corpus = Corpus.generate(mix, 50_000, 42);
        List<DockerEntry> es = Fixtures.entries(corpus);
        texts = es.stream().map(DockerEntry::log).toArray(String[]::new);
        JsonOut h = new JsonOut(256);
        h.ascii("{\"create\":{\"_index\":").string("logs-docker-default").ascii(",\"_id\":\"");
        head = h.toBytes();
        // what DocumentBuilder writes after the offset: the path, then the per-container constants
        var c = Fixtures.container("plain");
        var s = Fixtures.settings(c);
        JsonOut t = new JsonOut(2048);
        t.ascii(",\"file\":{\"path\":").string(Fixtures.LOG_PATH).raw('}').raw('}');
        Fixtures.builder(c, s, null);           // the constants: taken from a real document below
        byte[] doc = Fixtures.builder(c, s, null).build(Fixtures.messagesOf(c, s, corpus, 1).get(0), new int[1]);
        String d = new String(doc, StandardCharsets.UTF_8);
        int at = d.indexOf(",\"container\":");
        t.raw(d.substring(at).getBytes(StandardCharsets.UTF_8));
        fileAndTail = t.toBytes();
    }

    private int advance(int i) {
        return i + 1 == corpus.entries() ? 0 : i + 1;
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void decodeJackson(Blackhole bh) throws DockerJsonDecoder.MalformedLineException {
        Corpus c = corpus;
        int i = next;
        for (int k = 0; k < LINES; k++) {
            bh.consume(DockerJsonDecoder.decode(c.data, c.start[i], c.length[i], 0, 1));
            i = advance(i);
        }
        next = i;
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void decodeScanner(Blackhole bh) throws DockerJsonDecoder.MalformedLineException {
        Corpus c = corpus;
        Prototypes.Scanned s = scanned;
        int i = next;
        for (int k = 0; k < LINES; k++) {
            if (Prototypes.scan(c.data, c.start[i], c.length[i], s)) {
                bh.consume(s.log);
                bh.consume(s.time);
            } else {
                bh.consume(DockerJsonDecoder.decode(c.data, c.start[i], c.length[i], 0, 1));
            }
            i = advance(i);
        }
        next = i;
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void escapeJsonOut(Blackhole bh) {
        String[] t = texts;
        int i = next;
        for (int k = 0; k < LINES; k++) {
            out.reset();
            out.string(t[i]);
            bh.consume(out.toBytes());
            i = advance(i);
        }
        next = i;
    }

    @Benchmark
    @OperationsPerInvocation(LINES)
    public void escapeGetBytes(Blackhole bh) {
        String[] t = texts;
        int i = next;
        for (int k = 0; k < LINES; k++) {
            out.reset();
            Prototypes.string(out, t[i]);
            bh.consume(out.toBytes());
            i = advance(i);
        }
        next = i;
    }

    /** Plain path, end to end per line, as a lower bound: scan, copy the escaped message, write the document. */
    @Benchmark
    @OperationsPerInvocation(LINES)
    public void passthrough(Blackhole bh) throws DockerJsonDecoder.MalformedLineException {
        Corpus c = corpus;
        Prototypes.Scanned s = scanned;
        int i = next;
        long off = 0;
        for (int k = 0; k < LINES; k++) {
            if (Prototypes.scan(c.data, c.start[i], c.length[i], s)) {
                bh.consume(Prototypes.passthrough(out, c.data, s, off, head, fileAndTail, id(off)));
            } else {
                bh.consume(DockerJsonDecoder.decode(c.data, c.start[i], c.length[i], 0, 1));
            }
            off += c.length[i] + 1;
            i = advance(i);
        }
        next = i;
    }

    /** As DocumentBuilder.id: 128 bits from the file's hash and the offset, URL-safe base64. */
    private String id(long off) {
        ByteBuffer b = ByteBuffer.allocate(16);
        b.putLong(mix(idHigh ^ (off * 0x9E3779B97F4A7C15L)));
        b.putLong(mix(idLow + off * 0xC2B2AE3D27D4EB4FL));
        return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
    }

    private static long mix(long z) {
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }
}
