package dev.trafficbus.subscription;

import dev.trafficbus.bus.CopyHeader;
import dev.trafficbus.bus.RecordHeaderNames;
import org.apache.kafka.common.header.Header;
import org.apache.kafka.common.header.internals.RecordHeader;

/** The {@code tb.copy} headers, made once: header values are never changed. */
final class CopyIndex {
    private static final Header[] HEADERS = new Header[SubscriptionParser.MAX_AMPLIFY];

    static {
        for (int i = 0; i < HEADERS.length; i++) {
            HEADERS[i] = new RecordHeader(RecordHeaderNames.COPY, CopyHeader.encode(i));
        }
    }

    private CopyIndex() {
    }

    static Header header(int copy) {
        return HEADERS[copy];
    }
}
