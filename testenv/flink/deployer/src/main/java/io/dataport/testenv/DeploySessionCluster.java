package io.dataport.testenv;

import org.apache.flink.client.deployment.ClusterSpecification;
import org.apache.flink.configuration.Configuration;
import org.apache.flink.configuration.DeploymentOptionsInternal;
import org.apache.flink.configuration.GlobalConfiguration;
import org.apache.flink.kubernetes.KubernetesClusterClientFactory;
import org.apache.flink.kubernetes.KubernetesClusterDescriptor;

/**
 * Deploys a Flink session cluster on Kubernetes with Flink's own native client, the way
 * flink-kubernetes-operator's {@code NativeFlinkService.deploySessionCluster} does (release-1.15.0,
 * flink-kubernetes-operator/src/main/java/org/apache/flink/kubernetes/operator/service/NativeFlinkService.java).
 *
 * <p>Usage: {@code DeploySessionCluster CONF_DIR}: the configuration is read from CONF_DIR as Flink
 * reads it ({@code GlobalConfiguration.loadConfiguration}); the Kubernetes client (fabric8) finds the
 * API server and credentials in its usual environment variables. Exit code 0 when Flink created the
 * JobManager Deployment, its Services and ConfigMaps; 1 with Flink's error otherwise.
 */
public final class DeploySessionCluster {
    public static void main(String[] args) throws Exception {
        if (args.length != 1) {
            System.err.println("usage: DeploySessionCluster CONF_DIR");
            System.exit(2);
        }
        Configuration configuration = GlobalConfiguration.loadConfiguration(args[0]);
        // The logging files shipped to the cluster (log4j-console.properties, ...) come from this
        // folder, as the operator points it at the folder it wrote them to
        // (FlinkConfigBuilder.applyLogConfiguration, release-1.15.0).
        if (!configuration.contains(DeploymentOptionsInternal.CONF_DIR)) {
            configuration.set(DeploymentOptionsInternal.CONF_DIR, args[0]);
        }
        KubernetesClusterClientFactory factory = new KubernetesClusterClientFactory();
        ClusterSpecification specification = factory.getClusterSpecification(configuration);
        try (KubernetesClusterDescriptor descriptor = factory.createClusterDescriptor(configuration)) {
            descriptor.deploySessionCluster(specification);
        } catch (Exception e) {
            e.printStackTrace();
            System.exit(1);
        }
        System.exit(0);
    }
}
