package io.logferry.cli;

import io.logferry.Agent;
import io.logferry.config.Config;
import io.logferry.config.ConfigException;
import io.logferry.config.ConfigLoader;
import io.logferry.logging.Redaction;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.concurrent.CountDownLatch;

/**
 * {@code logferry run|setup|check|version [--config FILE]}, {@code logferry migrate filebeat DIR}
 * ({@link MigrateCommand}), and {@code logferry train} (the AOT
 * cache's training run, {@link TrainCommand}). Exit codes: 0 ok, 1 failure, 2 bad
 * config or usage, 3 a fatal error ({@link FatalErrors}: an Error in any thread, or the JVM's
 * {@code -XX:+ExitOnOutOfMemoryError}).
 */
public final class Main {
    private static final Logger log = LoggerFactory.getLogger(Main.class);
    static final String DEFAULT_CONFIG = "config/logferry.yml";

    private Main() { }

    public static void main(String[] args) {
        FatalErrors.install();
        System.exit(run(args));
    }

    static int run(String[] args) {
        String command = "run";
        Path configFile = null;
        java.util.List<String> operands = new java.util.ArrayList<>();
        boolean force = false;
        boolean dryRun = false;
        for (int i = 0; i < args.length; i++) {
            String a = args[i];
            boolean migrating = command.equals("migrate") && i > 0;
            if (migrating && a.equals("--force")) {
                force = true;
            } else if (migrating && a.equals("--dry-run")) {
                dryRun = true;
            } else if (migrating && !a.startsWith("-")) {
                operands.add(a);
            } else if (a.equals("--config") || a.equals("-c")) {
                if (i + 1 >= args.length) {
                    System.err.println("logferry: --config needs a file");
                    return 2;
                }
                configFile = Path.of(args[++i]);
            } else if (a.startsWith("--config=")) {
                configFile = Path.of(a.substring("--config=".length()));
            } else if (a.equals("-h") || a.equals("--help") || a.equals("help")) {
                System.out.println(usage());
                return 0;
            } else if (!a.startsWith("-") && i == 0) {
                command = a;
            } else {
                System.err.println("logferry: unknown argument '" + a + "'\n" + usage());
                return 2;
            }
        }
        if (command.equals("version")) {
            System.out.println("logferry " + version());
            return 0;
        }
        if (command.equals("train")) {
            try {
                return new TrainCommand(System.out, TrainCommand.ENTRIES).run(version());
            } catch (Exception e) {
                System.err.println("logferry train: " + e);
                return 1;
            }
        }
        if (command.equals("migrate") && (operands.size() != 2 || !operands.get(0).equals("filebeat"))) {
            System.err.println("logferry migrate: expected 'filebeat <Filebeat registry dir>', got " + operands + "\n" + usage());
            return 2;
        }
        if (!command.equals("run") && !command.equals("setup") && !command.equals("check") && !command.equals("migrate")) {
            System.err.println("logferry: unknown command '" + command + "'\n" + usage());
            return 2;
        }
        if (configFile == null && Files.exists(Path.of(DEFAULT_CONFIG))) {
            configFile = Path.of(DEFAULT_CONFIG);
        }
        Config config;
        ConfigLoader loader = new ConfigLoader(System.getenv());
        try {
            config = loader.load(configFile);
        } catch (ConfigException e) {
            e.problems().forEach(System.err::println);
            return 2;
        }
        for (String w : loader.warnings()) {
            if (command.equals("run")) {
                log.warn(w);
            } else {
                System.err.println(w);
            }
        }
        Redaction.register(config.elasticsearch());
        return switch (command) {
            case "setup" -> {
                quietLogs();
                yield new SetupCommand(config, System.out, System.err).run();
            }
            case "check" -> {
                quietLogs();
                yield new CheckCommand(config, configFile, System.out, System.err).run();
            }
            case "migrate" -> {
                quietLogs();
                yield new MigrateCommand(config, System.out, System.err).run(Path.of(operands.get(1)), force, dryRun);
            }
            default -> runAgent(config);
        };
    }

    static int runAgent(Config config) {
        Agent agent = new Agent(config, version());
        CountDownLatch stopped = new CountDownLatch(1);
        Runnable stop = () -> {
            log.info("stopping (signal)");
            agent.close();
            stopped.countDown();
        };
        sun.misc.SignalHandler handler = sig -> {
            Thread t = new Thread(() -> {
                stop.run();
                System.exit(0);
            }, "logferry-shutdown");
            t.start();
        };
        sun.misc.Signal.handle(new sun.misc.Signal("TERM"), handler);
        sun.misc.Signal.handle(new sun.misc.Signal("INT"), handler);
        // the JVM's default for SIGHUP is to exit (129): a reload signal sent out of habit must not stop the agent
        sun.misc.Signal.handle(new sun.misc.Signal("HUP"), sig -> log.info("SIGHUP received and ignored: the config is read at start"
                + " only; restart the agent to apply a change (SIGTERM stops it cleanly, the registry resumes it)"));
        try {
            agent.start();
        } catch (Exception e) {
            log.error("logferry cannot start: {}", e.getMessage(), e);
            agent.close();
            return 1;
        }
        try {
            stopped.await();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return 0;
    }

    /**
     * setup and check report every finding themselves, one line each; the libraries' and the
     * agent's own log lines would only repeat them. LOGFERRY_LOG_LEVEL still wins.
     */
    private static void quietLogs() {
        if (System.getenv("LOGFERRY_LOG_LEVEL") == null
                && LoggerFactory.getLogger(Logger.ROOT_LOGGER_NAME) instanceof ch.qos.logback.classic.Logger root) {
            root.setLevel(ch.qos.logback.classic.Level.OFF);
        }
    }

    static String usage() {
        return "usage: logferry [run|setup|check|version] [--config FILE]   (default config: " + DEFAULT_CONFIG + ")\n"
                + String.join("\n", MigrateCommand.USAGE) + "\n"
                + "       logferry train   (a run on generated logs, for -XX:AOTCacheOutput: see the Dockerfile)";
    }

    public static String version() {
        try (InputStream in = Main.class.getResourceAsStream("/logferry-version.properties")) {
            Properties p = new Properties();
            if (in != null) {
                p.load(in);
            }
            return p.getProperty("version", "dev");
        } catch (IOException e) {
            return "dev";
        }
    }
}
