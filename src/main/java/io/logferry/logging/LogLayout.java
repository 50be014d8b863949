package io.logferry.logging;

import ch.qos.logback.classic.PatternLayout;
import ch.qos.logback.classic.pattern.ClassicConverter;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.classic.spi.IThrowableProxy;
import ch.qos.logback.classic.spi.ThrowableProxyUtil;
import ch.qos.logback.core.CoreConstants;
import ch.qos.logback.core.LayoutBase;
import io.logferry.model.Printable;

import java.io.InputStream;
import java.time.Instant;
import java.util.Locale;
import java.util.Properties;

/**
 * The agent's log lines: human-readable text by default, or one ECS JSON object per line when
 * {@code format} is {@code json} ({@code LOGFERRY_LOG_FORMAT=json} in logback.xml), so that
 * logferry's own logs can be shipped and searched like any other container's. Either way every
 * line passes through {@link Redaction}. In text, the message's control characters are escaped
 * ({@link Printable}): a label value or container name with a newline or a terminal escape in it
 * can neither forge a log line nor reach the terminal; JSON escapes them as JSON does (and DEL and
 * the C1 controls as well).
 *
 * <pre>{"@timestamp":"2026-11-28T04:41:31.123Z","log.level":"INFO","message":"...","ecs.version":"1.6.0",
 *  "service.name":"logferry","service.version":"0.1.0","process.thread.name":"main","log.logger":"io.logferry.Agent"}</pre>
 *
 * <p>Elastic's {@code logback-ecs-encoder} (1.7.0) was weighed for the JSON format and not taken: it
 * writes DEL and the C1 controls (a terminal's CSI, U+009B) raw, turns a lone surrogate into
 * {@code ?}, and writes {@code error.message} from the exception with no hook to redact it before
 * escaping (redacting its output instead would miss a secret holding {@code "} or {@code \}).
 */
public final class LogLayout extends LayoutBase<ILoggingEvent> {
    static final String ECS_VERSION = "1.6.0";
    private static final String VERSION = version();

    private String format = "text";
    private String pattern = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level [%thread] %logger{0}: %msg%n%ex";
    private PatternLayout text;
    private boolean json;

    public void setFormat(String format) {
        this.format = format == null ? "text" : format.trim();
    }

    public void setPattern(String pattern) {
        this.pattern = pattern;
    }

    @Override
    public void start() {
        json = format.toLowerCase(Locale.ROOT).equals("json");
        if (!json) {
            if (!format.isEmpty() && !format.equalsIgnoreCase("text")) {
                addWarn("LOGFERRY_LOG_FORMAT='" + format + "' is neither text nor json; using text");
            }
            text = new PatternLayout();
            text.setContext(getContext());
            // the message (which may quote label values and container names) on one line, controls escaped
            for (String word : new String[] {"m", "msg", "message"}) {
                text.getInstanceConverterMap().put(word, PrintableMessage::new);
            }
            text.setPattern(pattern);
            text.start();
        }
        super.start();
    }

    @Override
    public String doLayout(ILoggingEvent e) {
        return json ? ecs(e) : Redaction.redact(text.doLayout(e));
    }

    static String ecs(ILoggingEvent e) {
        StringBuilder b = new StringBuilder(256);
        b.append("{\"@timestamp\":\"").append(Instant.ofEpochMilli(e.getTimeStamp())).append('"');
        field(b, "log.level", e.getLevel().toString());
        field(b, "message", Redaction.redact(e.getFormattedMessage()));
        field(b, "ecs.version", ECS_VERSION);
        field(b, "service.name", "logferry");
        field(b, "service.version", VERSION);
        field(b, "event.dataset", "logferry");
        field(b, "process.thread.name", e.getThreadName());
        field(b, "log.logger", e.getLoggerName());
        IThrowableProxy t = e.getThrowableProxy();
        if (t != null) {
            field(b, "error.type", t.getClassName());
            field(b, "error.message", Redaction.redact(t.getMessage() == null ? "" : t.getMessage()));
            field(b, "error.stack_trace", Redaction.redact(ThrowableProxyUtil.asString(t)));
        }
        return b.append('}').append(CoreConstants.LINE_SEPARATOR).toString();
    }

    private static void field(StringBuilder b, String name, String value) {
        b.append(",\"").append(name).append("\":\"");
        escape(b, value == null ? "" : value);
        b.append('"');
    }

    static void escape(StringBuilder b, String s) {
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            switch (c) {
                case '"' -> b.append("\\\"");
                case '\\' -> b.append("\\\\");
                case '\n' -> b.append("\\n");
                case '\r' -> b.append("\\r");
                case '\t' -> b.append("\\t");
                default -> {
                    if (c < 0x20 || (c >= 0x7f && c <= 0x9f) || Character.isSurrogate(c) && !validSurrogate(s, i)) {
                        b.append(String.format("\\u%04x", (int) c));
                    } else {
                        b.append(c);
                    }
                }
            }
        }
    }

    /** {@code %msg} in text: the formatted message with its control characters escaped. */
    public static final class PrintableMessage extends ClassicConverter {
        @Override
        public String convert(ILoggingEvent event) {
            return Printable.escape(event.getFormattedMessage());
        }
    }

    private static boolean validSurrogate(String s, int i) {
        char c = s.charAt(i);
        if (Character.isHighSurrogate(c)) {
            return i + 1 < s.length() && Character.isLowSurrogate(s.charAt(i + 1));
        }
        return i > 0 && Character.isHighSurrogate(s.charAt(i - 1));
    }

    private static String version() {
        try (InputStream in = LogLayout.class.getResourceAsStream("/logferry-version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "dev");
        } catch (Exception e) {
            return "dev";
        }
    }
}
