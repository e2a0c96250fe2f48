package dev.trafficbus.redact;

import java.nio.charset.StandardCharsets;
import java.util.List;

/**
 * The header names of a rule set as lookup tables for a byte-at-a-time match: which names (a bit each) have a
 * given byte at a given position, case-insensitively, and which names have a given length. Lets the header
 * scan follow every name at once with one AND per byte and keep its progress in a few bits between packets.
 */
final class HeaderTable {
    private final int maxLength;
    // names[pos * 256 + byte]: bit r set when name r has that byte (either case) at pos.
    private final int[] names;
    // lengths[n]: bit r set when name r is n bytes long.
    private final int[] lengths;

    HeaderTable(List<String> lowerCaseNames) {
        int longest = 0;
        for (String n : lowerCaseNames) {
            longest = Math.max(longest, n.length());
        }
        this.maxLength = longest;
        this.names = new int[Math.max(1, longest) * 256];
        this.lengths = new int[longest + 1];
        for (int r = 0; r < lowerCaseNames.size(); r++) {
            byte[] name = lowerCaseNames.get(r).getBytes(StandardCharsets.US_ASCII);
            for (int pos = 0; pos < name.length; pos++) {
                int b = name[pos] & 0xFF;
                names[pos * 256 + b] |= 1 << r;
                if (b >= 'a' && b <= 'z') {
                    names[pos * 256 + b - 32] |= 1 << r;
                }
            }
            lengths[name.length] |= 1 << r;
        }
    }

    /** True when there are no names. */
    boolean isEmpty() {
        return maxLength == 0;
    }

    /** The names still possible after {@code candidates} matched {@code pos} bytes and byte {@code b} follows. */
    int next(int candidates, int pos, int b) {
        return pos < maxLength ? candidates & names[pos * 256 + b] : 0;
    }

    /** The names among {@code candidates} that are exactly {@code length} bytes long. */
    int complete(int candidates, int length) {
        return length <= maxLength ? candidates & lengths[length] : 0;
    }
}
