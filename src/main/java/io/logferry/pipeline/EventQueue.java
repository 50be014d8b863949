package io.logferry.pipeline;

import io.logferry.model.LogEvent;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * The bounded queue between the tailers and the batcher, limited in events and in bytes, and
 * fair between containers. Each container has its own first-in first-out lane (keyed by its
 * {@link LogEvent#tracker() AckTracker}, so a restarted tailer's events join the same lane and one
 * container's order is exactly the order it was put in); the batcher takes from the lanes by
 * deficit round-robin, each lane's quantum proportional to its weight, a lane that was
 * empty until now first (one turn, like a new flow in FQ-CoDel), then the others in turn. What a
 * turn counts is the event's larger share of the queue's two limits (dominant resource fairness):
 * one event, or for an event larger than {@code max_bytes / max_events} its bytes in events:
 *
 * <pre>
 *   tailer A ─put─► lane A [■■■■■■■■■■■■■■] ─┐
 *   tailer B ─put─► lane B [■]               ─┼─ deficit round-robin (QUANTUM × weight a turn) ─► drain → batch
 *   tailer C ─put─► lane C [■■■]             ─┘
 * </pre>
 *
 * <p>Admission is fair too. A lane may hold at most its weighted share of seven eighths of the
 * queue's events and bytes ({@link #RESERVE}), among the lanes that hold events or wait to put one
 * (or, in tests, were refused by {@link #offer}); a lane with nothing queued is admitted whenever
 * the whole queue has room (the last eighth is for those), and while one such waits, no lane that
 * has events queued is admitted. When a lane is over its share, or the queue is full,
 * {@link #put} blocks: that container's tailer stops reading and nothing is dropped
 * (backpressure, per container). A flooding container therefore fills only its share, and a quiet
 * container's line goes into the next drain, behind at most one turn of each busy lane, not behind
 * the flood's backlog. One
 * event larger than the byte limit is still admitted when the queue is empty, so that it cannot
 * block forever.
 *
 * <p>A lane can be <em>parked</em> ({@link #park}): the output hands back events whose destination,
 * chosen by their container's labels, keeps failing (an ingest pipeline answering 5xx, a blocked
 * data stream). They go back to the front of their lane, in their order, and the lane is not drained
 * until its time has come; meanwhile its events count against its share as ever, so its tailer
 * blocks when the share is full (nothing is dropped) and the other lanes are drained as before:
 *
 * <pre>
 *   output ─park(events, delay)─► lane X [▣▣▣▣■■] parked until t ─(t passed, at a drain)─► back in the ring
 * </pre>
 *
 * <p>Invariants (under the one lock): {@code size == Σ lane.size}, {@code bytes == Σ lane.bytes};
 * a lane that holds events is in {@link #fresh}, in {@link #ring} or in {@link #parked} (only one;
 * one that emptied in its fresh turn waits in the ring, empty, until its next turn); a lane is in
 * {@link #lanes} while it is in any of them, or has a waiting putter; {@code demand == Σ weight} of
 * the lanes in {@link #lanes}; {@code parkedEvents == Σ lane.size} of the parked lanes;
 * {@code starving} counts the lanes with nothing queued and a waiting putter (or a refused offer).
 *
 * <p>It also counts the events {@link #drain drained} and not yet {@link #settled}: the batch the
 * batcher holds or the output is delivering. Both counts change under the one lock, so
 * {@link #awaitIdle} never sees an empty queue while a drained batch is between the two (the
 * batcher used to count what it held after {@code drain} returned, and shutdown could report
 * "delivered" in that gap). Thread-safe.
 */
public final class EventQueue {
    /**
     * What a lane of weight 1 may take in one round-robin turn: this many events (of up to max_bytes / max_events
     * bytes), or a 512th of the queue when that is less, so that a backlogged lane holds several turns.
     */
    static final int QUANTUM = 16;
    /** 1 / RESERVE of the queue is kept for lanes with nothing queued. */
    static final int RESERVE = 8;
    /** The weight of {@link #put(LogEvent)} and {@link #putAll(List)} without one. */
    public static final int DEFAULT_WEIGHT = 1;
    /** Key of events without a tracker (tests). */
    private static final Object NO_TRACKER = new Object();

    private final int maxEvents;
    private final long maxBytes;
    /** An event's cost in the round-robin: one, or its share of max_bytes in events when that is more. */
    private final double eventsPerByte;
    /** A turn's events for weight 1. */
    private final int quantum;
    private final Map<Object, Lane> lanes = new HashMap<>();
    /**
     * Lanes that were empty when an event came: served before the {@link #ring}, one turn each, so that
     * a quiet container's line goes into the next batch. One still holding events after its turn joins the ring.
     */
    private final ArrayDeque<Lane> fresh = new ArrayDeque<>();
    /** The other lanes that hold events, in round-robin order; the head is the lane being served. */
    private final ArrayDeque<Lane> ring = new ArrayDeque<>();
    /** Lanes the output {@link #park parked}: not drained before their {@code parkedUntil}. */
    private final List<Lane> parked = new ArrayList<>();
    private final LongSupplier nanoClock;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition notFull = lock.newCondition();
    private final Condition notEmpty = lock.newCondition();
    /** Signalled when the queue is empty and no drained event is unsettled. */
    private final Condition idle = lock.newCondition();
    private int size;
    private long bytes;
    /** The sum of the weights of the lanes in {@link #lanes}. */
    private long demand;
    /** Events drained and not yet {@link #settled}. */
    private long taken;
    /** Lanes with nothing queued and a put waiting: while there are any, the other lanes are not admitted. */
    private int starving;
    /** Events in {@link #parked} lanes: queued, not drainable now. */
    private int parkedEvents;

    /** One container's events, in the order they were put. Guarded by the queue's lock. */
    private static final class Lane {
        final Object key;
        final ArrayDeque<LogEvent> items = new ArrayDeque<>();
        int weight;
        long bytes;
        int waiters;
        /** An {@link #offer} was refused and none admitted since: counts as a waiting put. */
        boolean wanting;
        /** What this lane may still take in its current turn, in {@link #cost}. */
        double deficit;
        /** In {@link #fresh} or in {@link #ring}. */
        boolean listed;
        /** True while the lane heads the ring and has had its quantum for this turn. */
        boolean served;
        /** In {@link #parked}: not drained before {@link #parkedUntil} ({@link #nanoClock}). */
        boolean isParked;
        long parkedUntil;

        Lane(Object key, int weight) {
            this.key = key;
            this.weight = weight;
        }
    }

    public EventQueue(int maxEvents, long maxBytes) {
        this(maxEvents, maxBytes, System::nanoTime);
    }

    /** @param nanoClock what {@link #park} delays are measured on ({@link System#nanoTime()}; tests turn their own) */
    EventQueue(int maxEvents, long maxBytes, LongSupplier nanoClock) {
        this.nanoClock = nanoClock;
        this.maxEvents = maxEvents;
        this.maxBytes = maxBytes;
        this.eventsPerByte = maxEvents / (double) maxBytes;
        this.quantum = Math.max(1, Math.min(QUANTUM, maxEvents / 512));
    }

    /** {@link #put(LogEvent, int)} with the {@link #DEFAULT_WEIGHT}. */
    public void put(LogEvent e) throws InterruptedException {
        put(e, DEFAULT_WEIGHT);
    }

    /** Adds {@code e} to its container's lane, which has {@code weight} (≥ 1); blocks while the lane is over its share or the queue is full. */
    public void put(LogEvent e, int weight) throws InterruptedException {
        putAll(List.of(e), weight);
    }

    /** {@link #putAll(List, int)} with the {@link #DEFAULT_WEIGHT}. */
    public void putAll(List<LogEvent> events) throws InterruptedException {
        putAll(events, DEFAULT_WEIGHT);
    }

    /**
     * {@link #put} for each event of {@code events} in order (all of one container), under one
     * lock and one wake-up of the batcher while they fit; when the lane reaches its share or the
     * queue fills, the batcher is woken and this waits.
     */
    public void putAll(List<LogEvent> events, int weight) throws InterruptedException {
        int n = events.size();
        if (n == 0) {
            return;
        }
        int w = Math.max(1, weight);
        lock.lockInterruptibly();
        try {
            Lane lane = lane(events.get(0), w);
            boolean was = starving(lane);
            lane.waiters++;
            changed(lane, was);
            try {
                for (int i = 0; i < n; i++) {
                    LogEvent e = events.get(i);
                    while (!admits(lane, e.size())) {
                        notEmpty.signal();
                        notFull.await();
                    }
                    add(lane, e);
                }
            } finally {
                boolean still = starving(lane);
                lane.waiters--;
                changed(lane, still);
                forgetIfUnused(lane);
            }
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /**
     * Adds {@code e} if it is admitted now, without waiting; false when {@link #put} would block. A
     * refused lane counts as one whose put waits until an offer of it is admitted: the single-threaded
     * stand-in for a blocked tailer, for the scheduler's tests.
     */
    boolean offer(LogEvent e, int weight) {
        lock.lock();
        try {
            Lane lane = lane(e, Math.max(1, weight));
            if (!admits(lane, e.size())) {
                boolean was = starving(lane);
                lane.wanting = true;
                changed(lane, was);
                return false;
            }
            add(lane, e);
            notEmpty.signal();
            return true;
        } finally {
            lock.unlock();
        }
    }

    private Lane lane(LogEvent e, int weight) {
        Object key = e.tracker() == null ? NO_TRACKER : e.tracker();
        Lane lane = lanes.get(key);
        if (lane == null) {
            lane = new Lane(key, weight);
            lanes.put(key, lane);
            demand += weight;
        } else if (lane.weight != weight) {
            demand += weight - lane.weight;
            lane.weight = weight;
        }
        return lane;
    }

    private boolean admits(Lane lane, int eventBytes) {
        if (size == 0) {
            return true;
        }
        if (size >= maxEvents || bytes + eventBytes > maxBytes) {
            return false;
        }
        if (lane.items.isEmpty()) {
            return true;
        }
        if (starving > 0) {
            return false;                 // a lane with nothing queued waits to put: it goes first
        }
        // the lane's weighted share, among the lanes holding or waiting to put events (this one among them), of
        // the queue less a reserve that only lanes with nothing queued may use: a quiet container need not wait
        long shareEvents = Math.max(1, (maxEvents - maxEvents / RESERVE) * (long) lane.weight / demand);
        long shareBytes = Math.max(1, (long) ((maxBytes - maxBytes / RESERVE) * ((double) lane.weight / demand)));
        return lane.items.size() < shareEvents && lane.bytes + eventBytes <= shareBytes;
    }

    private void add(Lane lane, LogEvent e) {
        boolean was = starving(lane);
        if (lane.isParked) {
            parkedEvents++;
        } else if (!lane.listed) {
            lane.listed = true;
            fresh.addLast(lane);
        }
        lane.items.addLast(e);
        lane.wanting = false;
        changed(lane, was);
        lane.bytes += e.size();
        size++;
        bytes += e.size();
    }

    /**
     * What an event costs a lane's turn: the larger of its share of the queue's events and of its bytes,
     * in events (dominant resource fairness over the two limits): 1 up to max_bytes / max_events bytes.
     */
    private double cost(LogEvent e) {
        return Math.max(1.0, e.size() * eventsPerByte);
    }

    private static boolean starving(Lane lane) {
        return lane.items.isEmpty() && (lane.waiters > 0 || lane.wanting);
    }

    /** Keeps {@link #starving} true after a change to {@code lane}, which was starving before it or not. */
    private void changed(Lane lane, boolean was) {
        boolean now = starving(lane);
        if (now != was) {
            starving += now ? 1 : -1;
        }
    }

    /** {@code lane}, empty, leaves the round. */
    private void unlist(Lane lane) {
        lane.listed = false;
        lane.deficit = 0;
        lane.served = false;
        forgetIfUnused(lane);
    }

    private void forgetIfUnused(Lane lane) {
        if (lane.items.isEmpty() && !lane.listed && !lane.isParked && lane.waiters == 0 && !lane.wanting && lanes.remove(lane.key) != null) {
            demand -= lane.weight;
            // the others' shares grew
            notFull.signalAll();
        }
    }

    /**
     * Moves up to {@code maxEvents} events (and about {@code maxBytes}) into {@code into}, taking
     * from the containers' lanes by deficit round-robin, waiting up to {@code waitNanos} for the
     * first one. Returns the bytes moved. The events count as taken until the caller reports them
     * {@link #settled}.
     */
    public long drain(List<LogEvent> into, int maxEvents, long maxBytes, long waitNanos) throws InterruptedException {
        lock.lockInterruptibly();
        try {
            long remaining = waitNanos;
            long nextUnpark = unparkDue();
            while (size - parkedEvents == 0) {
                if (remaining <= 0) {
                    return 0;
                }
                long wait = nextUnpark == Long.MAX_VALUE ? remaining : Math.min(remaining, Math.max(1, nextUnpark - nanoClock.getAsLong()));
                long left = notEmpty.awaitNanos(wait);
                remaining -= wait - Math.max(0, left);
                nextUnpark = unparkDue();
            }
            long moved = 0;
            int n = 0;
            batch:
            while (n < maxEvents && (!fresh.isEmpty() || !ring.isEmpty())) {
                boolean isFresh = !fresh.isEmpty();
                ArrayDeque<Lane> from = isFresh ? fresh : ring;
                Lane lane = from.peekFirst();
                if (lane.items.isEmpty()) {
                    // a lane that emptied in its fresh turn and got nothing since: out of the round
                    from.pollFirst();
                    unlist(lane);
                    continue;
                }
                if (!lane.served) {
                    lane.served = true;
                    lane.deficit += (double) quantum * lane.weight;
                    if (fresh.size() + ring.size() == 1) {
                        // nobody to share with: no need to save up for a large event
                        lane.deficit = Math.max(lane.deficit, cost(lane.items.peekFirst()));
                    }
                }
                while (n < maxEvents) {
                    LogEvent head = lane.items.peekFirst();
                    if (head == null || cost(head) > lane.deficit) {
                        break;
                    }
                    if (n > 0 && moved + head.size() > maxBytes) {
                        break batch;          // the batch is full: this lane goes on where it stopped next time
                    }
                    boolean was = starving(lane);
                    lane.items.pollFirst();
                    lane.bytes -= head.size();
                    lane.deficit -= cost(head);
                    changed(lane, was);
                    into.add(head);
                    moved += head.size();
                    n++;
                }
                if (lane.items.isEmpty() && !isFresh) {
                    ring.pollFirst();
                    unlist(lane);
                } else if (lane.items.isEmpty() || cost(lane.items.peekFirst()) > lane.deficit) {
                    // its turn is over: to the back of the round. A fresh lane joins the round even when it is
                    // empty now, so that a lane which empties at every turn cannot go ahead of the others every time
                    from.pollFirst();
                    ring.addLast(lane);
                    lane.served = false;
                    if (lane.items.isEmpty()) {
                        lane.deficit = 0;
                    }
                }
                // else the batch reached maxEvents with this lane's turn unfinished: it goes on next time
            }
            size -= n;
            bytes -= moved;
            taken += n;
            notFull.signalAll();
            return moved;
        } finally {
            lock.unlock();
        }
    }

    /**
     * Puts drained events back at the front of their lanes, in their order, and parks those lanes for
     * {@code delayNanos}: not drained before then (a lane parked already keeps the later of the two
     * times). Their tailers keep putting behind them, within their share. For the output, about events
     * whose destination, chosen by their container, keeps failing; the batch they were drained in is
     * still {@link #settled} whole by the batcher, as ever.
     */
    public void park(List<LogEvent> events, long delayNanos) {
        if (events.isEmpty()) {
            return;
        }
        lock.lock();
        try {
            long until = nanoClock.getAsLong() + Math.max(0, delayNanos);
            for (int i = events.size() - 1; i >= 0; i--) {
                LogEvent e = events.get(i);
                Object key = e.tracker() == null ? NO_TRACKER : e.tracker();
                Lane lane = lanes.get(key);
                if (lane == null) {
                    lane = lane(e, DEFAULT_WEIGHT);       // its next put gives it its weight again
                }
                boolean was = starving(lane);
                if (!lane.isParked) {
                    if (lane.listed) {
                        fresh.remove(lane);
                        ring.remove(lane);
                        lane.listed = false;
                        lane.served = false;
                        lane.deficit = 0;
                    }
                    lane.isParked = true;
                    lane.parkedUntil = until;
                    parked.add(lane);
                    parkedEvents += lane.items.size();
                } else {
                    lane.parkedUntil = Math.max(lane.parkedUntil, until);
                }
                lane.items.addFirst(e);
                lane.bytes += e.size();
                size++;
                bytes += e.size();
                parkedEvents++;
                changed(lane, was);
            }
            // the batcher's wait for events ends at the earliest parked time
            notEmpty.signal();
        } finally {
            lock.unlock();
        }
    }

    /** The parked lanes whose time has come back into the round (at its end); the earliest time still to come, or MAX_VALUE. */
    private long unparkDue() {
        if (parked.isEmpty()) {
            return Long.MAX_VALUE;
        }
        long now = nanoClock.getAsLong();
        long next = Long.MAX_VALUE;
        for (int i = parked.size() - 1; i >= 0; i--) {
            Lane lane = parked.get(i);
            if (lane.parkedUntil - now > 0) {
                next = Math.min(next, lane.parkedUntil);
                continue;
            }
            parked.remove(i);
            lane.isParked = false;
            parkedEvents -= lane.items.size();
            if (lane.items.isEmpty()) {
                forgetIfUnused(lane);
            } else {
                lane.listed = true;
                lane.served = false;
                lane.deficit = 0;
                ring.addLast(lane);
            }
        }
        return next;
    }

    /** Containers whose lane is parked now. */
    public int parkedLanes() {
        lock.lock();
        try {
            return parked.size();
        } finally {
            lock.unlock();
        }
    }

    /** {@code n} drained events are done with: delivered, or given up on (they stay unacknowledged). */
    public void settled(int n) {
        lock.lock();
        try {
            taken -= n;
            if (taken == 0 && size == 0) {
                idle.signalAll();
            }
        } finally {
            lock.unlock();
        }
    }

    /** True when, within the timeout, the queue is empty and every drained event is {@link #settled}. */
    public boolean awaitIdle(long timeout, TimeUnit unit) throws InterruptedException {
        long remaining = unit.toNanos(timeout);
        lock.lockInterruptibly();
        try {
            while (size > 0 || taken > 0) {
                if (remaining <= 0) {
                    return false;
                }
                remaining = idle.awaitNanos(remaining);
            }
            return true;
        } finally {
            lock.unlock();
        }
    }

    /** Drained events not yet {@link #settled}. */
    public long taken() {
        lock.lock();
        try {
            return taken;
        } finally {
            lock.unlock();
        }
    }

    public int size() {
        lock.lock();
        try {
            return size;
        } finally {
            lock.unlock();
        }
    }

    public long bytes() {
        lock.lock();
        try {
            return bytes;
        } finally {
            lock.unlock();
        }
    }

    /** The containers with events queued or a put waiting (tests). */
    int lanesKnown() {
        lock.lock();
        try {
            return lanes.size();
        } finally {
            lock.unlock();
        }
    }
}
