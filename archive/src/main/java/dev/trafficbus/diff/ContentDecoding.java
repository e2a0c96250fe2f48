package dev.trafficbus.diff;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.zip.GZIPInputStream;
import java.util.zip.Inflater;
import java.util.zip.InflaterInputStream;

/**
 * Undoes the Content-Encoding of a response body before it is compared: the replayed request keeps the client's
 * Accept-Encoding, so both servers may compress, each with its own level and header bytes, and compressed bytes say
 * nothing about the content (nor can a JSON comparison see into them).
 */
final class ContentDecoding {
    /** Largest decoded body; a bigger one is compared as received (a compression bomb must not fill the heap). */
    static final int MAX_DECODED = 16 << 20;

    /**
     * A body ready for comparison.
     *
     * @param coding the Content-Encoding that was undone ("gzip", "deflate, gzip"), or null when compared as received
     */
    record Body(byte[] bytes, String coding) {
    }

    private ContentDecoding() {
    }

    /**
     * The side's body with its gzip/deflate codings undone; as received when it has none, uses another coding
     * (br, zstd), was cut at the responses-topic cap or does not decode.
     */
    static Body decode(HttpSide side) {
        List<String> codings = new ArrayList<>();
        for (HttpSide.Header h : side.headers()) {
            if (h.name().equalsIgnoreCase("content-encoding")) {
                for (String c : h.value().split(",")) {
                    String coding = c.trim().toLowerCase(Locale.ROOT);
                    if (!coding.isEmpty() && !coding.equals("identity")) {
                        codings.add(coding);
                    }
                }
            }
        }
        if (codings.isEmpty() || side.bodyTruncated()) {
            return new Body(side.body(), null);
        }
        byte[] bytes = side.body();
        try {
            // Codings are listed in the order they were applied: undo the last first.
            for (int i = codings.size() - 1; i >= 0; i--) {
                bytes = switch (codings.get(i)) {
                    case "gzip", "x-gzip" -> readAll(new GZIPInputStream(new ByteArrayInputStream(bytes)));
                    case "deflate" -> inflate(bytes);
                    default -> null;
                };
                if (bytes == null) {
                    return new Body(side.body(), null);
                }
            }
        } catch (IOException e) {
            return new Body(side.body(), null);
        }
        return new Body(bytes, String.join(", ", codings));
    }

    /** HTTP deflate is zlib-wrapped; some servers send it raw, so that is tried as well. */
    private static byte[] inflate(byte[] bytes) throws IOException {
        try {
            return readAll(new InflaterInputStream(new ByteArrayInputStream(bytes), new Inflater()));
        } catch (IOException e) {
            return readAll(new InflaterInputStream(new ByteArrayInputStream(bytes), new Inflater(true)));
        }
    }

    private static byte[] readAll(InputStream in) throws IOException {
        try (in) {
            ByteArrayOutputStream out = new ByteArrayOutputStream();
            byte[] buf = new byte[8192];
            for (int n = in.read(buf); n >= 0; n = in.read(buf)) {
                if (out.size() + n > MAX_DECODED) {
                    throw new IOException("decoded body larger than " + MAX_DECODED + " bytes");
                }
                out.write(buf, 0, n);
            }
            return out.toByteArray();
        }
    }
}
