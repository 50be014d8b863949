package io.logferry.decode;

import java.nio.charset.StandardCharsets;

/**
 * Test hooks for the poison-pill integration test ({@code PoisonPillIT}): the agent dies while it
 * processes a chosen line, as it would on an out-of-memory error. Both are off unless the JVM is
 * started with one of these system properties (only the tests' {@code AgentProcess} sets them;
 * never set them in production):
 *
 * <ul>
 *   <li>{@value #FATAL_PROPERTY}{@code =MARKER}: a line containing {@code MARKER} throws an
 *       {@link InternalError} from inside its processing: an Error no line boundary contains, so the
 *       process ends through the uncaught-Error handler (exit code 3), as any fatal Error does.</li>
 *   <li>{@value #HALT_PROPERTY}{@code =MARKER}: a line containing {@code MARKER} halts the JVM at once
 *       (exit code 3), running no handler at all, as {@code -XX:+ExitOnOutOfMemoryError} does.</li>
 * </ul>
 *
 * Off, each costs one static final null check per line, which the JIT folds away.
 */
public final class TestFaults {
    public static final String FATAL_PROPERTY = "logferry.test.fatal_on_line";
    public static final String HALT_PROPERTY = "logferry.test.halt_on_line";
    private static final byte[] FATAL = bytes(System.getProperty(FATAL_PROPERTY));
    private static final byte[] HALT = bytes(System.getProperty(HALT_PROPERTY));
    /** Whether either hook is on. */
    public static final boolean ON = FATAL != null || HALT != null;

    private TestFaults() {
    }

    private static byte[] bytes(String s) {
        return s == null || s.isEmpty() ? null : s.getBytes(StandardCharsets.UTF_8);
    }

    /** Dies as configured when {@code line[off, off + len)} holds a marker. */
    public static void onLine(byte[] line, int off, int len) {
        if (HALT != null && contains(line, off, len, HALT)) {
            System.err.println("logferry: " + HALT_PROPERTY + ": halting on a line at the test's request");
            Runtime.getRuntime().halt(3);
        }
        if (FATAL != null && contains(line, off, len, FATAL)) {
            throw new InternalError(FATAL_PROPERTY + ": a fatal error on a line at the test's request");
        }
    }

    /** {@link #onLine(byte[], int, int)} for a line read as text (the Docker logs API). */
    public static void onLine(String line) {
        byte[] b = line.getBytes(StandardCharsets.UTF_8);
        onLine(b, 0, b.length);
    }

    private static boolean contains(byte[] b, int off, int len, byte[] m) {
        outer:
        for (int i = off; i + m.length <= off + len; i++) {
            for (int j = 0; j < m.length; j++) {
                if (b[i + j] != m[j]) {
                    continue outer;
                }
            }
            return true;
        }
        return false;
    }
}
