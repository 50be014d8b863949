package io.logferry.model;

/**
 * How a container's JSON messages are decoded beyond where their fields go
 * ({@link ContainerSettings#jsonTarget()}, which {@code json.keys_under_root} sets): Filebeat's
 * {@code json.overwrite_keys} and {@code json.add_error_key}.
 *
 * @param overwriteKeys the JSON's {@code @timestamp}, when it is an RFC 3339 time, becomes the
 *                      document's time; never the agent's identity fields ({@code container.*},
 *                      {@code host.*}, {@code data_stream.*}, ...), which stay the agent's
 * @param addErrorKey   a message that is not JSON gets {@code error.type: json} and {@code error.message}
 */
public record JsonOptions(boolean overwriteKeys, boolean addErrorKey) {
    /** {@code logferry.json=true} without Filebeat's {@code json.*} hints: errors recorded, the time Docker's. */
    public static final JsonOptions LOGFERRY = new JsonOptions(false, true);
}
