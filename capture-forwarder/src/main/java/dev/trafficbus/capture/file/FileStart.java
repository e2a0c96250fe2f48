package dev.trafficbus.capture.file;

/** Says what the first bytes of a file that is not a capture look like, so its owner recognises it. */
final class FileStart {
    private FileStart() {
    }

    /** E.g. {@code it starts with 50 4b 03 04 14 00 00 00 ("PK......"), like a zip archive}. */
    static String describe(byte[] b, int p, int n) {
        StringBuilder hex = new StringBuilder();
        StringBuilder text = new StringBuilder();
        boolean printable = true;
        for (int i = 0; i < n; i++) {
            int v = b[p + i] & 0xFF;
            hex.append(i == 0 ? "" : " ").append(String.format("%02x", v));
            boolean shown = v >= 0x20 && v < 0x7F;
            printable &= shown || v == '\n' || v == '\r' || v == '\t';
            text.append(shown ? (char) v : '.');
        }
        String kind = kind(b, p, n, printable);
        return "it starts with " + hex + " (\"" + text + "\")" + (kind.isEmpty() ? "" : ", like " + kind);
    }

    private static String kind(byte[] b, int p, int n, boolean printable) {
        if (starts(b, p, n, 0x50, 0x4B, 0x03, 0x04)) {
            return "a zip archive (unzip it first)";
        }
        if (starts(b, p, n, 0x28, 0xB5, 0x2F, 0xFD)) {
            return "zstd-compressed data (decompress it first: zstd -d, or compress with gzip, which is read as it is)";
        }
        if (starts(b, p, n, 0xFD, 0x37, 0x7A, 0x58)) {
            return "xz-compressed data (decompress it first: xz -d, or compress with gzip, which is read as it is)";
        }
        if (starts(b, p, n, 0x42, 0x5A, 0x68)) {
            return "bzip2-compressed data (decompress it first: bunzip2, or compress with gzip, which is read as it is)";
        }
        if (starts(b, p, n, 0x7F, 0x45, 0x4C, 0x46)) {
            return "an executable (ELF)";
        }
        return printable ? "text" : "";
    }

    private static boolean starts(byte[] b, int p, int n, int... prefix) {
        if (n < prefix.length) {
            return false;
        }
        for (int i = 0; i < prefix.length; i++) {
            if ((b[p + i] & 0xFF) != prefix[i]) {
                return false;
            }
        }
        return true;
    }
}
