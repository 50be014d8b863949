package io.logferry.process;

import java.util.Map;

/**
 * One compiled processor of a container's chain: Filebeat's meaning, pure code (no I/O, no
 * state between events), so immutable and thread-safe.
 */
interface Processor {
    /** What the chain does after a processor ran. */
    enum Outcome {
        /** On to the next processor. */
        CONTINUE,
        /** The processor failed (Filebeat logs the error): the event is kept as it is now, the rest of the chain skipped. */
        STOP,
        /** {@code drop_event}: the event is not shipped. */
        DROP
    }

    Outcome run(Map<String, Object> event);

    /** The kind and the options, for {@code check}. */
    String describe();
}
