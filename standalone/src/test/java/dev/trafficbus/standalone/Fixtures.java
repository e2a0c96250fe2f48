package dev.trafficbus.standalone;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/** The shared real-traffic fixtures in testdata/ (made by testdata/make-captures.sh) and their expectations. */
final class Fixtures {
    /** One request curl sent while the capture ran. */
    record SentRequest(int clientPort, String method, String path, long bodyLength, String bodySha256) {
    }

    private Fixtures() {
    }

    static Path testdata() {
        Path here = Path.of("").toAbsolutePath();
        for (Path p = here; p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve("testdata/make-captures.sh"))) {
                return p.resolve("testdata");
            }
        }
        throw new IllegalStateException("testdata/ not found above " + here);
    }

    static Path file(String name) {
        return testdata().resolve(name);
    }

    /** The .expected file of a capture: the requests curl sent, in order. */
    static List<SentRequest> sentRequests(String pcapBaseName) throws IOException {
        List<SentRequest> out = new ArrayList<>();
        for (String line : Files.readAllLines(file(pcapBaseName + ".expected"))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.trim().split(" ");
            out.add(new SentRequest(Integer.parseInt(f[0]), f[1], f[2], Long.parseLong(f[3]), f[4]));
        }
        return out;
    }

    /** Requests grouped by captured connection (client port), each in the order sent; sessions in capture order. */
    static Map<Integer, List<SentRequest>> bySession(List<SentRequest> requests) {
        Map<Integer, List<SentRequest>> sessions = new LinkedHashMap<>();
        for (SentRequest r : requests) {
            sessions.computeIfAbsent(r.clientPort(), k -> new ArrayList<>()).add(r);
        }
        return sessions;
    }

    /** "name count" lines of mixed-frames.expected. */
    static Map<String, Long> counts(String expectedFile) throws IOException {
        Map<String, Long> counts = new LinkedHashMap<>();
        for (String line : Files.readAllLines(file(expectedFile))) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.trim().split(" ");
            counts.put(f[0], Long.parseLong(f[1]));
        }
        return counts;
    }
}
