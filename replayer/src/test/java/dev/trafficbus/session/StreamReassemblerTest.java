package dev.trafficbus.session;

import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

class StreamReassemblerTest {
    /** Collects the stream, writing '#' for each byte of a declared gap. */
    private static final class Collected implements StreamReassembler.Sink {
        final ByteArrayOutputStream out = new ByteArrayOutputStream();
        final List<long[]> gaps = new ArrayList<>();
        long expectedOffset;

        @Override
        public void bytes(long offset, byte[] b, int off, int len, long tsMicros, long ack) {
            assertThat(offset).as("bytes arrive contiguous").isEqualTo(expectedOffset);
            out.write(b, off, len);
            expectedOffset += len;
        }

        @Override
        public void gap(long offset, long length) {
            assertThat(offset).isEqualTo(expectedOffset);
            gaps.add(new long[] {offset, length});
            for (int i = 0; i < length; i++) {
                out.write('#');
            }
            expectedOffset += length;
        }

        String text() {
            return out.toString(StandardCharsets.ISO_8859_1);
        }
    }

    private final Collected sink = new Collected();
    private final StreamReassembler r = new StreamReassembler(1 << 20);

    private void seg(long seq, String data) {
        byte[] b = data.getBytes(StandardCharsets.ISO_8859_1);
        r.accept(seq & 0xFFFF_FFFFL, b, 0, b.length, 0, 0, sink);
    }

    @Test
    void inOrderSegmentsFormTheStream() {
        r.start(1000);
        seg(1000, "hello ");
        seg(1006, "world");
        assertThat(sink.text()).isEqualTo("hello world");
        assertThat(r.nextOffset()).isEqualTo(11);
        assertThat(r.gaps()).isZero();
    }

    @Test
    void reorderedSegmentsWaitForTheHole() {
        r.start(1000);
        seg(1006, "world");
        seg(1011, "!");
        assertThat(sink.text()).isEmpty();
        assertThat(r.bufferedBytes()).isEqualTo(6);
        seg(1000, "hello ");
        assertThat(sink.text()).isEqualTo("hello world!");
        assertThat(r.bufferedBytes()).isZero();
        assertThat(r.hasHole()).isFalse();
    }

    @Test
    void duplicatesAreDropped() {
        r.start(1);
        seg(1, "abc");
        seg(1, "abc");
        seg(4, "def");
        seg(4, "def");
        assertThat(sink.text()).isEqualTo("abcdef");
        assertThat(r.duplicateBytes()).isEqualTo(6);
    }

    @Test
    void overlappingSegmentsAreTrimmed() {
        r.start(100);
        seg(100, "abcd");
        seg(102, "cdef");      // overlaps delivered bytes
        seg(110, "klm");       // early
        seg(108, "ijkl");      // early, overlapping the other early one
        seg(106, "gh");
        assertThat(sink.text()).isEqualTo("abcdefghijklm");
    }

    @Test
    void retransmissionOfAPartialSegmentCarriesTheNewTail() {
        r.start(0);
        seg(0, "GET /a");
        // The sender retransmits from an earlier point with more data appended (repacketization).
        seg(3, " /a HTTP/1.1\r\n");
        assertThat(sink.text()).isEqualTo("GET /a HTTP/1.1\r\n");
    }

    @Test
    void aHoleDeclaredLostIsCountedAndTheStreamContinues() {
        r.start(0);
        seg(0, "aaa");
        seg(6, "ccc");         // bytes 3..5 never captured
        assertThat(sink.text()).isEqualTo("aaa");
        r.fillGapsUpTo(9, sink);
        assertThat(sink.text()).isEqualTo("aaa###ccc");
        assertThat(r.gaps()).isEqualTo(1);
        assertThat(r.gapBytes()).isEqualTo(3);
        seg(9, "ddd");
        seg(4, "bb");          // the lost bytes after all: too late, dropped
        assertThat(sink.text()).isEqualTo("aaa###cccddd");
    }

    @Test
    void fillGapsUpToALimitWithNothingBufferedSkipsToTheLimit() {
        r.start(0);
        seg(0, "ab");
        r.fillGapsUpTo(5, sink);
        seg(5, "f");
        assertThat(sink.text()).isEqualTo("ab###f");
    }

    @Test
    void fillAllGapsAtTheEndDeliversEverythingBuffered() {
        r.start(0);
        seg(2, "c");
        seg(5, "f");
        r.fillAllGaps(sink);
        assertThat(sink.text()).isEqualTo("##c##f");
        assertThat(r.gaps()).isEqualTo(2);
        assertThat(r.hasHole()).isFalse();
    }

    @Test
    void sequenceNumbersWrapAround() {
        long isn = 0xFFFF_FFFAL;
        r.start(isn);
        seg(isn, "0123");               // ends 2 bytes before the wrap
        seg(isn + 8, "89");             // after the wrap (seq 2), early
        seg(isn + 4, "4567");           // crosses the wrap
        assertThat(sink.text()).isEqualTo("0123456789");
        assertThat(r.offsetOf(2)).isEqualTo(8);
        seg(isn + 2, "23");             // an old duplicate from before the wrap
        assertThat(sink.text()).isEqualTo("0123456789");
    }

    @Test
    void overflowingTheBufferDeclaresTheHoleLost() {
        StreamReassembler small = new StreamReassembler(8);
        small.start(0);
        byte[] b = "12345".getBytes(StandardCharsets.ISO_8859_1);
        small.accept(10, b, 0, 5, 0, 0, sink);
        assertThat(sink.text()).isEmpty();
        small.accept(20, b, 0, 5, 0, 0, sink);   // 10 bytes buffered > 8
        assertThat(small.gaps()).isEqualTo(1);
        assertThat(sink.text()).isEqualTo("##########12345");
        assertThat(small.bufferedBytes()).isEqualTo(5);
    }
}
