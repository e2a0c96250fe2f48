package dev.trafficbus.capture;

import dev.trafficbus.capture.file.CaptureFile;
import dev.trafficbus.capture.file.CaptureFileException;
import dev.trafficbus.capture.file.CaptureFileException.Problem;
import dev.trafficbus.capture.file.CapturedFrame;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pcap4j.core.PcapHandle;
import org.pcap4j.core.PcapNativeException;
import org.pcap4j.core.Pcaps;

import java.io.ByteArrayOutputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.zip.GZIPOutputStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The pure-Java capture reader against libpcap on the real fixtures (make-file-formats.sh derives the other formats
 * from them): every format yields exactly the frames, lengths and times libpcap yields of the original.
 */
class CaptureFileFormatsTest {
    @TempDir
    Path temp;

    /** A frame as the reader gave it, copied out of the reused buffer. */
    record Read(byte[] bytes, int wireLength, long micros, int iface, int linkType) {
        Fixtures.Frame frame() {
            return new Fixtures.Frame(bytes, wireLength, micros);
        }
    }

    static List<Read> read(Path file) {
        List<Read> frames = new ArrayList<>();
        try (CaptureFile f = CaptureFile.open(file)) {
            while (f.next()) {
                CapturedFrame c = f.frame();
                frames.add(new Read(Arrays.copyOf(c.bytes(), c.capturedLength()), c.wireLength(), c.micros(),
                        c.captureInterface().index(), c.captureInterface().linkType()));
            }
        }
        return frames;
    }

    private static void assertSameFrames(List<Fixtures.Frame> actual, List<Fixtures.Frame> expected) {
        assertThat(actual).hasSameSizeAs(expected);
        for (int i = 0; i < expected.size(); i++) {
            assertThat(actual.get(i).bytes()).as("frame %d", i).isEqualTo(expected.get(i).bytes());
            assertThat(actual.get(i).wireLength()).as("wire length %d", i).isEqualTo(expected.get(i).wireLength());
            assertThat(actual.get(i).micros()).as("time %d", i).isEqualTo(expected.get(i).micros());
        }
    }

    private static List<Fixtures.Frame> frames(List<Read> reads) {
        return reads.stream().map(Read::frame).toList();
    }

    @Test
    void bothByteOrdersAndBothPrecisionsOfPcapReadAsLibpcapReadsTheOriginal() throws Exception {
        List<Fixtures.Frame> libpcap = Fixtures.frames("ethernet.pcap");
        assertThat(libpcap).hasSize(Fixtures.ETHERNET.total());
        for (String name : List.of("ethernet.pcap", "ethernet-be.pcap", "ethernet-nsec.pcap", "ethernet-nsec-be.pcap",
                "ethernet.pcapng")) {
            assertSameFrames(frames(read(Fixtures.path(name))), libpcap);
            // libpcap reads each of them too, so the swapped files are real pcap files, not only ours.
            assertSameFrames(Fixtures.frames(name), libpcap);
        }
        try (CaptureFile f = CaptureFile.open(Fixtures.path("ethernet-nsec-be.pcap"))) {
            assertThat(f.describe()).isEqualTo("pcap (nanosecond timestamps, big-endian)");
            assertThat(f.interfaces()).singleElement().satisfies(i -> {
                assertThat(i.linkType()).isEqualTo(1);
                assertThat(i.snaplen()).isEqualTo(262144);
            });
        }
    }

    @Test
    void pcapngWithFourInterfacesOfThreeLinkTypesIsReadWholeWhereLibpcapStopsAtTheSecond() throws Exception {
        // libpcap, as forward used it before: not one packet of the file.
        List<byte[]> byLibpcap = new ArrayList<>();
        try (PcapHandle h = Pcaps.openOffline(Fixtures.path("multi-link.pcapng").toString())) {
            assertThatThrownBy(() -> h.loop(-1, (byte[] raw) -> byLibpcap.add(raw)))
                    .isInstanceOf(PcapNativeException.class)
                    .hasMessageContaining("different from the type of the first interface");
        }
        assertThat(byLibpcap).isEmpty();

        List<String> inputs = List.of("ethernet-nsec.pcap", "sll2.pcap", "raw.pcap", "snaplen80.pcap");
        for (String name : List.of("multi-link.pcapng", "multi-link-be.pcapng")) {
            List<Read> all = read(Fixtures.path(name));
            assertThat(all).as(name).hasSize(Fixtures.ETHERNET.total() + Fixtures.SLL2.total() + Fixtures.RAW.total()
                    + Fixtures.SNAPLEN80.total());
            // mergecap gave each input its own interface and kept each input's order.
            for (int i = 0; i < inputs.size(); i++) {
                int iface = i;
                assertSameFrames(frames(all.stream().filter(r -> r.iface() == iface).toList()),
                        Fixtures.frames(inputs.get(i)));
            }
            assertThat(all.stream().map(Read::linkType).distinct().sorted().toList()).containsExactly(1, 101, 276);
            try (CaptureFile f = CaptureFile.open(Fixtures.path(name))) {
                assertThat(f.interfaces()).extracting(i -> i.linkType()).containsExactly(1, 276, 101, 1);
                assertThat(f.interfaces()).extracting(i -> i.snaplen()).containsExactly(262144, 262144, 262144, 80);
            }
        }
    }

    @Test
    void twoSectionsOfEitherByteOrderEachStartWithTheirOwnInterfaces() throws Exception {
        List<Read> all = read(Fixtures.path("two-sections.pcapng"));
        List<Read> second = read(Fixtures.path("multi-link-be.pcapng"));
        assertThat(all).hasSize(Fixtures.ETHERNET.total() + second.size());
        assertSameFrames(frames(all.subList(0, Fixtures.ETHERNET.total())), Fixtures.frames("ethernet.pcap"));
        assertSameFrames(frames(all.subList(Fixtures.ETHERNET.total(), all.size())), frames(second));
        assertThat(all.subList(Fixtures.ETHERNET.total(), all.size())).extracting(Read::iface)
                .isEqualTo(second.stream().map(Read::iface).toList());
    }

    @Test
    void nameResolutionStatisticsCustomAndUnknownBlocksAreSteppedOver() throws Exception {
        byte[] file = Files.readAllBytes(Fixtures.path("ethernet.pcapng"));
        int afterInterface = blockEnd(file, 2); // behind the section header and the interface description
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(file, 0, afterInterface);
        out.write(block(4, new byte[] {1, 0, 8, 0, 10, 77, 0, 1, 'w', 'e', 'b', 0, 0, 0, 0, 0})); // NRB: 10.77.0.1 web
        out.write(block(0x00000BAD, new byte[] {0x12, 0x34, 0, 0, 'x', 'y', 'z', 0})); // custom block, PEN 0x3412
        out.write(block(0x0BADBEEF, new byte[12])); // a type no one defined
        out.write(file, afterInterface, file.length - afterInterface);
        out.write(block(5, new byte[20])); // ISB: interface 0, time, no options
        Path extended = Files.write(temp.resolve("blocks.pcapng"), out.toByteArray());
        assertSameFrames(frames(read(extended)), Fixtures.frames("ethernet.pcap"));
    }

    @Test
    void simpleAndObsoletePacketBlocksAndBinaryTimeUnitsWithAnOffset() throws Exception {
        // No tool here writes these; the blocks are built around real frames, as the pcapng specification lays out.
        List<Fixtures.Frame> real = Fixtures.frames("ethernet.pcap").subList(0, 3);
        ByteBuffer idb = ByteBuffer.allocate(32).order(ByteOrder.LITTLE_ENDIAN);
        idb.putShort((short) 1).putShort((short) 0).putInt(0);
        idb.putShort((short) 9).putShort((short) 1).put((byte) 0x94).put(new byte[3]); // if_tsresol: 2^-20 s
        idb.putShort((short) 14).putShort((short) 8).putLong(1000); // if_tsoffset: 1000 s
        idb.putInt(0); // opt_endofopt
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.write(block(0x0A0D0D0A, ByteBuffer.allocate(16).order(ByteOrder.LITTLE_ENDIAN)
                .putInt(0x1A2B3C4D).putShort((short) 1).putShort((short) 0).putLong(-1).array()));
        out.write(block(1, idb.array()));
        out.write(block(6, packetBody(20, real.get(0), 0, (5L << 20) + (1L << 19), false))); // 5.5 s
        out.write(block(3, packetBody(4, real.get(1), 0, 0, true)));
        out.write(block(2, packetBody(20, real.get(2), 0, 6L << 20, false)));
        List<Read> read = read(Files.write(temp.resolve("blocks.pcapng"), out.toByteArray()));
        assertThat(read).extracting(Read::micros).containsExactly(1_005_500_000L, 1_005_500_000L, 1_006_000_000L);
        for (int i = 0; i < 3; i++) {
            assertThat(read.get(i).bytes()).isEqualTo(real.get(i).bytes());
            assertThat(read.get(i).wireLength()).isEqualTo(real.get(i).wireLength());
        }
    }

    /** A packet block's body: EPB/OPB header of {@code header} bytes (20) or SPB's (4), the frame, padding. */
    private static byte[] packetBody(int header, Fixtures.Frame f, int iface, long units, boolean simple) {
        int data = f.bytes().length;
        ByteBuffer b = ByteBuffer.allocate(header + ((data + 3) & ~3)).order(ByteOrder.LITTLE_ENDIAN);
        if (simple) {
            b.putInt(f.wireLength());
        } else {
            b.putInt(iface).putInt((int) (units >>> 32)).putInt((int) units).putInt(data).putInt(f.wireLength());
        }
        return b.put(f.bytes()).array();
    }

    @Test
    void gzipIsRecognisedByItsContentWithOrWithoutGz() throws Exception {
        for (String name : List.of("ethernet.pcap", "multi-link.pcapng")) {
            byte[] gz = gzip(Files.readAllBytes(Fixtures.path(name)));
            Path named = Files.write(temp.resolve(name + ".gz"), gz);
            Path unnamed = Files.write(temp.resolve("plain-" + name), gz);
            List<Read> expected = read(Fixtures.path(name));
            assertSameFrames(frames(read(named)), frames(expected));
            assertSameFrames(frames(read(unnamed)), frames(expected));
            try (CaptureFile f = CaptureFile.open(unnamed)) {
                assertThat(f.describe()).endsWith(", gzip-compressed");
            }
        }
    }

    @Test
    void standardInputIsReadForADash() throws Exception {
        InputStream stdin = System.in;
        try (InputStream file = Files.newInputStream(Fixtures.path("ethernet-be.pcap"))) {
            System.setIn(file);
            assertSameFrames(frames(read(Path.of("-"))), Fixtures.frames("ethernet.pcap"));
        } finally {
            System.setIn(stdin);
        }
    }

    @Test
    void filesThatAreNoCaptureSayWhatTheyAre() throws Exception {
        Path empty = Files.createFile(temp.resolve("empty.pcap"));
        assertProblem(empty, Problem.EMPTY, empty + " is empty (0 bytes): it is not a pcap or pcapng file");
        Path html = Files.writeString(temp.resolve("page.pcap"), "<!DOCTYPE html><html></html>\n");
        assertProblem(html, Problem.NOT_A_CAPTURE, html + " is not a pcap file or a pcapng file: it starts with"
                + " 3c 21 44 4f 43 54 59 50 (\"<!DOCTYP\"), like text");
        Path zip = Files.write(temp.resolve("capture.zip"), new byte[] {0x50, 0x4B, 3, 4, 20, 0, 0, 0, 8, 0});
        assertProblem(zip, Problem.NOT_A_CAPTURE, zip + " is not a pcap file or a pcapng file: it starts with"
                + " 50 4b 03 04 14 00 00 00 (\"PK......\"), like a zip archive (unzip it first)");
        Path emptyGzip = Files.write(temp.resolve("nothing.gz"), gzip(new byte[0]));
        assertProblem(emptyGzip, Problem.EMPTY, emptyGzip + " (gzip-compressed) holds nothing: it is not a pcap or pcapng file");
        Path gzippedText = Files.write(temp.resolve("notes"), gzip("just some notes\n".getBytes()));
        assertProblem(gzippedText, Problem.NOT_A_CAPTURE, gzippedText + " (gzip-compressed) is not a pcap file or a pcapng"
                + " file: it starts with 6a 75 73 74 20 73 6f 6d (\"just som\"), like text");
        byte[] header = Arrays.copyOf(Files.readAllBytes(Fixtures.path("ethernet.pcap")), 10);
        Path shortHeader = Files.write(temp.resolve("short.pcap"), header);
        assertProblem(shortHeader, Problem.TRUNCATED, shortHeader + " is truncated inside its pcap file header (10 of 24 bytes)");
        assertProblem(temp, Problem.UNREADABLE, temp + " is a directory, not a pcap file");
        assertProblem(temp.resolve("absent.pcap"), Problem.UNREADABLE, temp.resolve("absent.pcap") + ": no such file");
    }

    @Test
    void aFileCutShortIsTruncatedAfterTheCompletePackets() throws Exception {
        byte[] pcap = Files.readAllBytes(Fixtures.path("ethernet-be.pcap"));
        int keep = 29;
        int offset = 24;
        for (int i = 0; i < keep; i++) {
            offset += 16 + ByteBuffer.wrap(pcap, offset + 8, 4).order(ByteOrder.BIG_ENDIAN).getInt();
        }
        assertTruncatedAfter(Files.write(temp.resolve("cut.pcap"), Arrays.copyOf(pcap, offset + 16 + 10)), keep,
                "it ends inside a packet");
        assertTruncatedAfter(Files.write(temp.resolve("cut-header.pcap"), Arrays.copyOf(pcap, offset + 7)), keep,
                "it ends inside a record header");

        byte[] pcapng = Files.readAllBytes(Fixtures.path("multi-link.pcapng"));
        int cutAt = blockEnd(pcapng, 1 + 1 + 4 + 20) + 30; // SHB, DSB, 4 IDBs, 20 packets, into the 21st
        assertTruncatedAfter(Files.write(temp.resolve("cut.pcapng"), Arrays.copyOf(pcapng, cutAt)), 20,
                "it ends inside a packet block");
        // gzip cut short: whatever packets its complete part holds, then truncated, never damaged or garbage.
        byte[] gz = gzip(Files.readAllBytes(Fixtures.path("ethernet.pcap")));
        Path cutGz = Files.write(temp.resolve("cut.pcap.gz"), Arrays.copyOf(gz, gz.length - 200));
        assertThatThrownBy(() -> read(cutGz)).isInstanceOfSatisfying(CaptureFileException.class, e -> {
            assertThat(e.problem()).isEqualTo(Problem.TRUNCATED);
            assertThat(e.getMessage()).startsWith(cutGz + " is truncated after " + e.packetsBefore() + " packets (");
            assertThat(e.packetsBefore()).isBetween(1L, (long) Fixtures.ETHERNET.total() - 1);
        });
    }

    @Test
    void impossibleLengthsAreDamageNotTruncation() throws Exception {
        byte[] pcap = Files.readAllBytes(Fixtures.path("ethernet.pcap"));
        int second = 24 + 16 + ByteBuffer.wrap(pcap, 24 + 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        ByteBuffer.wrap(pcap).order(ByteOrder.LITTLE_ENDIAN).putInt(second + 8, 0x7FFFFFF0);
        Path bad = Files.write(temp.resolve("bad-length.pcap"), pcap);
        assertThatThrownBy(() -> read(bad)).isInstanceOfSatisfying(CaptureFileException.class, e -> {
            assertThat(e.problem()).isEqualTo(Problem.DAMAGED);
            assertThat(e.packetsBefore()).isEqualTo(1);
            assertThat(e.getMessage()).isEqualTo(bad + " is damaged after 1 packets (the next record claims 2147483632"
                    + " captured bytes, more than the file's snap length (262144) and any capture holds)");
        });
        byte[] pcapng = Files.readAllBytes(Fixtures.path("ethernet.pcapng"));
        int third = blockEnd(pcapng, 3);
        ByteBuffer.wrap(pcapng).order(ByteOrder.LITTLE_ENDIAN).putInt(third + 4, 13);
        Path badBlock = Files.write(temp.resolve("bad-block.pcapng"), pcapng);
        assertThatThrownBy(() -> read(badBlock)).isInstanceOfSatisfying(CaptureFileException.class, e -> {
            assertThat(e.problem()).isEqualTo(Problem.DAMAGED);
            assertThat(e.getMessage()).isEqualTo(badBlock + " is damaged after 1 packets (a block of type 00000006"
                    + " has the impossible length 13)");
        });
    }

    @Test
    void aFileWhoseOnlyInterfacesCannotBeReadIsRefusedAtOpen() throws Exception {
        byte[] pcapng = Files.readAllBytes(Fixtures.path("ethernet.pcapng"));
        int idb = blockEnd(pcapng, 1);
        ByteBuffer.wrap(pcapng).order(ByteOrder.LITTLE_ENDIAN).putShort(idb + 8, (short) 105);
        Path wifi = Files.write(temp.resolve("wifi.pcapng"), pcapng);
        assertProblem(wifi, Problem.LINK_TYPE, wifi + " has link type IEEE802_11 (DLT 105), which forward cannot read;"
                + " it reads Ethernet (with VLAN tags), Linux cooked v1/v2, BSD loopback, raw IP, PPP and NFLOG captures");
    }

    private void assertTruncatedAfter(Path file, long packets, String where) {
        assertThatThrownBy(() -> read(file)).isInstanceOfSatisfying(CaptureFileException.class, e -> {
            assertThat(e.problem()).isEqualTo(Problem.TRUNCATED);
            assertThat(e.packetsBefore()).isEqualTo(packets);
            assertThat(e.getMessage()).isEqualTo(file + " is truncated after " + packets + " packets (" + where + ")");
        });
    }

    private static void assertProblem(Path file, Problem problem, String message) {
        assertThatThrownBy(() -> CaptureFile.open(file)).isInstanceOfSatisfying(CaptureFileException.class, e -> {
            assertThat(e.problem()).isEqualTo(problem);
            assertThat(e.getMessage()).isEqualTo(message);
        });
    }

    /** Offset just behind the first {@code blocks} blocks of a little-endian pcapng file. */
    static int blockEnd(byte[] pcapng, int blocks) {
        int p = 0;
        for (int i = 0; i < blocks; i++) {
            p += ByteBuffer.wrap(pcapng, p + 4, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
        }
        return p;
    }

    /** A little-endian pcapng block of {@code type} around {@code body} (a multiple of 4 bytes). */
    static byte[] block(int type, byte[] body) {
        ByteBuffer b = ByteBuffer.allocate(12 + body.length).order(ByteOrder.LITTLE_ENDIAN);
        b.putInt(type).putInt(12 + body.length).put(body).putInt(12 + body.length);
        return b.array();
    }

    static byte[] gzip(byte[] data) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        try (GZIPOutputStream gz = new GZIPOutputStream(out)) {
            gz.write(data);
        }
        return out.toByteArray();
    }
}
