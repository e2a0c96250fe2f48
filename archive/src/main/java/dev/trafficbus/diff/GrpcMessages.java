package dev.trafficbus.diff;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Locale;

/**
 * A gRPC body (length-prefixed messages, as gRPC's PROTOCOL-HTTP2.md specifies) read as a tree the
 * JSON comparison walks: an array of messages, each an object of its protobuf fields by number ({@code "1"},
 * {@code "2"}; a repeated field an array), decoded from the wire format without a schema: varints and fixed
 * numbers as numbers, length-delimited fields as text when they are UTF-8 text, else as a nested message when
 * they parse as one, else base64. So {@code body $[0]['2']} names field 2 of the first message.
 */
final class GrpcMessages {
    private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
    private static final int MAX_DEPTH = 16;

    private GrpcMessages() {
    }

    /** True when the side says its body is gRPC. */
    static boolean isGrpc(HttpSide side) {
        for (HttpSide.Header h : side.headers()) {
            if (h.name().equalsIgnoreCase("content-type")
                    && h.value().toLowerCase(Locale.ROOT).startsWith("application/grpc")) {
                return true;
            }
        }
        return false;
    }

    /** The messages of a gRPC body, or null when it is not uncompressed gRPC framing of protobuf messages. */
    static JsonNode read(byte[] body) {
        ArrayNode messages = NODES.arrayNode();
        int at = 0;
        while (at < body.length) {
            if (body.length - at < 5 || body[at] != 0) {
                return null; // cut, or compressed (grpc-encoding): not read here
            }
            long len = ((body[at + 1] & 0xFFL) << 24) | ((body[at + 2] & 0xFF) << 16) | ((body[at + 3] & 0xFF) << 8)
                    | (body[at + 4] & 0xFF);
            if (len > body.length - at - 5) {
                return null;
            }
            ObjectNode m = message(body, at + 5, at + 5 + (int) len, 0);
            if (m == null) {
                return null;
            }
            messages.add(m);
            at += 5 + (int) len;
        }
        return messages;
    }

    /** The fields of {@code b[from, to)} as one message, or null when the bytes are not protobuf wire format. */
    private static ObjectNode message(byte[] b, int from, int to, int depth) {
        ObjectNode m = NODES.objectNode();
        int[] at = {from};
        while (at[0] < to) {
            long tag = varint(b, at, to);
            if (tag < 8) {
                return null;
            }
            String field = Long.toString(tag >>> 3);
            JsonNode value;
            switch ((int) (tag & 7)) {
                case 0 -> {
                    long v = varint(b, at, to);
                    if (v == -1 && at[0] < 0) {
                        return null;
                    }
                    value = NODES.numberNode(v);
                }
                case 1 -> {
                    if (to - at[0] < 8) {
                        return null;
                    }
                    value = NODES.numberNode(ByteBuffer.wrap(b, at[0], 8).order(java.nio.ByteOrder.LITTLE_ENDIAN).getLong());
                    at[0] += 8;
                }
                case 5 -> {
                    if (to - at[0] < 4) {
                        return null;
                    }
                    value = NODES.numberNode(ByteBuffer.wrap(b, at[0], 4).order(java.nio.ByteOrder.LITTLE_ENDIAN).getInt());
                    at[0] += 4;
                }
                case 2 -> {
                    long len = varint(b, at, to);
                    if (at[0] < 0 || len < 0 || len > to - at[0]) {
                        return null;
                    }
                    value = bytesField(b, at[0], at[0] + (int) len, depth);
                    at[0] += (int) len;
                }
                default -> {
                    return null; // groups (3, 4) are long deprecated; anything else is not protobuf
                }
            }
            if (at[0] < 0) {
                return null;
            }
            JsonNode before = m.get(field);
            if (before == null) {
                m.set(field, value);
            } else if (before instanceof ArrayNode a) {
                a.add(value);
            } else {
                m.set(field, NODES.arrayNode().add(before).add(value));
            }
        }
        return m;
    }

    private static JsonNode bytesField(byte[] b, int from, int to, int depth) {
        String text = text(b, from, to);
        if (text != null) {
            return NODES.textNode(text);
        }
        if (depth < MAX_DEPTH && to > from) {
            ObjectNode nested = message(b, from, to, depth + 1);
            if (nested != null) {
                return nested;
            }
        }
        return NODES.textNode("base64:" + Base64.getEncoder().encodeToString(java.util.Arrays.copyOfRange(b, from, to)));
    }

    /** The bytes as text when they are valid UTF-8 without control characters, else null. */
    private static String text(byte[] b, int from, int to) {
        for (int i = from; i < to; i++) {
            int c = b[i] & 0xFF;
            if (c < 0x20 && c != '\n' && c != '\r' && c != '\t') {
                return null;
            }
        }
        try {
            return StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b, from, to - from)).toString();
        } catch (CharacterCodingException e) {
            return null;
        }
    }

    /** A varint at {@code at[0]}, which moves past it; {@code at[0]} becomes -1 when the bytes end inside one. */
    private static long varint(byte[] b, int[] at, int to) {
        long v = 0;
        for (int shift = 0; shift < 64; shift += 7) {
            if (at[0] >= to) {
                at[0] = -1;
                return -1;
            }
            byte c = b[at[0]++];
            v |= (long) (c & 0x7F) << shift;
            if (c >= 0) {
                return v;
            }
        }
        at[0] = -1;
        return -1;
    }
}
