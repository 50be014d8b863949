package io.logferry.model;

import java.util.Map;

/**
 * What the Docker API tells about one container, as discovery read it. Immutable; a rename
 * produces a new value.
 *
 * @param logPath the json-file path Docker reports ({@code LogPath}); empty for other drivers
 * @param logDriver the container's log driver ({@code json-file}, {@code local}, {@code journald}, ...)
 */
public record ContainerInfo(String id, String name, String imageName, Map<String, String> labels,
                            String logPath, String logDriver, boolean running) {

    public ContainerInfo {
        labels = Map.copyOf(labels);
        name = name.startsWith("/") ? name.substring(1) : name;
    }

    public String shortId() {
        return id.length() > 12 ? id.substring(0, 12) : id;
    }

    /** For log lines: {@code name (shortid)}. */
    public String describe() {
        return name + " (" + shortId() + ")";
    }
}
