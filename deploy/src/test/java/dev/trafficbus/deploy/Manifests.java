package dev.trafficbus.deploy;

import io.fabric8.kubernetes.api.model.ConfigMap;
import io.fabric8.kubernetes.api.model.Container;
import io.fabric8.kubernetes.api.model.EnvFromSource;
import io.fabric8.kubernetes.api.model.EnvVar;
import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.api.model.PodSpec;
import io.fabric8.kubernetes.api.model.Volume;
import io.fabric8.kubernetes.api.model.VolumeMount;
import io.fabric8.kubernetes.api.model.apps.DaemonSet;
import io.fabric8.kubernetes.api.model.apps.Deployment;
import io.fabric8.kubernetes.api.model.batch.v1.Job;
import io.fabric8.kubernetes.client.utils.KubernetesSerialization;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The manifests of deploy/kubernetes/ read into the typed model of a Kubernetes client (fabric8), as the API server
 * would take them, with look-ups across them: a workload's pod, the ConfigMap behind a mounted file, its environment.
 */
final class Manifests {
    /** The manifest files, without kustomization.yaml (not a Kubernetes object). */
    final List<Path> files;
    final List<HasMetadata> objects = new ArrayList<>();

    private Manifests(List<Path> files) {
        this.files = files;
    }

    static Path dir() {
        return PrintConfig.checkout().resolve("deploy").resolve("kubernetes");
    }

    /** Reads every *.yaml of deploy/kubernetes/ but kustomization.yaml; a file that does not parse fails. */
    static Manifests load() throws IOException {
        List<Path> files;
        try (var list = Files.list(dir())) {
            files = list.filter(f -> f.getFileName().toString().endsWith(".yaml"))
                    .filter(f -> !f.getFileName().toString().equals("kustomization.yaml")).sorted().toList();
        }
        Manifests m = new Manifests(files);
        KubernetesSerialization serialization = new KubernetesSerialization();
        for (Path f : files) {
            try (InputStream in = Files.newInputStream(f)) {
                Object read = serialization.unmarshal(in);
                List<?> docs = read instanceof List<?> l ? l : List.of(read);
                for (Object o : docs) {
                    assertThat(o).as(f + ": every document is a typed Kubernetes object").isInstanceOf(HasMetadata.class);
                    assertThat(o.getClass().getPackageName()).as(f + ": " + o.getClass())
                            .startsWith("io.fabric8.kubernetes.api.model");
                    m.objects.add((HasMetadata) o);
                }
            }
        }
        return m;
    }

    /**
     * The fields the typed model did not know, as "path: name" (the model keeps them aside instead of failing,
     * so a misspelt field such as hostNetwrok would otherwise be silently ignored, as the API server may do too).
     */
    List<String> unknownFields() {
        List<String> unknown = new ArrayList<>();
        for (HasMetadata o : objects) {
            collectUnknown(o, o.getKind() + " " + o.getMetadata().getName(), unknown);
        }
        return unknown;
    }

    private static void collectUnknown(Object node, String path, List<String> unknown) {
        if (node instanceof List<?> list) {
            for (int i = 0; i < list.size(); i++) {
                collectUnknown(list.get(i), path + "[" + i + "]", unknown);
            }
            return;
        }
        if (node instanceof Map<?, ?> map) {
            map.forEach((k, v) -> collectUnknown(v, path + "." + k, unknown));
            return;
        }
        if (node == null || !node.getClass().getPackageName().startsWith("io.fabric8.kubernetes.api.model")) {
            return;
        }
        for (java.lang.reflect.Method m : node.getClass().getMethods()) {
            if (m.getParameterCount() != 0 || !m.getName().startsWith("get") || m.getDeclaringClass() == Object.class) {
                continue;
            }
            Object value;
            try {
                value = m.invoke(node);
            } catch (ReflectiveOperationException e) {
                throw new AssertionError(path + "." + m.getName(), e);
            }
            if (m.getName().equals("getAdditionalProperties")) {
                if (value instanceof Map<?, ?> extra) {
                    extra.keySet().forEach(k -> unknown.add(path + ": " + k));
                }
            } else {
                collectUnknown(value, path + "." + m.getName().substring(3), unknown);
            }
        }
    }

    <T extends HasMetadata> T one(Class<T> type, String name) {
        return objects.stream().filter(type::isInstance).map(type::cast)
                .filter(o -> o.getMetadata().getName().equals(name)).findFirst()
                .orElseThrow(() -> new AssertionError("no " + type.getSimpleName() + " " + name + " in " + dir()));
    }

    <T extends HasMetadata> List<T> all(Class<T> type) {
        return objects.stream().filter(type::isInstance).map(type::cast).toList();
    }

    /** Every DaemonSet, Deployment and Job by name, with its pod template's spec. */
    Map<String, PodSpec> workloads() {
        Map<String, PodSpec> pods = new LinkedHashMap<>();
        all(DaemonSet.class).forEach(d -> pods.put(d.getMetadata().getName(), d.getSpec().getTemplate().getSpec()));
        all(Deployment.class).forEach(d -> pods.put(d.getMetadata().getName(), d.getSpec().getTemplate().getSpec()));
        all(Job.class).forEach(j -> pods.put(j.getMetadata().getName(), j.getSpec().getTemplate().getSpec()));
        return pods;
    }

    static Container only(PodSpec pod) {
        assertThat(pod.getContainers()).hasSize(1);
        return pod.getContainers().get(0);
    }

    /** The volume mounted where {@code file} lies in {@code container}, or empty. */
    static Optional<Volume> volumeHolding(PodSpec pod, Container container, String file) {
        Path parent = Path.of(file).getParent();
        return container.getVolumeMounts().stream().filter(m -> Path.of(m.getMountPath()).equals(parent))
                .map(VolumeMount::getName).findFirst()
                .flatMap(name -> pod.getVolumes().stream().filter(v -> v.getName().equals(name)).findFirst());
    }

    /** The text of {@code file} as the container sees it: the key of the ConfigMap mounted at its folder. */
    String configFile(PodSpec pod, Container container, String file) {
        Volume v = volumeHolding(pod, container, file)
                .orElseThrow(() -> new AssertionError("nothing is mounted where " + file + " lies"));
        assertThat(v.getConfigMap()).as(file + " comes from a ConfigMap").isNotNull();
        ConfigMap cm = one(ConfigMap.class, v.getConfigMap().getName());
        String key = Path.of(file).getFileName().toString();
        assertThat(cm.getData()).as("ConfigMap " + cm.getMetadata().getName()).containsKey(key);
        return cm.getData().get(key);
    }

    /**
     * The container's environment as the kubelet builds it: its ConfigMaps' data, then its own variables; a value
     * taken from the pod's fields (the node's name) is {@code fieldValue}.
     */
    Map<String, String> environment(Container container, String fieldValue) {
        Map<String, String> env = new LinkedHashMap<>();
        for (EnvFromSource from : container.getEnvFrom()) {
            assertThat(from.getConfigMapRef()).isNotNull();
            env.putAll(one(ConfigMap.class, from.getConfigMapRef().getName()).getData());
        }
        for (EnvVar v : container.getEnv()) {
            if (v.getValueFrom() != null) {
                assertThat(v.getValueFrom().getFieldRef()).as(v.getName()).isNotNull();
                env.put(v.getName(), fieldValue);
            } else {
                env.put(v.getName(), v.getValue());
            }
        }
        return env;
    }

    /** The config file named after {@code --config} in the container's args. */
    static String configArg(Container container) {
        List<String> args = container.getArgs();
        int i = args.indexOf("--config");
        assertThat(i).as("args " + args + " name a --config file").isNotNegative().isLessThan(args.size() - 1);
        return args.get(i + 1);
    }
}
