package io.logferry.cli;

import io.logferry.config.Config;
import io.logferry.elasticsearch.EsConnection;
import io.logferry.elasticsearch.EsErrors;
import io.logferry.elasticsearch.KibanaSetup;
import io.logferry.elasticsearch.Setup;
import org.elasticsearch.client.RestClient;

import java.io.IOException;
import java.io.PrintStream;

/**
 * {@code logferry setup}: installs the index template (with a data stream lifecycle where the
 * cluster manages them), says which template applies to logferry's streams and to those of any
 * template overlapping them (Fleet's Docker integration: {@link Setup#whatWins}) and, when {@code kibana.url} is set, imports the data view {@code logs-*},
 * the saved search and the dashboard into Kibana. One line per step on stdout; one line per failure on stderr.
 * Exit 0 when every step worked, 1 otherwise. Safe to run again: both steps replace what they made.
 */
final class SetupCommand {
    private final Config config;
    private final PrintStream out;
    private final PrintStream err;

    SetupCommand(Config config, PrintStream out, PrintStream err) {
        this.config = config;
        this.out = out;
        this.err = err;
    }

    int run() {
        boolean ok = elasticsearch();
        ok &= kibana();
        return ok ? 0 : 1;
    }

    private boolean elasticsearch() {
        if (config.output() == Config.Output.DISCARD) {
            out.println("elasticsearch: skipped (output is discard)");
            return true;
        }
        Config.Elasticsearch es = config.elasticsearch();
        try (RestClient client = EsConnection.build(es)) {
            Setup.Result r = Setup.installTemplate(client, config.retention(), null);
            out.println("elasticsearch: " + r.describe());
            try {
                for (String line : Setup.whatWins(client)) {
                    out.println("elasticsearch: " + line);
                }
            } catch (Exception e) {
                out.println("elasticsearch: which template applies could not be simulated (" + EsErrors.describe(e, es) + ")");
            }
            return true;
        } catch (Exception e) {
            err.println("elasticsearch: " + EsErrors.describe(e, es));
            return false;
        }
    }

    private boolean kibana() {
        String url = config.kibanaUrl();
        if (url.isBlank()) {
            out.println("kibana: skipped (kibana.url is not set; import config/kibana/logferry.ndjson by hand if you like)");
            return true;
        }
        try {
            KibanaSetup.Result r = new KibanaSetup(url, config.elasticsearch()).importObjects();
            out.println("kibana: data view 'logs-*', saved search 'logferry: container logs' and dashboard 'logferry: overview' imported into " + url
                    + " (" + r.imported() + " objects)");
            return true;
        } catch (KibanaSetup.KibanaException e) {
            err.println(e.getMessage());
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            err.println("kibana: interrupted");
            return false;
        } catch (IOException e) {
            err.println("kibana: cannot reach " + url + " (" + CheckCommand.rootMessage(e) + ")");
            return false;
        } catch (Exception e) {
            err.println("kibana: " + e.getClass().getSimpleName() + ": " + e.getMessage());
            return false;
        }
    }
}
