package dev.trafficbus.acls;

import dev.trafficbus.cli.CommandRunner;

/** Entry point of {@code trafficbus acls}. */
public final class AclsMain {
    private AclsMain() {
    }

    public static void main(String[] args) {
        CommandRunner.quietLoggers("org.apache.kafka.clients.NetworkClient");
        System.exit(CommandRunner.run(new AclsCommand(), args));
    }
}
