package io.logferry.docker;

import com.github.dockerjava.api.model.Event;
import io.logferry.model.ContainerInfo;

import java.io.Closeable;
import java.util.List;
import java.util.function.Consumer;

/**
 * What {@link Discovery} asks of the Docker engine, and nothing more: {@link DockerEngine} asks
 * the real one; tests play one. Any call may throw a {@link RuntimeException} when the engine
 * cannot be reached: discovery then reconnects.
 */
interface Engine {
    /** The Docker host's name ({@code GET /info}). */
    String hostName();

    /**
     * Subscribes to container events from {@code sinceSeconds} (epoch seconds) on: each event goes to
     * {@code onEvent}, and {@code onEnd} runs once when the stream fails or ends. Closing the
     * result ends the subscription.
     */
    Closeable events(long sinceSeconds, Consumer<Event> onEvent, Runnable onEnd);

    /** The ids of every container, running or not. */
    List<String> containerIds();

    /** The container, or null when it is gone. */
    ContainerInfo inspect(String id);
}
