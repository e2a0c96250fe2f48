package dev.trafficbus.cli;

import org.apache.kafka.clients.consumer.ConsumerConfig;
import org.apache.kafka.clients.consumer.KafkaConsumer;
import org.apache.kafka.common.serialization.ByteArrayDeserializer;
import org.junit.jupiter.api.Test;

import javax.management.ObjectName;
import java.lang.management.ManagementFactory;
import java.util.Properties;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

class KafkaClientOptionsTest {
    @Test
    void clientsRegisterNoJmxMetricsUnlessAskedTo() throws Exception {
        Properties quiet = new KafkaClientOptions().bootstrapServers("127.0.0.1:9").toProperties();
        assertThat(quiet).containsEntry("metric.reporters", "");
        assertThat(mbeansOf(quiet, "tb-quiet")).isEmpty();

        Properties asked = new KafkaClientOptions().bootstrapServers("127.0.0.1:9")
                .property("metric.reporters=org.apache.kafka.common.metrics.JmxReporter").toProperties();
        assertThat(mbeansOf(asked, "tb-asked")).isNotEmpty();
    }

    /** The consumer MBeans a consumer made from {@code p} registers (it never connects: no poll). */
    private static Set<ObjectName> mbeansOf(Properties p, String clientId) throws Exception {
        Properties c = new Properties();
        c.putAll(p);
        c.put(ConsumerConfig.CLIENT_ID_CONFIG, clientId);
        c.put(ConsumerConfig.KEY_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        c.put(ConsumerConfig.VALUE_DESERIALIZER_CLASS_CONFIG, ByteArrayDeserializer.class.getName());
        try (KafkaConsumer<byte[], byte[]> consumer = new KafkaConsumer<>(c)) {
            return ManagementFactory.getPlatformMBeanServer()
                    .queryNames(new ObjectName("kafka.consumer:client-id=" + clientId + ",*"), null);
        }
    }
}
