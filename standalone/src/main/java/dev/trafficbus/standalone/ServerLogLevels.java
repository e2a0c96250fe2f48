package dev.trafficbus.standalone;

/**
 * Keeps the console to trafficbus's own lines: the in-process broker logs routine events (controller activation,
 * client shutdown races) at WARN. Errors still show. Set TRAFFICBUS_LOG (e.g. info) to see everything.
 */
final class ServerLogLevels {
    private static final String PREFIX = "org.slf4j.simpleLogger.log.";
    private static final String[] ROUTINE_WARNERS = {
        "org.apache.kafka.controller.QuorumController",
        "org.apache.kafka.clients.NetworkClient",
        "org.apache.kafka.raft",
        "org.apache.kafka.image",
        "org.apache.kafka.metadata",
        "kafka.server",
        "kafka.log",
        "kafka.network",
        "org.apache.kafka.storage",
        "org.apache.kafka.server",
    };

    private ServerLogLevels() {
    }

    /** Must run before the broker's classes create their loggers (slf4j-simple reads levels per logger at creation). */
    static void quiet() {
        if (System.getenv("TRAFFICBUS_LOG") != null) {
            return;
        }
        for (String name : ROUTINE_WARNERS) {
            if (System.getProperty(PREFIX + name) == null) {
                System.setProperty(PREFIX + name, "error");
            }
        }
    }
}
