package io.logferry.cli;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.concurrent.ExecutionException;

import static org.assertj.core.api.Assertions.assertThat;

class FatalErrorsTest {
    @Test
    void everyErrorEndsTheProcess() {
        assertThat(FatalErrors.decide(new OutOfMemoryError("Java heap space"))).isEqualTo(FatalErrors.Verdict.HALT);
        assertThat(FatalErrors.decide(new StackOverflowError())).isEqualTo(FatalErrors.Verdict.HALT);
        assertThat(FatalErrors.decide(new InternalError("vm"))).isEqualTo(FatalErrors.Verdict.HALT);
        assertThat(FatalErrors.decide(new ExceptionInInitializerError("static init"))).isEqualTo(FatalErrors.Verdict.HALT);
        assertThat(FatalErrors.decide(new AssertionError("bug"))).isEqualTo(FatalErrors.Verdict.HALT);
        assertThat(FatalErrors.decide(new NoClassDefFoundError("x"))).isEqualTo(FatalErrors.Verdict.HALT);
    }

    @Test
    void anExceptionWrappingAVirtualMachineErrorEndsTheProcess() {
        Throwable wrapped = new RuntimeException(new ExecutionException(new OutOfMemoryError("Direct buffer memory")));
        assertThat(FatalErrors.decide(wrapped)).isEqualTo(FatalErrors.Verdict.HALT);
        assertThat(FatalErrors.decide(new IllegalStateException("x", new StackOverflowError()))).isEqualTo(FatalErrors.Verdict.HALT);
    }

    @Test
    void ordinaryExceptionsEndOnlyTheirThread() {
        assertThat(FatalErrors.decide(new IllegalStateException("bad"))).isEqualTo(FatalErrors.Verdict.LOG);
        assertThat(FatalErrors.decide(new UncheckedIOException(new IOException("disk")))).isEqualTo(FatalErrors.Verdict.LOG);
        assertThat(FatalErrors.decide(null)).isEqualTo(FatalErrors.Verdict.LOG);
    }

    @Test
    void aCycleOfCausesEndsTheSearch() {
        RuntimeException a = new RuntimeException("a");
        RuntimeException b = new RuntimeException("b", a);
        a.initCause(b);
        assertThat(FatalErrors.decide(b)).isEqualTo(FatalErrors.Verdict.LOG);
    }
}
