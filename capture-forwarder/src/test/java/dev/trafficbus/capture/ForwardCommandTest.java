package dev.trafficbus.capture;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** Bad input never reaches Kafka: one line on stderr, exit code 2 (the broker address here is never dialled). */
class ForwardCommandTest {
    private static final String NO_BROKER = "127.0.0.1:1";

    @TempDir
    Path temp;

    private static String[] run(String... args) {
        String[] out = new String[3];
        int code = PcapForwarderKafkaTest.runCommand(out, args);
        out[2] = Integer.toString(code);
        return out;
    }

    private static void assertUserError(String[] out, String expectedLine) {
        assertThat(out[2]).as("exit code").isEqualTo("2");
        assertThat(out[1].strip()).isEqualTo(expectedLine);
        assertThat(out[0]).isEmpty();
    }

    @Test
    void missingFile() {
        Path missing = temp.resolve("nothere.pcap");
        assertUserError(run("--pcap", missing.toString(), "--port", "80", "--bootstrap-servers", NO_BROKER),
                "trafficbus forward: " + missing + ": no such file");
    }

    @Test
    void textFileIsNotAPcapAndItsFirstBytesAreShown() throws Exception {
        Path text = temp.resolve("notes.txt");
        Files.writeString(text, "GET / HTTP/1.1\r\nHost: example\r\n\r\nthis is not a capture at all\n");
        assertUserError(run("--pcap", text.toString(), "--port", "80", "--bootstrap-servers", NO_BROKER),
                "trafficbus forward: " + text + " is not a pcap file or a pcapng file: it starts with"
                        + " 47 45 54 20 2f 20 48 54 (\"GET / HT\"), like text");
    }

    @Test
    void emptyFileIsSaidToBeEmpty() throws Exception {
        Path empty = Files.createFile(temp.resolve("empty.pcap"));
        assertUserError(run("--pcap", empty.toString(), "--port", "80", "--bootstrap-servers", NO_BROKER),
                "trafficbus forward: " + empty + " is empty (0 bytes): it is not a pcap or pcapng file");
    }

    @Test
    void directory() {
        assertUserError(run("--pcap", temp.toString(), "--port", "80", "--bootstrap-servers", NO_BROKER),
                "trafficbus forward: " + temp + " is a directory, not a pcap file");
    }

    @Test
    void unsupportedLinkTypeIsNamed() throws Exception {
        // The real Ethernet capture with its header's link type changed to 802.11 (105), which forward cannot strip.
        byte[] bytes = Files.readAllBytes(Fixtures.path("ethernet.pcap"));
        bytes[20] = (byte) 105;
        Path wifi = temp.resolve("wifi.pcap");
        Files.write(wifi, bytes);
        assertUserError(run("--pcap", wifi.toString(), "--port", "80", "--bootstrap-servers", NO_BROKER),
                "trafficbus forward: " + wifi + " has link type IEEE802_11 (DLT 105), which forward cannot read;"
                        + " it reads Ethernet (with VLAN tags), Linux cooked v1/v2, BSD loopback, raw IP, PPP and NFLOG captures");
    }

    @Test
    void portOutOfRange() {
        assertUserError(run("--pcap", Fixtures.path("raw.pcap").toString(), "--port", "80,70000",
                "--bootstrap-servers", NO_BROKER), "trafficbus forward: port 70000 is not a TCP port (1-65535)");
    }

    @Test
    void portThatIsNotANumberAndMissingOptionsPointToHelp() {
        String[] out = run("--pcap", Fixtures.path("raw.pcap").toString(), "--port", "http", "--bootstrap-servers", NO_BROKER);
        assertThat(out[2]).isEqualTo("2");
        assertThat(out[1]).startsWith("trafficbus forward: Invalid value for option '--port'")
                .contains("Run 'trafficbus forward --help' for the options.");
        String[] missing = run("--pcap", Fixtures.path("raw.pcap").toString());
        assertThat(missing[2]).isEqualTo("2");
        assertThat(missing[1]).startsWith("trafficbus forward: Missing required options");
    }

    @Test
    void badSourceId() {
        assertUserError(run("--pcap", Fixtures.path("raw.pcap").toString(), "--port", "80", "--source", "web 1",
                        "--bootstrap-servers", NO_BROKER),
                "trafficbus forward: source 'web 1' is not valid: use 1-200 characters from letters, digits, '.', '_' and '-'");
    }

    @Test
    void producerSettingKafkaRejects() {
        assertUserError(run("--pcap", Fixtures.path("raw.pcap").toString(), "--port", "80",
                        "--bootstrap-servers", NO_BROKER, "--producer-property", "batch.size=big"),
                "trafficbus forward: Kafka producer settings refused: Invalid value big for configuration batch.size:"
                        + " Not a number of type INT");
    }

    @Test
    void helpDescribesEveryOptionAndTheDirectionRule() {
        String[] out = run("--help");
        assertThat(out[2]).isEqualTo("0");
        String help = out[0].replaceAll("\\s+", " ");
        assertThat(help).contains("--pcap=FILE", "--interface=IF", "--port=PORT", "--source=ID", "--bootstrap-servers=",
                "--kafka-property=KEY=VALUE", "--kafka-config=FILE", "--filter=BPF", "--requests-only", "--snaplen=BYTES",
                "--buffer-size=SIZE", "--promisc", "--max-pending=SIZE", "--cpu-budget=PERCENT", "--flush-timeout=DURATION",
                "--status-interval=DURATION", "--metrics-port=PORT", "--batch-window=DURATION", "--batch-max-packets=N",
                "--help", "--version",
                "a packet to a service port is client-to-server, one from it server-to-client");
        // The old spelling still works (see producerSettingKafkaRejects) but is no longer advertised.
        assertThat(help).doesNotContain("--producer-property");
    }

    @Test
    void kafkaPropertyReachesTheProducerLikeTheOldProducerProperty() {
        assertUserError(run("--pcap", Fixtures.path("raw.pcap").toString(), "--port", "80",
                        "--bootstrap-servers", NO_BROKER, "--kafka-property", "batch.size=big"),
                "trafficbus forward: Kafka producer settings refused: Invalid value big for configuration batch.size:"
                        + " Not a number of type INT");
    }

    @Test
    void pcapAndInterfaceExcludeEachOtherAndOneIsNeeded() {
        String[] both = run("--pcap", Fixtures.path("raw.pcap").toString(), "--interface", "lo", "--port", "80",
                "--bootstrap-servers", NO_BROKER);
        assertThat(both[2]).isEqualTo("2");
        assertThat(both[1]).startsWith("trafficbus forward: Error: --pcap=FILE, --interface=IF are mutually exclusive");
        String[] none = run("--port", "80", "--bootstrap-servers", NO_BROKER);
        assertThat(none[2]).isEqualTo("2");
        assertThat(none[1]).contains("Missing required argument", "--pcap=FILE", "--interface=IF");
    }

    @Test
    void liveOptionsAreRefusedForAFile() {
        assertUserError(run("--pcap", Fixtures.path("raw.pcap").toString(), "--port", "80",
                        "--bootstrap-servers", NO_BROKER, "--max-pending", "1MB"),
                "trafficbus forward: --max-pending applies to a live capture (--interface), not to --pcap");
    }

    @Test
    void filterThatDoesNotCompileIsNamedBeforeAnythingOpens() {
        assertUserError(run("--interface", "lo", "--port", "80", "--bootstrap-servers", NO_BROKER,
                        "--filter", "port and and"),
                "trafficbus forward: --filter 'port and and' is not a valid BPF filter (can't parse filter expression:"
                        + " syntax error); use tcpdump's filter syntax, e.g. --filter 'net 10.0.0.0/8'");
    }

    @Test
    void badSizesAndDurationsAreUserErrors() {
        assertUserError(run("--interface", "lo", "--port", "80", "--bootstrap-servers", NO_BROKER,
                        "--max-pending", "lots"),
                "trafficbus forward: --max-pending 'lots' is not a size; use e.g. 64MB, 512KB or 1GB");
        String[] duration = run("--interface", "lo", "--port", "80", "--bootstrap-servers", NO_BROKER, "--flush-timeout", "soon");
        assertThat(duration[2]).as("exit code").isEqualTo("2");
        assertThat(duration[1].lines().findFirst()).hasValue(
                "trafficbus forward: Invalid value for option '--flush-timeout': 'soon' is not a duration; use e.g. 10s, 500ms, 2m or 1h");
        assertUserError(run("--interface", "lo", "--port", "80", "--bootstrap-servers", NO_BROKER,
                        "--max-pending", "1KB"),
                "trafficbus forward: --max-pending must be at least 64KB");
    }

    @Test
    void batchOptionsOutOfRangeAreUserErrorsInBothModes() {
        assertUserError(run("--pcap", Fixtures.path("raw.pcap").toString(), "--port", "80", "--bootstrap-servers", NO_BROKER,
                        "--batch-max-packets", "0"),
                "trafficbus forward: --batch-max-packets 0 is out of range; use 1-100000 (1 = one packet per record)");
        assertUserError(run("--interface", "lo", "--port", "80", "--bootstrap-servers", NO_BROKER,
                        "--batch-window", "1m"),
                "trafficbus forward: --batch-window 60000ms is too long; at most 500ms (consumers allow records of a"
                        + " window to come 1 s late)");
        String[] window = run("--pcap", Fixtures.path("raw.pcap").toString(), "--port", "80",
                "--bootstrap-servers", NO_BROKER, "--batch-window", "-5ms");
        assertThat(window[2]).as("exit code").isEqualTo("2");
        assertThat(window[1]).startsWith("trafficbus forward: Invalid value for option '--batch-window'");
    }

    @Test
    void missingLibpcapNamesThePackage() throws Exception {
        // pcap4j loads the library by this name; a path that does not exist is what a host without libpcap shows.
        java.util.List<String> cmd = LiveCaptureTest.forwardCommand(java.util.List.of(), "--interface", "lo", "--port", "80",
                "--bootstrap-servers", NO_BROKER);
        cmd.add(1, "-Dorg.pcap4j.core.pcapLibName=/nonexistent/libpcap.so.0.8");
        NetnsLab.Result r = NetnsLab.exec(cmd, java.time.Duration.ofSeconds(60));
        assertThat(r.exitCode()).isEqualTo(2);
        assertThat(r.output().strip()).isEqualTo("trafficbus forward: live capture (--interface) needs libpcap, which is"
                + " not installed (or cannot be loaded): sudo apt-get install libpcap0.8 (the Debian/Ubuntu package libpcap0.8; dnf install"
                + " libpcap elsewhere)");
    }

    @Test
    void defaultSourceIsTheFileNameMadeTopicSafe() {
        assertThat(PcapForwardRequest.sourceFromFileName(Path.of("/data/web1.pcap"))).isEqualTo("web1");
        assertThat(PcapForwardRequest.sourceFromFileName(Path.of("web1.eth0.pcapng"))).isEqualTo("web1.eth0");
        assertThat(PcapForwardRequest.sourceFromFileName(Path.of("my capture (2).pcap"))).isEqualTo("my-capture-2");
        assertThat(PcapForwardRequest.sourceFromFileName(Path.of("capture"))).isEqualTo("capture");
        assertThat(PcapForwardRequest.sourceFromFileName(Path.of("ûñï.pcap"))).isEqualTo("pcap");
    }
}
