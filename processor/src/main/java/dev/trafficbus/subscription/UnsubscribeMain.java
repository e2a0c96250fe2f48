package dev.trafficbus.subscription;

import dev.trafficbus.bus.Topics;
import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.Subcommand;
import dev.trafficbus.cli.KafkaClientOptions;
import dev.trafficbus.cli.UserInputException;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

import java.time.Duration;
import java.util.Properties;
import java.util.concurrent.Callable;

/** {@code trafficbus unsubscribe}: removes one subscription; its topic and data stay. */
@Command(name = "unsubscribe",
        header = "Remove a subscription.",
        mixinStandardHelpOptions = true, sortOptions = false,
        description = "Remove a subscription from tb.subscriptions; running processors stop feeding it at once. "
                + "Its topic tb.sub.<name> and what it holds are kept; the ACLs subscribe granted its readers are revoked "
                + "(those another subscription also grants stay).")
public final class UnsubscribeMain implements Callable<Integer>, Subcommand {
    @Mixin
    KafkaClientOptions kafka;

    @Option(names = "--name", required = true, paramLabel = "NAME", description = "The subscription to remove.")
    String name;

    /** Runs the command and exits with its code. */
    public static void main(String[] args) {
        System.exit(new UnsubscribeMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new UnsubscribeMain();
    }

    @Override
    public void prepare() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
    }

    @Override
    public Integer call() {
        Properties props = kafka.toProperties();
        Duration timeout = Duration.ofSeconds(30);
        SubscriptionStore store = new SubscriptionStore(props, timeout);
        store.ensureTopics();
        var defs = store.definitions();
        if (!defs.containsKey(name)) {
            throw new UserInputException("no subscription named '" + name + "'"
                    + (defs.isEmpty() ? " (there are none)" : "; there are: " + String.join(", ", defs.keySet())));
        }
        SubscriptionGrants grants = SubscriptionGrants.forRemove(defs, name);
        store.remove(name);
        String access = grants.apply(props, timeout);
        System.out.println("unsubscribed " + name + " (topic " + Topics.subscription(name) + " kept)"
                + (access == null ? "" : "; " + access));
        return 0;
    }
}
