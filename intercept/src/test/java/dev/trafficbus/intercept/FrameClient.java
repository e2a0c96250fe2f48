package dev.trafficbus.intercept;

import dev.trafficbus.intercept.frame.FrameReader;
import dev.trafficbus.intercept.frame.FrameWriter;
import dev.trafficbus.intercept.frame.InterceptFrames;
import dev.trafficbus.intercept.frame.Route;

import java.io.DataInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.OutputStream;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;

/** A minimal replayer side of the intercept channel over a plain or TLS socket, speaking the frame contract. */
final class FrameClient implements AutoCloseable {
    private final Socket socket;
    private final DataInputStream in;
    private final OutputStream out;

    FrameClient(Socket connected) throws IOException {
        this.socket = connected;
        this.in = new DataInputStream(connected.getInputStream());
        this.out = connected.getOutputStream();
    }

    void hello(String token, String name) throws IOException {
        byte[] t = token.getBytes(StandardCharsets.UTF_8);
        ByteBuffer b = ByteBuffer.allocate(FrameWriter.helloSize(t, name));
        FrameWriter.hello(b, t, name);
        send(b);
    }

    void register(Route route) throws IOException {
        ByteBuffer b = ByteBuffer.allocate(FrameWriter.routeSize(route));
        FrameWriter.register(b, route);
        send(b);
    }

    /** REGISTERs {@code route} and waits for intercept's REGISTERED of it: the route is in place when this returns. */
    void registerAndAwait(Route route) throws IOException {
        register(route);
        ByteBuffer answer = next(3000);
        if (answer == null || FrameReader.type(answer) != InterceptFrames.REGISTERED) {
            throw new AssertionError("REGISTER of " + route + " answered by "
                    + (answer == null ? "a close" : describe(answer)) + ", not REGISTERED");
        }
        Route echoed = FrameReader.readRoute(answer);
        if (!echoed.equals(route)) {
            throw new AssertionError("REGISTERED " + echoed + " for a REGISTER of " + route);
        }
    }

    void sendRaw(byte[] bytes) throws IOException {
        out.write(bytes);
        out.flush();
    }

    private void send(ByteBuffer b) throws IOException {
        out.write(b.array(), 0, b.position());
        out.flush();
    }

    /** The next whole frame (length prefix included), or null at end of stream; waits up to {@code millis}. */
    ByteBuffer next(int millis) throws IOException {
        socket.setSoTimeout(millis);
        int length;
        try {
            length = in.readInt();
        } catch (EOFException e) {
            return null;
        }
        byte[] frame = new byte[4 + length];
        ByteBuffer.wrap(frame).putInt(length);
        in.readFully(frame, 4, length);
        return ByteBuffer.wrap(frame);
    }

    /** True when the peer closed the connection within {@code millis} (nothing more to read). */
    boolean closedWithin(int millis) throws IOException {
        socket.setSoTimeout(millis);
        try {
            return in.read() < 0;
        } catch (SocketTimeoutException e) {
            return false;
        } catch (IOException e) {
            return true; // reset
        }
    }

    static String describe(ByteBuffer frame) {
        return "frame type " + FrameReader.type(frame) + " of " + frame.remaining() + " bytes";
    }

    @Override
    public void close() throws IOException {
        socket.close();
    }
}
