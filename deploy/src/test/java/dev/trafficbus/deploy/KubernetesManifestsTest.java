package dev.trafficbus.deploy;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.dataformat.yaml.YAMLFactory;
import dev.trafficbus.subscription.Subscription;
import dev.trafficbus.subscription.SubscriptionParser;
import io.fabric8.kubernetes.api.model.Capabilities;
import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.ContainerPort;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Probe;
import io.fabric8.kubernetes.api.model.SecurityContext;
import io.fabric8.kubernetes.api.model.Service;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * deploy/kubernetes/ as a cluster would take it (fabric8's typed model), and what an operator relies on: capture
 * pods on the host network with only NET_RAW/NET_ADMIN, the others non-root with no capability, probes on /health
 * at the metrics port each component's config sets, configs mounted from the ConfigMaps that hold them and accepted
 * by the commands, one image, resource limits everywhere.
 */
class KubernetesManifestsTest {
    /** The component (the launcher's command) each workload runs. */
    private static final Map<String, String> COMMANDS = Map.of("trafficbus-forwarder", "forward",
            "trafficbus-processor", "process", "trafficbus-intercept", "intercept", "trafficbus-replay", "replay");
    private static final String NODE = "web-node-1";

    private static Manifests manifests;

    @TempDir
    Path tmp;

    @BeforeAll
    static void load() throws IOException {
        manifests = Manifests.load();
    }

    @Test
    void everyManifestIsInTheKustomizationAndTheNamespace() throws IOException {
        JsonNode k = new ObjectMapper(new YAMLFactory()).readTree(Manifests.dir().resolve("kustomization.yaml").toFile());
        List<String> resources = new ArrayList<>();
        k.path("resources").forEach(r -> resources.add(r.asText()));
        assertThat(resources).containsExactlyInAnyOrderElementsOf(
                manifests.files.stream().map(f -> f.getFileName().toString()).toList());
        assertThat(k.path("namespace").asText()).isEqualTo("trafficbus");
        for (HasMetadata o : manifests.objects) {
            if (!o.getKind().equals("Namespace")) {
                assertThat(o.getMetadata().getNamespace()).as(o.getKind() + " " + o.getMetadata().getName())
                        .isEqualTo("trafficbus");
            }
        }
        assertThat(manifests.workloads()).containsOnlyKeys(COMMANDS.keySet());
        assertThat(manifests.all(DaemonSet.class)).extracting(d -> d.getMetadata().getName())
                .containsExactly("trafficbus-forwarder");
        assertThat(manifests.all(Job.class)).extracting(d -> d.getMetadata().getName())
                .containsExactly("trafficbus-replay");
        assertThat(manifests.all(Deployment.class)).extracting(d -> d.getMetadata().getName())
                .containsExactlyInAnyOrder("trafficbus-processor", "trafficbus-intercept");
    }

    @Test
    void kustomizeBuildsTheSameObjects() throws Exception {
        Tool kubectl = Tool.require("kubectl", "Debian package kubernetes-client",
                "kubectl kustomize deploy/kubernetes");
        Tool.Result r = kubectl.run("kustomize", "deploy/kubernetes");
        assertThat(r.exit()).as(r.output()).isZero();
        Object read = new KubernetesSerialization().unmarshal(r.output());
        List<?> built = read instanceof List<?> l ? l : List.of(read);
        assertThat(built).extracting(o -> ((HasMetadata) o).getKind() + " " + ((HasMetadata) o).getMetadata().getName())
                .containsExactlyInAnyOrderElementsOf(manifests.objects.stream()
                        .map(o -> o.getKind() + " " + o.getMetadata().getName()).toList());
    }

    @Test
    void everyFieldIsOneKubernetesKnows() {
        assertThat(manifests.unknownFields()).isEmpty();
    }

    @Test
    void everyWorkloadRunsTheImageWithLimitsItsConfigAndHealthProbes() throws IOException {
        String image = "trafficbus:" + System.getProperty("trafficbus.version").replace("-SNAPSHOT", "");
        for (Map.Entry<String, PodSpec> w : manifests.workloads().entrySet()) {
            String name = w.getKey();
            PodSpec pod = w.getValue();
            Container c = Manifests.only(pod);
            assertThat(c.getImage()).as(name).isEqualTo(image);
            assertThat(c.getArgs().get(0)).as(name + " runs its command").isEqualTo(COMMANDS.get(name));
            assertThat(c.getResources().getLimits()).as(name + " limits").containsKeys("cpu", "memory");
            assertThat(c.getResources().getRequests()).as(name + " requests").containsKeys("cpu", "memory");

            // the config file is the ConfigMap's key mounted at /etc/trafficbus, and the command accepts it
            String configPath = Manifests.configArg(c);
            assertThat(configPath).as(name).startsWith("/etc/trafficbus/");
            String printed = printConfig(name, pod, c);

            // /health on the metrics port that very config sets
            String metricsPort = PrintConfig.value(printed, "--metrics-port");
            ContainerPort port = c.getPorts().stream().filter(p -> "metrics".equals(p.getName())).findFirst()
                    .orElseThrow(() -> new AssertionError(name + " has no port named metrics"));
            assertThat(String.valueOf(port.getContainerPort())).as(name + " metrics port").isEqualTo(metricsPort);
            List<Probe> probes = new ArrayList<>(List.of(c.getLivenessProbe())); // a Job has no readiness to serve
            if (manifests.all(Job.class).stream().noneMatch(j -> j.getMetadata().getName().equals(name))) {
                assertThat(c.getReadinessProbe()).as(name + " readiness").isNotNull();
                probes.add(c.getReadinessProbe());
            }
            for (Probe p : probes) {
                assertThat(p.getHttpGet().getPath()).as(name).isEqualTo("/health");
                assertThat(p.getHttpGet().getPort().getStrVal()).as(name).isEqualTo("metrics");
            }

            SecurityContext sc = c.getSecurityContext();
            assertThat(sc.getAllowPrivilegeEscalation()).as(name).isFalse();
            assertThat(sc.getCapabilities().getDrop()).as(name).containsExactly("ALL");
            assertThat(sc.getReadOnlyRootFilesystem()).as(name).isTrue();
            // the JVM and JNA write to /tmp: a writable volume on the read-only root
            Volume t = Manifests.volumeHolding(pod, c, "/tmp/x").orElseThrow(() -> new AssertionError(name + " /tmp"));
            assertThat(t.getEmptyDir()).as(name + " /tmp").isNotNull();
        }
    }

    @Test
    void theForwarderCapturesTheNodesInterfaceWithOnlyTheCaptureCapabilities() throws IOException {
        PodSpec pod = manifests.one(DaemonSet.class, "trafficbus-forwarder").getSpec().getTemplate().getSpec();
        assertThat(pod.getHostNetwork()).isTrue();
        assertThat(pod.getDnsPolicy()).as("Kafka's service name resolves on the host network")
                .isEqualTo("ClusterFirstWithHostNet");
        Container c = Manifests.only(pod);
        assertCaptureOnly(c);

        String printed = printConfig("trafficbus-forwarder", pod, c);
        assertThat(PrintConfig.value(printed, "--interface")).isEqualTo("eth0");
        assertThat(PrintConfig.line(printed, "--interface")).contains("file ");
        assertThat(PrintConfig.value(printed, "--port")).isEqualTo("8080");
        // each node its own source: tb.capture.<node name>
        assertThat(PrintConfig.line(printed, "--source")).contains(NODE).contains("env TRAFFICBUS_SOURCE");
        assertThat(c.getEnv()).anyMatch(e -> e.getName().equals("TRAFFICBUS_SOURCE")
                && e.getValueFrom().getFieldRef().getFieldPath().equals("spec.nodeName"));
        assertThat(PrintConfig.line(printed, "--bootstrap-servers")).contains("env TRAFFICBUS_BOOTSTRAP_SERVERS");
    }

    @Test
    void interceptSitsOnTheHostNetworkAndTheServiceReachesItsChannel() throws IOException {
        Deployment d = manifests.one(Deployment.class, "trafficbus-intercept");
        PodSpec pod = d.getSpec().getTemplate().getSpec();
        assertThat(pod.getHostNetwork()).isTrue();
        assertThat(pod.getDnsPolicy()).isEqualTo("ClusterFirstWithHostNet");
        assertThat(d.getSpec().getReplicas()).isEqualTo(1);
        Container c = Manifests.only(pod);
        assertCaptureOnly(c);

        String printed = printConfig("trafficbus-intercept", pod, c);
        String listen = PrintConfig.value(printed, "--listen");
        int channel = c.getPorts().stream().filter(p -> "channel".equals(p.getName())).findFirst().orElseThrow()
                .getContainerPort();
        assertThat(listen).endsWith(":" + channel);
        String token = PrintConfig.value(printed, "--token-file");
        Volume secret = Manifests.volumeHolding(pod, c, token)
                .orElseThrow(() -> new AssertionError("nothing is mounted where " + token + " lies"));
        assertThat(secret.getSecret().getSecretName()).isEqualTo("trafficbus-intercept");

        Service s = manifests.one(Service.class, "trafficbus-intercept");
        assertThat(d.getSpec().getTemplate().getMetadata().getLabels()).containsAllEntriesOf(s.getSpec().getSelector());
        assertThat(s.getSpec().getPorts()).singleElement().satisfies(p -> {
            assertThat(p.getPort()).isEqualTo(channel);
            assertThat(p.getTargetPort().getStrVal()).isEqualTo("channel");
        });
    }

    @Test
    void processorAndReplayerRunAsNonRootWithNoCapability() {
        for (String name : List.of("trafficbus-processor", "trafficbus-replay")) {
            PodSpec pod = manifests.workloads().get(name);
            assertThat(pod.getHostNetwork()).as(name).isNotEqualTo(Boolean.TRUE);
            assertThat(pod.getSecurityContext().getRunAsNonRoot()).as(name).isTrue();
            assertThat(pod.getSecurityContext().getRunAsUser()).as(name + ": the image's user (Dockerfile)")
                    .isEqualTo(DockerfileTest.RUNTIME_UID);
            Capabilities caps = Manifests.only(pod).getSecurityContext().getCapabilities();
            assertThat(caps.getAdd()).as(name).isNullOrEmpty();
        }
    }

    @Test
    void theProcessorsSubscriptionsParseAndSitBesideItsConfig() throws IOException {
        PodSpec pod = manifests.workloads().get("trafficbus-processor");
        Container c = Manifests.only(pod);
        String printed = printConfig("trafficbus-processor", pod, c);
        String file = PrintConfig.value(printed, "--subscriptions");
        List<Subscription> subs = SubscriptionParser.parseAll(manifests.configFile(pod, c, file));
        assertThat(subs).isNotEmpty();
        assertThat(PrintConfig.value(printed, "--metrics-port")).isNotEqualTo("9465"); // set, not the default
        String stateDir = PrintConfig.value(printed, "--state-dir");
        assertThat(c.getVolumeMounts()).anyMatch(m -> stateDir.startsWith(m.getMountPath() + "/"));
    }

    @Test
    void theReplayJobEndsAfterWhatTheTopicHolds() throws IOException {
        Job job = manifests.one(Job.class, "trafficbus-replay");
        PodSpec pod = job.getSpec().getTemplate().getSpec();
        assertThat(pod.getRestartPolicy()).isEqualTo("Never");
        String printed = printConfig("trafficbus-replay", pod, Manifests.only(pod));
        assertThat(PrintConfig.value(printed, "--until-end")).isEqualTo("true");
        assertThat(PrintConfig.value(printed, "--topic")).startsWith("tb.sub.");
    }

    @Test
    void everyReferencedConfigMapExists() {
        List<String> configMaps = manifests.all(ConfigMap.class).stream().map(m -> m.getMetadata().getName()).toList();
        for (Map.Entry<String, PodSpec> w : manifests.workloads().entrySet()) {
            for (Volume v : w.getValue().getVolumes()) {
                if (v.getConfigMap() != null) {
                    assertThat(configMaps).as(w.getKey() + " volume " + v.getName()).contains(v.getConfigMap().getName());
                }
            }
            Manifests.only(w.getValue()).getEnvFrom().forEach(e ->
                    assertThat(configMaps).as(w.getKey() + " envFrom").contains(e.getConfigMapRef().getName()));
            Manifests.only(w.getValue()).getVolumeMounts().forEach(m ->
                    assertThat(w.getValue().getVolumes()).as(w.getKey() + " mount " + m.getMountPath())
                            .anyMatch(v -> v.getName().equals(m.getName())));
        }
    }

    /** Capture as Kubernetes allows it: UID 0 with every capability dropped but NET_RAW and NET_ADMIN. */
    private static void assertCaptureOnly(Container c) {
        SecurityContext sc = c.getSecurityContext();
        assertThat(sc.getCapabilities().getAdd()).containsExactlyInAnyOrder("NET_RAW", "NET_ADMIN");
        assertThat(sc.getCapabilities().getDrop()).containsExactly("ALL");
        assertThat(sc.getPrivileged()).isNotEqualTo(Boolean.TRUE);
        assertThat(sc.getAllowPrivilegeEscalation()).isFalse();
        assertThat(sc.getRunAsUser()).as("capabilities are effective only for UID 0 (no ambient capabilities)")
                .isZero();
    }

    /** The workload's config file, written out as the container sees it, through its command's --print-config. */
    private String printConfig(String workload, PodSpec pod, Container c) throws IOException {
        String path = Manifests.configArg(c);
        Path file = tmp.resolve(workload + "-" + Path.of(path).getFileName());
        Files.writeString(file, manifests.configFile(pod, c, path));
        return PrintConfig.of(COMMANDS.get(workload), file, manifests.environment(c, NODE));
    }
}
