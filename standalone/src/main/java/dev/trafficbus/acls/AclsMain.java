package dev.trafficbus.acls;

import dev.trafficbus.cli.CommandRunner;
import dev.trafficbus.cli.Subcommand;

/** Entry point of {@code trafficbus acls}. */
public final class AclsMain implements Subcommand {
    /** For the root command, which finds this through ServiceLoader. */
    public AclsMain() {
    }

    public static void main(String[] args) {
        System.exit(new AclsMain().run(args));
    }

    @Override
    public Object newCommand() {
        return new AclsCommand();
    }

    @Override
    public void prepare() {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
    }
}
