package dev.trafficbus.redact;

/**
 * A byte range seen as text, one char per byte (Latin-1), re-pointed for each payload so that patterns match
 * raw bytes without a String per packet.
 */
final class Latin1Text implements CharSequence {
    private byte[] bytes = new byte[0];
    private int offset;
    private int length;

    Latin1Text wrap(byte[] a, int off, int len) {
        this.bytes = a;
        this.offset = off;
        this.length = len;
        return this;
    }

    @Override
    public int length() {
        return length;
    }

    @Override
    public char charAt(int index) {
        return (char) (bytes[offset + index] & 0xFF);
    }

    @Override
    public CharSequence subSequence(int start, int end) {
        return toString().substring(start, end);
    }

    @Override
    public String toString() {
        return new String(bytes, offset, length, java.nio.charset.StandardCharsets.ISO_8859_1);
    }
}
