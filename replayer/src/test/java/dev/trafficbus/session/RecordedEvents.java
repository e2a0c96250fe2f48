package dev.trafficbus.session;

import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/** Keeps what a {@link CapturedSession} reported, checking the event order rules as it goes. */
final class RecordedEvents implements SessionEvents {
    final List<String> messages = new ArrayList<>();
    final List<Long> timestamps = new ArrayList<>();
    final Map<Integer, Long> settled = new HashMap<>();
    final Map<Integer, Long> lowerBounds = new HashMap<>();
    SessionEnd end;

    @Override
    public void message(int index, byte[] bytes, long captureTimeMicros) {
        if (end != null) {
            throw new AssertionError("message after end");
        }
        if (index != messages.size()) {
            throw new AssertionError("message " + index + " out of order, expected " + messages.size());
        }
        messages.add(new String(bytes, StandardCharsets.ISO_8859_1));
        timestamps.add(captureTimeMicros);
    }

    @Override
    public void expectedResponse(int index, long bytes, boolean isSettled) {
        if (index >= messages.size()) {
            throw new AssertionError("expected size for message " + index + " before the message");
        }
        if (settled.containsKey(index)) {
            throw new AssertionError("message " + index + " settled twice");
        }
        if (isSettled) {
            settled.put(index, bytes);
        } else {
            lowerBounds.put(index, bytes);
        }
    }

    @Override
    public void end(SessionEnd e) {
        if (end != null) {
            throw new AssertionError("two ends");
        }
        end = e;
    }
}
