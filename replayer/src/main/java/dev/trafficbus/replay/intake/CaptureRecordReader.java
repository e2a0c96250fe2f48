package dev.trafficbus.replay.intake;

import dev.trafficbus.bus.CapturedPacketCodec;
import dev.trafficbus.bus.CopyHeader;
import dev.trafficbus.packet.PacketStatus;
import dev.trafficbus.packet.PacketView;
import dev.trafficbus.replay.ReplayProblem;
import org.apache.kafka.clients.consumer.ConsumerRecord;

import java.nio.ByteBuffer;

/**
 * Walks the packets of one capture record value for both replay engines: checks the value, then wraps a
 * {@link PacketView} on each packet in turn, in place, and names why a packet cannot be replayed.
 * <pre>{@code
 * int copy = in.open(record, counters); if (copy < 0) { return; }
 * do { ReplayProblem skip = in.wrap(); if (skip != null) { skip packet; continue; } ... in.view() ... } while (in.advance());
 * }</pre>
 * Single-threaded; reusable.
 */
public final class CaptureRecordReader {
    /** What both engines count as records come in: records and packets read, and what was skipped, by reason. */
    public interface Intake {
        void recordConsumed();

        /** A record whose value did not decode (its packets are unknown, so they are not counted). */
        void skipRecord(ReplayProblem reason);

        void packetsConsumed(int packets);

        /** {@code n} packets of a decoded record not replayed, by reason. */
        void skipPackets(ReplayProblem reason, long n);
    }

    private final CapturedPacketCodec.Reader reader = new CapturedPacketCodec.Reader();
    private final PacketView view = new PacketView();

    /**
     * Reads {@code record} and counts it in {@code intake}: its copy index (tb.copy, 0 when absent) with the first
     * packet loaded, or -1 when the record is skipped whole (a value that does not decode, a malformed copy header).
     */
    public int open(ConsumerRecord<?, ByteBuffer> record, Intake intake) {
        intake.recordConsumed();
        if (!read(record.value())) {
            intake.skipRecord(ReplayProblem.UNDECODABLE);
            return -1;
        }
        intake.packetsConsumed(packetCount());
        int copy = CopyHeader.decode(record.headers());
        if (copy == CopyHeader.MALFORMED) {
            intake.skipPackets(ReplayProblem.BAD_COPY_HEADER, packetCount());
            return -1;
        }
        return copy;
    }

    /** Checks {@code value} and loads its first packet; false when it does not decode (nothing loaded). */
    public boolean read(byte[] value) {
        try {
            reader.read(value);
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /**
     * As {@link #read(byte[])} for a value the consumer hands over in its own buffer (read in place, not copied:
     * the packets stay valid while the record is handled).
     */
    public boolean read(ByteBuffer value) {
        if (value == null) {
            return false;
        }
        try {
            if (value.hasArray()) {
                reader.read(value.array(), value.arrayOffset() + value.position(), value.remaining());
            } else {
                byte[] copy = new byte[value.remaining()];
                value.duplicate().get(copy);
                reader.read(copy);
            }
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    /** Packets in the record read (at least 1). */
    public int packetCount() {
        return reader.packetCount();
    }

    /** Loads the record's next packet; false after the last one. */
    public boolean advance() {
        return reader.advance();
    }

    /** Wraps {@link #view()} on the loaded packet: null when it is a TCP packet, else the reason to skip it. */
    public ReplayProblem wrap() {
        return skipReason(view.wrap(reader.packetArray(), reader.packetOffset(), reader.packetLength(),
                reader.originalLength()));
    }

    /** The loaded packet's header view (valid after {@link #wrap()} returned null). */
    public PacketView view() {
        return view;
    }

    /** Capture time of the loaded packet, µs since the epoch. */
    public long timestampMicros() {
        return reader.timestampMicros();
    }

    /** True when the loaded packet went from the client to the server. */
    public boolean clientToServer() {
        return reader.clientToServer();
    }

    /** The reason a packet of {@code status} is skipped, or null for a usable TCP packet. */
    public static ReplayProblem skipReason(PacketStatus status) {
        return switch (status) {
            case TCP -> null;
            case NOT_IP, NOT_TCP -> ReplayProblem.NOT_TCP;
            case FRAGMENT -> ReplayProblem.IP_FRAGMENT;
            case TRUNCATED -> ReplayProblem.TRUNCATED_PACKET;
            default -> ReplayProblem.MALFORMED_PACKET;
        };
    }
}
