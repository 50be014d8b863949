package io.logferry.elasticsearch;

import io.logferry.elasticsearch.BlockWatch.Note;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** {@link BlockWatch} with a clock the test moves. */
class BlockWatchTest {
    private final AtomicLong now = new AtomicLong(1_000);
    private final BlockWatch watch = new BlockWatch(now::get);

    private void advanceSeconds(long s) {
        now.addAndGet(TimeUnit.SECONDS.toNanos(s));
    }

    private static RoundOutcome items(Map<String, String> blocked, boolean unnamed, Set<String> deliveredTo) {
        return new RoundOutcome(false, List.of(), 0, 0, 0, List.of(), 0, blocked.size(), null, List.of(), List.of(),
                blocked, unnamed, deliveredTo, List.of(), List.of(), 0);
    }

    @Test
    void aBlockIsLoggedWhenSeenThenAtMostEveryThirtySecondsUntilLifted() {
        assertThat(watch.watching()).isFalse();
        assertThat(watch.blocked("logs-shop-prod", "403 cluster_block_exception: flood stage", 10)).isEqualTo(Note.BLOCKED);
        assertThat(watch.watching()).as("items' indices are asked for while a block is known").isTrue();
        assertThat(watch.blocked()).containsExactly("logs-shop-prod");

        advanceSeconds(10);
        assertThat(watch.blocked("logs-shop-prod", "403 cluster_block_exception: flood stage", 10)).isEqualTo(Note.QUIET);
        advanceSeconds(21);
        assertThat(watch.blocked("logs-shop-prod", "403 cluster_block_exception: flood stage", 10)).isEqualTo(Note.STILL_BLOCKED);
        assertThat(watch.blocked("logs-shop-prod", "403 cluster_block_exception: flood stage", 10)).isEqualTo(Note.QUIET);

        advanceSeconds(1);
        assertThat(watch.lifted("logs-shop-prod", watch.now())).isEqualTo(Note.LIFTED);
        assertThat(watch.blocked()).isEmpty();
        assertThat(watch.watching()).isFalse();
        assertThat(watch.lifted("logs-shop-prod", watch.now())).as("once").isEqualTo(Note.NONE);
    }

    @Test
    void onlyARequestSentAfterTheBlockWasSeenLiftsIt() {
        long sentBefore = watch.now();
        advanceSeconds(1);
        watch.blocked("logs-shop-prod", "403 index_block_exception", 1);
        // a request that left before the block was seen (another worker's) says nothing about it
        assertThat(watch.lifted("logs-shop-prod", sentBefore)).isEqualTo(Note.NONE);
        assertThat(watch.blocked()).containsExactly("logs-shop-prod");
        assertThat(watch.lifted("logs-other-prod", watch.now() + 1)).isEqualTo(Note.NONE);
        assertThat(watch.lifted("logs-shop-prod", watch.now() + 1)).isEqualTo(Note.LIFTED);
    }

    @Test
    void aResponseBlocksWhatItNamesAndLiftsWhatItDeliveredTo() {
        watch.blocked(BlockWatch.CLUSTER, "HTTP 403: cluster_block_exception", 5);
        watch.blocked("logs-web-prod", "403 cluster_block_exception", 5);
        advanceSeconds(1);
        long sentAt = watch.now();
        advanceSeconds(1);
        watch.response(true, sentAt, items(Map.of("logs-shop-prod", "403 cluster_block_exception"), false,
                Set.of("logs-web-prod", "logs-shop-prod")), 3);
        // the cluster answered with items; web took documents; shop is blocked now, whatever else went there
        assertThat(watch.blocked()).containsExactly("logs-shop-prod");
    }

    @Test
    void aBlockWithoutItsIndexAsksForTheIndexUntilBlocksAreGone() {
        watch.response(false, watch.now(), items(Map.of(), true, Set.of()), 1);
        assertThat(watch.blocked()).isEmpty();
        assertThat(watch.watching()).as("the next request asks for the index").isTrue();
        // the retry names it
        watch.response(true, watch.now(), items(Map.of("logs-api-prod", "403 index_block_exception"), false, Set.of()), 1);
        assertThat(watch.watching()).isTrue();
        advanceSeconds(1);
        watch.response(true, watch.now(), items(Map.of(), false, Set.of("logs-api-prod")), 0);
        assertThat(watch.blocked()).isEmpty();
        // the index was still wanted when that response came; the next one, with nothing blocked, ends the watch
        watch.response(true, watch.now(), items(Map.of(), false, Set.of()), 0);
        assertThat(watch.watching()).isFalse();
    }

    @Test
    void backingIndexNamesAreBroughtBackToTheirDataStream() {
        assertThat(BlockWatch.dataStream(".ds-logs-docker-run1-2026.11.28-000001")).isEqualTo("logs-docker-run1");
        assertThat(BlockWatch.dataStream("logs-docker-run1")).isEqualTo("logs-docker-run1");
        assertThat(BlockWatch.dataStream("plain-index")).isEqualTo("plain-index");
    }
}
