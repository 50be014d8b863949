package io.logferry.cli;

import io.logferry.registry.InFlight;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process-wide uncaught exception handler: an {@link Error} (out of memory, stack overflow,
 * any {@link VirtualMachineError}, a failed class initialisation...) that escapes any thread,
 * platform or virtual, ends the process with {@link #EXIT_CODE} after a best-effort log line. An
 * agent that has lost a thread to an Error would otherwise limp on: a tailer, the batcher or
 * discovery gone, the health check still green. The restart policy brings the agent back; the
 * registry and the documents' {@code _id}s absorb the replay; the line a tailer's thread was working
 * on is marked the culprit first ({@code registry.InFlight}), so that it is dead-lettered at the
 * next start instead of ending the process again. Other exceptions that escape a
 * thread are logged and end only that thread, as the JVM's default does.
 *
 * <p>{@link #decide} is the pure decision; {@link #uncaughtException} acts on it. Thread-safe:
 * it holds no state.
 */
public final class FatalErrors implements Thread.UncaughtExceptionHandler {
    /** The exit code of a fatal error: the JVM's own for {@code -XX:+ExitOnOutOfMemoryError}. */
    public static final int EXIT_CODE = 3;
    private static final Logger log = LoggerFactory.getLogger(FatalErrors.class);
    private static final int MAX_CAUSES = 16;

    /** What to do with a throwable that escaped a thread. */
    public enum Verdict { HALT, LOG }

    /** Installs the handler for every thread, virtual threads included. */
    public static void install() {
        Thread.setDefaultUncaughtExceptionHandler(new FatalErrors());
    }

    /** HALT for an Error, or an exception caused (within 16 causes) by a {@link VirtualMachineError}; LOG otherwise. */
    public static Verdict decide(Throwable e) {
        if (e instanceof Error) {
            return Verdict.HALT;
        }
        Throwable c = e == null ? null : e.getCause();
        for (int i = 0; c != null && i < MAX_CAUSES; i++, c = c.getCause()) {
            if (c instanceof VirtualMachineError) {
                return Verdict.HALT;
            }
        }
        return Verdict.LOG;
    }

    @Override
    public void uncaughtException(Thread t, Throwable e) {
        if (decide(e) == Verdict.LOG) {
            log.error("thread {} ended on an uncaught exception", t.getName(), e);
            return;
        }
        try {
            InFlight.fatal(t);      // the line this thread was working on, if a tailer's, is the culprit: not processed again
        } catch (Throwable ignored) {
            // best effort
        }
        try {
            // the message first, plainly: the heap may have no room for the logger's formatting
            System.err.println("logferry: fatal error in thread " + t.getName() + ": " + e + "; exiting with code " + EXIT_CODE);
            log.error("fatal error in thread {}: the process exits with code {} and the restart policy brings it back",
                    t.getName(), EXIT_CODE, e);
        } catch (Throwable ignored) {
            // best effort: nothing may stop the halt below
        } finally {
            Runtime.getRuntime().halt(EXIT_CODE);
        }
    }
}
