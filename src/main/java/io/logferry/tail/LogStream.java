package io.logferry.tail;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.async.ResultCallback;
import com.github.dockerjava.api.model.Frame;

import java.io.Closeable;

/**
 * How an {@link ApiTailer} reaches a container's log through the Docker API: the production one
 * is docker-java's {@code logContainerCmd}; unit tests stream frames of their own.
 */
interface LogStream {
    /** Where a stream's frames go, on the stream's own thread (docker-java's). */
    interface Sink {
        /** May block: the tailer takes frames at its own pace. */
        void frame(Frame f) throws InterruptedException;

        /** The stream ended: {@code error} null when it completed. */
        void ended(Throwable error);
    }

    /** Starts streaming the container's log (with Docker's timestamps) to {@code sink}; closing the result stops it. */
    Closeable open(String containerId, boolean follow, int sinceSeconds, Sink sink);

    /** Whether the container runs now (false when that cannot be learnt). */
    boolean running(String containerId);

    /** The Docker API's. */
    static LogStream of(DockerClient docker) {
        return new LogStream() {
            @Override
            public Closeable open(String containerId, boolean follow, int sinceSeconds, Sink sink) {
                ResultCallback.Adapter<Frame> cb = new ResultCallback.Adapter<>() {
                    @Override
                    public void onNext(Frame f) {
                        try {
                            sink.frame(f);
                        } catch (InterruptedException e) {
                            Thread.currentThread().interrupt();
                            try {
                                close();
                            } catch (Exception ignored) {
                                // closing
                            }
                        }
                    }

                    @Override
                    public void onComplete() {
                        super.onComplete();
                        sink.ended(null);
                    }

                    @Override
                    public void onError(Throwable t) {
                        super.onError(t);
                        sink.ended(t);
                    }
                };
                return docker.logContainerCmd(containerId).withStdOut(true).withStdErr(true).withTimestamps(true)
                        .withFollowStream(follow).withSince(sinceSeconds).exec(cb);
            }

            @Override
            public boolean running(String containerId) {
                try {
                    return Boolean.TRUE.equals(docker.inspectContainerCmd(containerId).exec().getState().getRunning());
                } catch (RuntimeException e) {
                    return false;
                }
            }
        };
    }
}
