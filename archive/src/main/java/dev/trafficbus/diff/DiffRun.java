package dev.trafficbus.diff;

/** What a diff compared: the run, its responses topic and the rules; the heading of every report. */
public record DiffRun(String run, String topic, ComparisonRules rules) {
}
