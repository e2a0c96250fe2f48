package dev.trafficbus.intercept.frame;

/**
 * The intercept channel's frame contract, shared by intercept (server) and the replayer's tcp engine (client).
 *
 * <p>Every frame on the TCP (optionally TLS) stream is {@code u32 length} (big-endian, counting the bytes after it)
 * then {@code u8 type} then the body. Multi-byte integers are big-endian. Addresses are {@code u8 family}
 * (4 or 6) then 4 or 16 bytes.
 * <ul>
 *   <li>{@link #HELLO} client→intercept, first frame: {@code u16 version}, {@code u16 tokenLength}, token bytes,
 *       {@code u16 nameLength}, replayer instance name (UTF-8, for logs).</li>
 *   <li>{@link #WELCOME} intercept→client: {@code u16 version}, {@code u8 withPayload} (1 when packets carry
 *       the TCP payload too).</li>
 *   <li>{@link #REFUSED} intercept→client, then close: UTF-8 reason.</li>
 *   <li>{@link #REGISTER} / {@link #UNREGISTER} client→intercept: a route, {@code address}, {@code u8 prefixLength},
 *       {@code u16 firstPort}, {@code u16 lastPort}: responses whose destination IP is in the prefix and whose
 *       destination port is in the range go to this client.</li>
 *   <li>{@link #REGISTERED} intercept→client: the route of a REGISTER it accepted, in the same form. A client
 *       knows its route is in place when it comes (a conflicting route gets REFUSED instead); intercepts before
 *       this frame sent nothing, so a client that gets neither within a short grace goes on.</li>
 *   <li>{@link #PACKETS} intercept→client: {@code u16 count}, then per packet {@code u16 length} and the bytes
 *       from the IP header on (IP + TCP headers, plus payload when WELCOME said so).</li>
 *   <li>{@link #PING} either way, empty body: keep-alive; the peer answers nothing.</li>
 * </ul>
 * {@link FrameWriter} and {@link FrameReader} encode and decode these frames over {@link java.nio.ByteBuffer}.
 */
public final class InterceptFrames {
    /** Protocol version carried in HELLO and WELCOME. */
    public static final int VERSION = 1;
    /** Largest length prefix accepted (type byte + body); a bigger or zero length is a protocol error and closes the channel. */
    public static final int MAX_FRAME = 1 << 20;
    /** Default TCP port intercept listens on. */
    public static final int DEFAULT_PORT = 36524;

    public static final byte HELLO = 1;
    public static final byte WELCOME = 2;
    public static final byte REFUSED = 3;
    public static final byte REGISTER = 4;
    public static final byte UNREGISTER = 5;
    public static final byte PACKETS = 6;
    public static final byte PING = 7;
    public static final byte REGISTERED = 8;

    private InterceptFrames() {
    }
}
