package dev.trafficbus.replay.http;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.trafficbus.cli.KafkaAdmin;
import dev.trafficbus.cli.TopicSpec;
import dev.trafficbus.cli.UserInputException;
import org.apache.kafka.clients.producer.KafkaProducer;
import org.apache.kafka.clients.producer.ProducerConfig;
import org.apache.kafka.clients.producer.ProducerRecord;
import org.apache.kafka.common.KafkaException;
import org.apache.kafka.common.config.TopicConfig;
import org.apache.kafka.common.serialization.ByteArraySerializer;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.concurrent.atomic.LongAdder;

/**
 * Publishes each replayed request with the target's and the production server's responses to the run's
 * responses topic ({@code tb.responses.<run>}, 6 partitions unless --partitions, key = session id), one JSON value per request.
 * Publish failures are counted, never thrown.
 */
public final class ResponsePublisher implements AutoCloseable {
    /** Partitions of a responses topic the replayer creates. */
    public static final int PARTITIONS = 6;
    /** Largest record: two capped bodies in base64 and the headers fit. */
    private static final int MAX_RECORD_BYTES = 8 << 20;

    private final String run;
    private final String topic;
    private final KafkaProducer<byte[], byte[]> producer;
    private final ObjectMapper json = new ObjectMapper();
    /** Records acknowledged by the broker. */
    public final LongAdder published = new LongAdder();
    /** Records the broker refused or that could not be sent. */
    public final LongAdder failed = new LongAdder();

    /**
     * Creates {@code topic} with {@code admin} if missing, and a producer from {@code clientConfig} (bootstrap.servers
     * and any security settings).
     */
    public ResponsePublisher(KafkaAdmin admin, Properties clientConfig, String topic, String run) {
        this.run = run;
        this.topic = topic;
        createTopic(admin, topic, TopicSpec.of(topic, 0));
        Properties p = new Properties();
        p.putAll(clientConfig);
        p.put(ProducerConfig.KEY_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.put(ProducerConfig.VALUE_SERIALIZER_CLASS_CONFIG, ByteArraySerializer.class.getName());
        p.putIfAbsent(ProducerConfig.CLIENT_ID_CONFIG, "trafficbus-replay-responses");
        p.putIfAbsent(ProducerConfig.COMPRESSION_TYPE_CONFIG, "lz4");
        p.putIfAbsent(ProducerConfig.LINGER_MS_CONFIG, "20");
        p.putIfAbsent(ProducerConfig.MAX_REQUEST_SIZE_CONFIG, Integer.toString(MAX_RECORD_BYTES));
        // Sessions publish from the replay's event loops: a broker that is away must not stall them for long.
        p.putIfAbsent(ProducerConfig.MAX_BLOCK_MS_CONFIG, "5000");
        try {
            producer = new KafkaProducer<>(p);
        } catch (KafkaException e) {
            throw new UserInputException("cannot create the responses producer: " + e.getMessage(), e);
        }
    }

    /** The topic written to. */
    public String topic() {
        return topic;
    }

    /**
     * Creates the responses topic unless it exists: {@code settings} gives partitions and replication (name and
     * max.message.bytes are the publisher's); an existing topic with other settings is used as it is, said once.
     */
    public static void createTopic(KafkaAdmin admin, String topic, TopicSpec settings) {
        TopicSpec spec = settings.named(topic).with(TopicConfig.MAX_MESSAGE_BYTES_CONFIG, Integer.toString(MAX_RECORD_BYTES));
        String kept = admin.ensure(spec, PARTITIONS).keptLine(settings.named(topic));
        if (kept != null) {
            System.err.println("trafficbus replay: " + kept);
        }
    }

    /**
     * Publishes the requests of one session. {@code error} explains a missing replayed response
     * (e.g. "response-timeout", "connect-refused"); null when every request was answered.
     */
    public void publish(String source, String sessionId, int copy, HttpExchanges x, String error) {
        List<HttpExchanges.Request> requests = x.requests();
        byte[] key = sessionId.getBytes(StandardCharsets.UTF_8);
        for (int i = 0; i < requests.size(); i++) {
            HttpExchanges.Request r = requests.get(i);
            if (r.sentNanos() < 0) {
                continue; // never sent (the session ended first): nothing to compare
            }
            HttpResponse replayed = i < x.replayed().size() ? x.replayed().get(i) : null;
            HttpResponse production = i < x.production().size() ? x.production().get(i) : null;
            Map<String, Object> doc = new LinkedHashMap<>();
            doc.put("run", run);
            doc.put("source", source);
            doc.put("session", sessionId);
            doc.put("copy", copy);
            doc.put("index", i);
            doc.put("capturedAtMicros", r.capturedAtMicros);
            doc.put("endpoint", r.method + " " + path(r.url));
            Map<String, Object> req = new LinkedHashMap<>();
            req.put("method", r.method);
            req.put("url", r.url);
            req.put("headers", pairs(r.headers));
            req.put("bodyBase64", Base64.getEncoder().encodeToString(r.body()));
            if (r.bodyTruncated()) {
                req.put("bodyTruncated", true);
            }
            doc.put("request", req);
            Map<String, Object> rep = null;
            if (replayed != null) {
                rep = response(replayed);
                rep.put("latencyMicros", Math.max(0, (replayed.completeNanos() - r.sentNanos()) / 1000));
            }
            doc.put("replayed", rep);
            doc.put("production", production == null ? null : response(production));
            doc.put("error", replayed != null ? null : (error != null ? error : "no-response"));
            send(key, doc);
        }
    }

    private void send(byte[] key, Map<String, Object> doc) {
        try {
            byte[] value = json.writeValueAsBytes(doc);
            producer.send(new ProducerRecord<>(topic, key, value), (md, e) -> {
                if (e == null) {
                    published.increment();
                } else {
                    failed.increment();
                }
            });
        } catch (Exception e) {
            failed.increment(); // a closed producer, an oversized record: counted, the replay goes on
        }
    }

    private static Map<String, Object> response(HttpResponse r) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("status", r.status());
        m.put("headers", pairs(r.headers()));
        m.put("bodyBase64", Base64.getEncoder().encodeToString(r.body()));
        if (r.bodyTruncated()) {
            m.put("bodyTruncated", true);
        }
        return m;
    }

    private static List<List<String>> pairs(List<String[]> headers) {
        List<List<String>> out = new ArrayList<>(headers.size());
        for (String[] h : headers) {
            out.add(List.of(h[0], h[1]));
        }
        return out;
    }

    /** Method + path without the query: the group key of {@code diff}. */
    static String path(String url) {
        int q = url.indexOf('?');
        String p = q >= 0 ? url.substring(0, q) : url;
        int scheme = p.indexOf("://");
        if (scheme > 0) {
            int slash = p.indexOf('/', scheme + 3);
            p = slash >= 0 ? p.substring(slash) : "/";
        }
        return p;
    }

    /** Sends what is buffered and closes (bounded wait). */
    @Override
    public void close() {
        producer.flush();
        producer.close(Duration.ofSeconds(10));
    }
}
