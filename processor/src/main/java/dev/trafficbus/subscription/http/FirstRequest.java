package dev.trafficbus.subscription.http;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * Puts the client's segments of a session back in sequence order (duplicates and overlaps tolerated, bounded
 * in size) and looks for the head of the first request in the contiguous start of the stream: an HTTP/1
 * request line and headers, or after an HTTP/2 preface the first HEADERS block ({@link Http2FirstRequest}).
 */
public final class FirstRequest {
    /** Where the search stands. */
    public enum Outcome {
        /** The head is complete: see {@link #head()}. */
        FOUND,
        /** Not enough contiguous bytes yet. */
        NEED_MORE,
        /** The client's first bytes are neither an HTTP/1 request line nor an HTTP/2 request. */
        NOT_HTTP,
        /** No end of head within the size bound. */
        TOO_LARGE
    }

    private record Segment(long relative, byte[] array, int offset, int length) {
    }

    private final int maxBytes;
    private final List<Segment> segments = new ArrayList<>();
    private RequestHead head;

    /** A search over at most {@code maxBytes} bytes of the client stream. */
    public FirstRequest(int maxBytes) {
        this.maxBytes = maxBytes;
    }

    /** Adds one client segment with payload: its TCP sequence number and payload bytes (not copied). */
    public void add(long seq, byte[] array, int offset, int length) {
        if (length > 0) {
            segments.add(new Segment(seq, array, offset, length));
        }
    }

    /** The head found by the last {@link #search}, or null. */
    public RequestHead head() {
        return head;
    }

    /**
     * Searches the stream that starts at {@code isn + 1} when the SYN was seen ({@code isn >= 0}), else at the
     * earliest segment (a session captured mid-connection).
     */
    public Outcome search(long isn) {
        head = null;
        if (segments.isEmpty()) {
            return Outcome.NEED_MORE;
        }
        long base = isn >= 0 ? (isn + 1) & 0xFFFFFFFFL : segments.get(0).relative;
        if (isn < 0) {
            for (Segment s : segments) {
                if ((int) (s.relative - base) < 0) {
                    base = s.relative;
                }
            }
        }
        final long b = base;
        List<Segment> ordered = new ArrayList<>(segments.size());
        for (Segment s : segments) {
            ordered.add(new Segment((int) (s.relative - b), s.array, s.offset, s.length));
        }
        ordered.sort(Comparator.comparingLong(Segment::relative));
        byte[] stream = new byte[maxBytes];
        int have = 0;
        for (Segment s : ordered) {
            if (s.relative > have) {
                break; // a gap: wait for the missing segment
            }
            long skip = have - s.relative;
            if (skip >= s.length) {
                continue; // retransmission of bytes we already have
            }
            int n = (int) Math.min(s.length - skip, maxBytes - have);
            System.arraycopy(s.array, s.offset + (int) skip, stream, have, n);
            have += n;
            if (have == maxBytes) {
                break;
            }
        }
        int preface = Http2FirstRequest.preface(stream, have);
        if (preface >= 0) {
            if (preface == 0) {
                return Outcome.NEED_MORE;
            }
            Http2FirstRequest.Result r = Http2FirstRequest.search(stream, have);
            head = r.head();
            return r.outcome() == Outcome.NEED_MORE && have >= maxBytes ? Outcome.TOO_LARGE : r.outcome();
        }
        if (!looksLikeRequestLine(stream, have)) {
            return Outcome.NOT_HTTP;
        }
        int end = RequestHead.headEnd(stream, have);
        if (end < 0) {
            return have >= maxBytes ? Outcome.TOO_LARGE : Outcome.NEED_MORE;
        }
        head = RequestHead.parse(stream, end);
        return head == null ? Outcome.NOT_HTTP : Outcome.FOUND;
    }

    /** False as soon as the bytes so far cannot start {@code METHOD SP}. */
    private static boolean looksLikeRequestLine(byte[] s, int len) {
        for (int i = 0; i < len; i++) {
            byte c = s[i];
            if (c == ' ') {
                return i > 0;
            }
            if (c < 'A' || c > 'Z') {
                return false;
            }
            if (i > 20) {
                return false;
            }
        }
        return true;
    }
}
