package dev.trafficbus.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import dev.trafficbus.cli.UserInputException;
import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;

import java.io.IOException;
import java.io.OutputStream;
import java.net.BindException;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.concurrent.Executors;
import java.util.function.BooleanSupplier;
import java.util.function.ToDoubleFunction;

/**
 * The one metrics scheme of every long-running component: Prometheus text on {@code /metrics}, liveness on
 * {@code /health}, and meter names {@code trafficbus_<component>_<what>_total} with the labels {@code source},
 * {@code subscription}, {@code reason}.
 */
public final class MetricsEndpoint implements AutoCloseable {
    private final String component;
    private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    private volatile BooleanSupplier healthy = () -> true;
    private volatile String healthDetail = "";
    private HttpServer server;

    /** A registry for {@code component} (forward, process, replay, intercept, standalone) with no HTTP server yet. */
    public MetricsEndpoint(String component) {
        this.component = component;
    }

    /**
     * Serves {@code /metrics} and {@code /health} on {@code port} (all interfaces); port 0 picks a free one.
     * A port in use is a user error naming the option to change.
     */
    public MetricsEndpoint serve(String host, int port, String optionName) {
        try {
            server = HttpServer.create(new InetSocketAddress(host, port), 16);
        } catch (BindException e) {
            throw new UserInputException(optionName + " " + port + ": the port is in use; pick another one", e);
        } catch (IOException e) {
            throw new UserInputException(optionName + " " + port + ": cannot listen: " + e.getMessage(), e);
        }
        server.createContext("/metrics", ex -> reply(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
                registry.scrape()));
        server.createContext("/health", ex -> {
            boolean up = healthy.getAsBoolean();
            String body = "{\"status\":\"" + (up ? "UP" : "DOWN") + "\",\"component\":\"" + component + "\""
                    + (healthDetail.isEmpty() ? "" : ",\"detail\":\"" + healthDetail.replace("\"", "'") + "\"") + "}\n";
            reply(ex, up ? 200 : 503, "application/json", body);
        });
        server.setExecutor(Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "trafficbus-metrics");
            t.setDaemon(true);
            return t;
        }));
        server.start();
        return this;
    }

    /** Same as {@link #serve(String, int, String)} on all interfaces with the usual option name. */
    public MetricsEndpoint serve(int port) {
        return serve("0.0.0.0", port, "--metrics-port");
    }

    /** The port actually bound (useful with port 0), or -1 when not serving. */
    public int port() {
        return server == null ? -1 : server.getAddress().getPort();
    }

    /** What {@code /health} reports: UP (200) while {@code check} is true, else DOWN (503) with {@code detail}. */
    public void health(BooleanSupplier check, String detail) {
        this.healthy = check;
        this.healthDetail = detail == null ? "" : detail;
    }

    /** A counter exported as {@code trafficbus_<component>_<what>_total}; tags are label name/value pairs. */
    public Counter counter(String what, String... tags) {
        return Counter.builder(name(what)).tags(tags).register(registry);
    }

    /** A gauge exported as {@code trafficbus_<component>_<what>} reading {@code fn} of {@code obj} at scrape time. */
    public <T> void gauge(String what, T obj, ToDoubleFunction<T> fn, String... tags) {
        Gauge.builder(name(what), obj, fn).tags(tags).strongReference(true).register(registry);
    }

    /**
     * A monotonically growing value the component already counts itself (an AtomicLong, a LongAdder),
     * exported as a counter {@code trafficbus_<component>_<what>_total}.
     */
    public <T> void functionCounter(String what, T obj, ToDoubleFunction<T> fn, String... tags) {
        io.micrometer.core.instrument.FunctionCounter.builder(name(what), obj, fn).tags(tags).register(registry);
    }

    /** A timer exported as {@code trafficbus_<component>_<what>_seconds}. */
    public Timer timer(String what, String... tags) {
        return Timer.builder(name(what)).tags(tags).register(registry);
    }

    /** The underlying registry, for binders (JVM, Kafka client metrics). */
    public MeterRegistry registry() {
        return registry;
    }

    /** The Prometheus text the endpoint would serve now. */
    public String scrape() {
        return registry.scrape();
    }

    private String name(String what) {
        return "trafficbus." + component + "." + what;
    }

    private static void reply(HttpExchange ex, int status, String type, String body) throws IOException {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().set("Content-Type", type);
        ex.sendResponseHeaders(status, bytes.length);
        try (OutputStream out = ex.getResponseBody()) {
            out.write(bytes);
        }
    }

    @Override
    public void close() {
        if (server != null) {
            server.stop(0);
            server = null;
        }
        registry.close();
    }
}
