package dev.trafficbus.metrics;

import dev.trafficbus.cli.UserInputException;
import org.junit.jupiter.api.Test;

import java.net.ServerSocket;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class MetricsEndpointTest {
    private static final HttpClient HTTP = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(5)).build();

    private static HttpResponse<String> get(MetricsEndpoint endpoint, String path) throws Exception {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + endpoint.port() + path))
                .timeout(Duration.ofSeconds(5)).build();
        return HTTP.send(request, HttpResponse.BodyHandlers.ofString());
    }

    @Test
    void metricsFollowTheNamingSchemeWithItsLabels() throws Exception {
        try (MetricsEndpoint metrics = new MetricsEndpoint("forward").serve("127.0.0.1", 0, "--metrics-port")) {
            metrics.counter("packets_captured", "source", "web1").increment(3);
            metrics.counter("packets_dropped", "reason", "pending-full").increment();
            AtomicLong published = new AtomicLong(42);
            metrics.functionCounter("records_published", published, AtomicLong::get, "source", "web1");
            metrics.gauge("pending_records", published, p -> 7, "source", "web1");

            HttpResponse<String> response = get(metrics, "/metrics");
            assertThat(response.statusCode()).isEqualTo(200);
            assertThat(response.headers().firstValue("Content-Type")).hasValueSatisfying(t -> assertThat(t).startsWith("text/plain"));
            String body = response.body();
            assertThat(body).contains("trafficbus_forward_packets_captured_total{source=\"web1\"} 3.0")
                    .contains("trafficbus_forward_packets_dropped_total{reason=\"pending-full\"} 1.0")
                    .contains("trafficbus_forward_records_published_total{source=\"web1\"} 42.0")
                    .contains("trafficbus_forward_pending_records{source=\"web1\"} 7.0")
                    .contains("# TYPE trafficbus_forward_packets_captured_total counter");
            published.addAndGet(8);
            assertThat(get(metrics, "/metrics").body()).contains("trafficbus_forward_records_published_total{source=\"web1\"} 50.0");
            assertThat(metrics.scrape()).contains("trafficbus_forward_packets_captured_total");
        }
    }

    @Test
    void everyComponentNameGoesIntoTheMetricName() throws Exception {
        for (String component : new String[] {"forward", "process", "replay", "intercept", "standalone"}) {
            try (MetricsEndpoint metrics = new MetricsEndpoint(component)) {
                metrics.counter("sessions", "subscription", "team-a").increment();
                assertThat(metrics.scrape()).contains("trafficbus_" + component + "_sessions_total{subscription=\"team-a\"} 1.0");
            }
        }
    }

    @Test
    void healthIs200WhileUpAnd503WithTheDetailWhenDown() throws Exception {
        AtomicBoolean connected = new AtomicBoolean(true);
        try (MetricsEndpoint metrics = new MetricsEndpoint("replay").serve("127.0.0.1", 0, "--metrics-port")) {
            HttpResponse<String> ok = get(metrics, "/health");
            assertThat(ok.statusCode()).isEqualTo(200);
            assertThat(ok.body()).contains("\"status\":\"UP\"").contains("\"component\":\"replay\"");

            metrics.health(connected::get, "no broker connection");
            assertThat(get(metrics, "/health").statusCode()).isEqualTo(200);
            connected.set(false);
            HttpResponse<String> down = get(metrics, "/health");
            assertThat(down.statusCode()).isEqualTo(503);
            assertThat(down.body()).contains("\"status\":\"DOWN\"").contains("no broker connection");
        }
    }

    @Test
    void aPortInUseIsAUserErrorNamingTheOption() throws Exception {
        try (ServerSocket taken = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress());
             MetricsEndpoint metrics = new MetricsEndpoint("intercept")) {
            assertThatThrownBy(() -> metrics.serve("127.0.0.1", taken.getLocalPort(), "--metrics-port"))
                    .isInstanceOf(UserInputException.class)
                    .hasMessageContaining("--metrics-port " + taken.getLocalPort()).hasMessageContaining("in use");
        }
    }

    @Test
    void closeStopsServing() throws Exception {
        MetricsEndpoint metrics = new MetricsEndpoint("process").serve("127.0.0.1", 0, "--metrics-port");
        int port = metrics.port();
        assertThat(get(metrics, "/metrics").statusCode()).isEqualTo(200);
        metrics.close();
        assertThat(metrics.port()).isEqualTo(-1);
        try (ServerSocket again = new ServerSocket()) {
            again.bind(new java.net.InetSocketAddress("127.0.0.1", port));
            assertThat(again.getLocalPort()).isEqualTo(port);
        }
    }
}
