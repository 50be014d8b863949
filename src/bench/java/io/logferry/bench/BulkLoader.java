package io.logferry.bench;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.ByteBuffer;
import java.nio.channels.FileChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The ceiling for run 3 of scripts/bench.sh: sends the NDJSON that {@link BulkCorpus} wrote,
 * batch by batch, with {@code --concurrency} concurrent {@code _bulk} requests, as fast as
 * Elasticsearch takes them. No decoding, no document building: only reading the prepared bytes
 * and HTTP. Retries a batch that gets 429 or 5xx (or has retryable items: then the whole batch is
 * sent again with op_type create, where 409 counts as done). Prints one JSON line.
 *
 * <pre>
 * java -cp target/logferry-bench.jar io.logferry.bench.BulkLoader --url http://127.0.0.1:19200
 *     --ndjson FILE.ndjson --batches FILE.batches [--concurrency 2] [--deadline-seconds 1800]
 * </pre>
 */
public final class BulkLoader {
    private BulkLoader() { }

    public static void main(String[] args) throws Exception {
        Map<String, String> opt = new LinkedHashMap<>();
        for (int i = 0; i + 1 < args.length; i += 2) {
            opt.put(args[i].substring(2), args[i + 1]);
        }
        String url = BulkCorpus.req(opt, "url");
        Path ndjson = Path.of(BulkCorpus.req(opt, "ndjson"));
        List<Long> offsets = new ArrayList<>();
        for (String l : Files.readAllLines(Path.of(BulkCorpus.req(opt, "batches")))) {
            if (!l.isBlank()) {
                offsets.add(Long.parseLong(l.trim()));
            }
        }
        int concurrency = Integer.parseInt(opt.getOrDefault("concurrency", "2"));
        long deadline = System.nanoTime() + Long.parseLong(opt.getOrDefault("deadline-seconds", "1800")) * 1_000_000_000L;
        HttpClient http = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1).connectTimeout(Duration.ofSeconds(5)).build();
        URI bulk = URI.create(url + "/_bulk?filter_path=errors,items.*.status");
        AtomicInteger next = new AtomicInteger();
        AtomicLong retries = new AtomicLong();
        AtomicLong failed = new AtomicLong();
        AtomicLong sentBytes = new AtomicLong();
        int batches = offsets.size() - 1;
        long cpu0 = cpuNanos();
        long t0 = System.nanoTime();
        List<Thread> workers = new ArrayList<>();
        for (int w = 0; w < concurrency; w++) {
            workers.add(Thread.ofPlatform().name("loader-" + w).start(() -> {
                try (FileChannel ch = FileChannel.open(ndjson, StandardOpenOption.READ)) {
                    int b;
                    while ((b = next.getAndIncrement()) < batches) {
                        long from = offsets.get(b);
                        byte[] body = new byte[(int) (offsets.get(b + 1) - from)];
                        ByteBuffer bb = ByteBuffer.wrap(body);
                        while (bb.hasRemaining()) {
                            if (ch.read(bb, from + bb.position()) < 0) {
                                throw new IOException("short read at " + from);
                            }
                        }
                        sentBytes.addAndGet(body.length);
                        for (int attempt = 0; ; attempt++) {
                            if (System.nanoTime() > deadline) {
                                failed.incrementAndGet();
                                return;
                            }
                            HttpResponse<String> r = http.send(HttpRequest.newBuilder(bulk)
                                    .header("Content-Type", "application/x-ndjson")
                                    .timeout(Duration.ofSeconds(120))
                                    .POST(HttpRequest.BodyPublishers.ofByteArray(body)).build(), HttpResponse.BodyHandlers.ofString());
                            boolean retry = r.statusCode() == 429 || r.statusCode() >= 500
                                    || (r.statusCode() == 200 && r.body().startsWith("{\"errors\":true") && retryable(r.body()));
                            if (r.statusCode() == 200 && !retry) {
                                if (r.body().startsWith("{\"errors\":true")) {
                                    failed.incrementAndGet();
                                    System.err.println("batch " + b + " has refused items: " + r.body().substring(0, Math.min(300, r.body().length())));
                                }
                                break;
                            }
                            if (!retry) {
                                failed.incrementAndGet();
                                System.err.println("batch " + b + ": HTTP " + r.statusCode() + " " + r.body().substring(0, Math.min(300, r.body().length())));
                                break;
                            }
                            retries.incrementAndGet();
                            Thread.sleep(Math.min(1000L << Math.min(attempt, 5), 30_000));
                        }
                    }
                } catch (IOException | InterruptedException e) {
                    failed.incrementAndGet();
                    System.err.println("loader worker failed: " + e);
                }
            }));
        }
        for (Thread t : workers) {
            t.join();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("{\"batches\":%d,\"bytes\":%d,\"seconds\":%.3f,\"retries\":%d,\"failed_batches\":%d,\"loader_cpu_seconds\":%.2f,\"concurrency\":%d}%n",
                batches, sentBytes.get(), secs, retries.get(), failed.get(), (cpuNanos() - cpu0) / 1e9, concurrency);
        System.exit(failed.get() == 0 ? 0 : 1);
    }

    /** Only statuses 201 and 409 (already there), else a 429 or 5xx somewhere: send again. */
    private static boolean retryable(String body) {
        return body.contains("\"status\":429") || body.matches("(?s).*\"status\":5\\d\\d.*");
    }

    private static long cpuNanos() {
        return ((com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean()).getProcessCpuTime();
    }
}
