package io.logferry.decode;

import io.logferry.model.BufferBudget;
import io.logferry.model.ContainerSettings;
import io.logferry.model.Cursor;
import io.logferry.model.LinePattern;
import io.logferry.model.Streams;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code limits.buffers_max_bytes} across containers: one budget for every assembler's partial lines
 * and multiline events, in UTF-8 bytes. Beyond it the largest holder is cut (sent as it is, flagged
 * partial and truncated, the rest of its line dropped), never more held than the bound.
 */
class BufferBudgetTest {
    private static final long T = 0;

    /** Records messages and the commits of skipped bytes of one container. */
    private static final class Sink implements MessageAssembler.Sink {
        final List<Message> messages = new ArrayList<>();
        final List<Cursor> skips = new ArrayList<>();

        @Override
        public void message(Message m) {
            messages.add(m);
        }

        @Override
        public void skipped(Cursor commit) {
            skips.add(commit);
        }
    }

    private static ContainerSettings settings(ContainerSettings.MultilineRule rule) {
        return Feed.settings(Streams.ALL, rule, 1000, List.of(), List.of(), false, "");
    }

    private long at;

    /** A piece of a long line (no newline: Docker's partial entry), or with {@code last} its end. */
    private void feed(MessageAssembler a, String text, boolean last) throws InterruptedException {
        String log = last ? text + "\n" : text;
        long start = at;
        at += log.length() + 40;
        a.accept(new DockerEntry(log, "stdout", "2024-05-01T10:00:00Z", start, at), 1, "F");
    }

    @Test
    void theHolderThatCannotGrowIsCutAndTheRestOfItsLineDropped() throws Exception {
        BufferBudget budget = new BufferBudget(100);
        Sink sink = new Sink();
        MessageAssembler a = new MessageAssembler(settings(Feed.none()), sink, () -> T, budget);
        feed(a, "é".repeat(20), false);                   // 40 UTF-8 bytes
        feed(a, "é".repeat(20), false);                   // 80
        assertThat(budget.used()).isEqualTo(80);
        feed(a, "é".repeat(20), false);                   // 120 > 100: cut
        assertThat(sink.messages).hasSize(1);
        Message cut = sink.messages.get(0);
        assertThat(cut.text()).isEqualTo("é".repeat(60));
        assertThat(cut.flags()).isEqualTo(Message.PARTIAL | Message.TRUNCATED);
        assertThat(cut.start().offset()).isZero();
        assertThat(budget.used()).as("given back").isZero();

        long endOfCut = at;
        feed(a, "dropped", false);
        feed(a, "dropped too", true);                     // the end of the cut line
        assertThat(sink.messages).hasSize(1);
        assertThat(sink.skips).extracting(Cursor::offset).as("the rest of the line moves the cursor")
                .containsExactly(endOfCut + "dropped".length() + 40, at);
        feed(a, "next", true);
        assertThat(sink.messages).extracting(Message::text).containsExactly("é".repeat(60), "next");
        assertThat(sink.messages.get(1).flags()).isZero();
        assertThat(budget.cuts()).isEqualTo(1);
    }

    @Test
    void theLargestHolderIsToldToCutAndDoesAtItsNextStepWhileAShortLineOfAnotherContainerFlows() throws Exception {
        BufferBudget budget = new BufferBudget(100);
        Sink hogSink = new Sink();
        Sink victimSink = new Sink();
        MessageAssembler hog = new MessageAssembler(settings(Feed.none()), hogSink, () -> T, budget);
        MessageAssembler victim = new MessageAssembler(settings(Feed.none()), victimSink, () -> T, budget);
        feed(hog, "x".repeat(90), false);
        feed(victim, "v 1", true);                        // a whole line is never held: not touched
        feed(victim, "abcdefghijklmnopqrstuvwxyz", false); // 26 more than the budget has: refused, cut, and the hog told to cut
        assertThat(victimSink.messages).extracting(Message::text).containsExactly("v 1", "abcdefghijklmnopqrstuvwxyz");
        assertThat(budget.used()).as("never beyond the bound").isLessThanOrEqualTo(100);
        assertThat(hogSink.messages).isEmpty();

        hog.flushIdle(T);                                  // the hog's tailer, idle: honours the request
        assertThat(hogSink.messages).extracting(Message::text).containsExactly("x".repeat(90));
        assertThat(hogSink.messages.get(0).flags() & Message.TRUNCATED).isNotZero();
        assertThat(budget.used()).isZero();
        feed(hog, "rest of the hog's line", true);
        assertThat(hogSink.messages).hasSize(1);
        assertThat(hogSink.skips).isNotEmpty();
    }

    @Test
    void aMultilineEventBeyondTheBudgetIsSentAsItIsFlaggedTruncated() throws Exception {
        BufferBudget budget = new BufferBudget(50);
        Sink sink = new Sink();
        ContainerSettings.MultilineRule rule = Feed.rule("custom", LinePattern.builtin("^\\s"), false, true, 500);
        MessageAssembler a = new MessageAssembler(settings(rule), sink, () -> T, budget);
        feed(a, "Exception", true);
        feed(a, "  at a.b(C.java:1)", true);
        feed(a, "  at d.e(F.java:2)", true);                   // 9 + 19 + 19 = 47
        feed(a, "  at g.h(I.java:3)", true);                   // beyond: the event goes, this line is dropped
        assertThat(sink.messages).hasSize(1);
        assertThat(sink.messages.get(0).text()).isEqualTo("Exception\n  at a.b(C.java:1)\n  at d.e(F.java:2)");
        assertThat(sink.messages.get(0).flags() & Message.TRUNCATED).isNotZero();
        assertThat(budget.used()).isZero();
        a.release();
        assertThat(budget.used()).isZero();
    }

    @Test
    void releaseGivesEverythingBack() throws Exception {
        BufferBudget budget = new BufferBudget(1000);
        MessageAssembler a = new MessageAssembler(settings(Feed.none()), new Sink(), () -> T, budget);
        feed(a, "held", false);
        assertThat(budget.used()).isEqualTo(4);
        a.release();
        assertThat(budget.used()).isZero();
    }
}
