package io.logferry.cli;

import com.github.dockerjava.api.DockerClient;
import com.github.dockerjava.api.model.Container;
import io.logferry.config.Config;
import io.logferry.docker.Discovery;
import io.logferry.docker.DockerConnection;
import io.logferry.docker.Inspect;
import io.logferry.migrate.Cutover;
import io.logferry.migrate.FilebeatRegistry;
import io.logferry.model.ContainerInfo;
import io.logferry.registry.Registry;
import io.logferry.selection.DataStreamBudget;
import io.logferry.selection.Selector;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * {@code logferry migrate filebeat <registry dir> [--force] [--dry-run]}: reads Filebeat's registry
 * ({@link FilebeatRegistry}), asks Docker which containers exist and the {@link Selector} which of
 * them logferry ships, plans each container's resume point ({@link Cutover}), prints one line per
 * container, and adds the entries to logferry's registry ({@code registry.path}). Entries logferry
 * already has are kept unless {@code --force}. Filebeat and logferry must both be stopped: either
 * one running would move the positions under it. Exit 0 when every container Filebeat names was
 * handled without refusal, 1 when one was refused (the others are written), 2 for a usage error or
 * a registry that cannot be read.
 */
final class MigrateCommand {
    private final Config config;
    private final PrintStream out;
    private final PrintStream err;

    MigrateCommand(Config config, PrintStream out, PrintStream err) {
        this.config = config;
        this.out = out;
        this.err = err;
    }

    int run(Path filebeatRegistry, boolean force, boolean dryRun) {
        FilebeatRegistry.Loaded loaded;
        try {
            loaded = FilebeatRegistry.load(filebeatRegistry);
        } catch (IOException | RuntimeException e) {
            err.println("migrate: cannot read Filebeat's registry: " + e.getMessage());
            return 2;
        }
        out.println("migrate: Filebeat registry " + loaded.dir() + ": " + loaded.states().size() + " file states");
        loaded.warnings().forEach(w -> err.println("migrate: " + w));
        Map<String, Cutover.Candidate> candidates;
        try {
            candidates = candidates();
        } catch (RuntimeException e) {
            err.println("migrate: cannot list Docker's containers at " + config.docker().host() + " (" + e.getMessage() + ")");
            return 1;
        }
        Registry registry = new Registry(Path.of(config.registry().path()));
        Map<String, Registry.Entry> existing = registry.load();
        Cutover.Plan plan = new Cutover(Path.of(config.docker().containersPath())).plan(loaded.states(), candidates, existing, force);
        plan.notes().forEach(n -> out.println("  " + n));
        Map<Cutover.Outcome, Integer> counts = new TreeMap<>();
        for (Cutover.Result r : plan.results()) {
            out.println(r.line());
            counts.merge(r.outcome(), 1, Integer::sum);
        }
        StringBuilder summary = new StringBuilder();
        counts.forEach((o, n) -> summary.append(summary.isEmpty() ? "" : ", ").append(n).append(' ').append(o.name().toLowerCase()));
        out.println("migrate: " + plan.results().size() + " containers (" + (summary.isEmpty() ? "none" : summary) + ")");
        if (dryRun) {
            out.println("migrate: --dry-run: " + plan.entries().size() + " entries not written to " + registry.path());
        } else if (!plan.entries().isEmpty()) {
            Map<String, Registry.Entry> merged = new HashMap<>(existing);
            merged.putAll(plan.entries());
            try {
                registry.write(merged);
                giveToDirectoryOwner(registry.path());
            } catch (IOException e) {
                err.println("migrate: cannot write logferry's registry " + registry.path() + ": " + e.getMessage());
                return 1;
            }
            out.println("migrate: " + plan.entries().size() + " entries written to " + registry.path()
                    + (existing.isEmpty() ? "" : " (beside its " + existing.size() + " existing ones)")
                    + "; start logferry now, with Filebeat stopped");
        } else {
            out.println("migrate: nothing written to " + registry.path());
        }
        if (plan.refusedAny()) {
            err.println("migrate: some containers were refused (see above); the others' entries are written");
            return 1;
        }
        return 0;
    }

    /**
     * Run as root (to read Filebeat's root-only registry) against the agent's registry directory,
     * the file would be root's, mode 0600, and the agent (the image runs it as uid 10001) could not
     * read it: the registry file and its backup take the owner of their directory.
     */
    private void giveToDirectoryOwner(Path file) {
        Path abs = file.toAbsolutePath();
        try {
            java.nio.file.attribute.UserPrincipal owner = Files.getOwner(abs.getParent());
            for (Path p : List.of(abs, abs.resolveSibling(abs.getFileName() + ".bak"))) {
                if (Files.exists(p) && !Files.getOwner(p).equals(owner)) {
                    Files.setOwner(p, owner);
                }
            }
        } catch (IOException | UnsupportedOperationException | SecurityException e) {
            err.println("migrate: " + abs + " could not be given to the owner of its directory (" + e.getMessage()
                    + "): the agent must be able to read it; run migrate as the agent's user or chown it");
        }
    }

    /** Every container Docker has, running or not, with logferry's decision on it. */
    private Map<String, Cutover.Candidate> candidates() {
        Map<String, Cutover.Candidate> out = new HashMap<>();
        try (DockerClient docker = DockerConnection.connect(config.docker())) {
            Selector selector = new Selector(config, Discovery.selfContainerId());
            DataStreamBudget budget = new DataStreamBudget(config);
            for (Container c : docker.listContainersCmd().withShowAll(true).exec()) {
                ContainerInfo info = Inspect.container(docker, c.getId());
                if (info == null) {
                    continue;
                }
                Selector.Decision d = budget.apply(selector.decide(info));
                out.put(info.id(), new Cutover.Candidate(info.id(), info.name(), d.selected(), d.reason(), readsThroughApi(info)));
            }
        } catch (IOException e) {
            // closing the client: nothing to do
        }
        return out;
    }

    /** As the agent decides it ({@code ControlLoop.readsThroughApi}). */
    private boolean readsThroughApi(ContainerInfo c) {
        Path containers = Path.of(config.docker().containersPath());
        return switch (config.docker().readMode()) {
            case API -> true;
            case FILE -> false;
            case AUTO -> !c.logDriver().equals("json-file") || !Files.isDirectory(containers)
                    || !(Files.isExecutable(containers) || Files.isReadable(containers));
        };
    }

    static final List<String> USAGE = List.of(
            "       logferry migrate filebeat <Filebeat registry dir> [--force] [--dry-run] [--config FILE]",
            "           (Filebeat and logferry stopped: writes logferry's registry so that each container resumes where Filebeat's"
                    + " acknowledgements ended)");
}
