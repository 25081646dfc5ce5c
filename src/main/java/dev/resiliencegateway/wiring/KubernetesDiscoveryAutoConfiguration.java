package dev.resiliencegateway.wiring;

import org.springframework.boot.autoconfigure.AutoConfiguration;
import org.springframework.boot.autoconfigure.condition.ConditionalOnClass;
import org.springframework.boot.autoconfigure.condition.ConditionalOnCloudPlatform;
import org.springframework.boot.autoconfigure.condition.ConditionalOnProperty;
import org.springframework.boot.cloud.CloudPlatform;
import org.springframework.scheduling.annotation.EnableScheduling;

/**
 * On Kubernetes, Spring Cloud Kubernetes' catalog watch looks at the namespace's endpoints every
 * {@code spring.cloud.kubernetes.discovery.catalogServicesWatchDelay} and publishes a
 * {@code HeartbeatEvent} when they changed, which refreshes every discovered pool at once
 * (PoolRegistry). That watch is a {@code @Scheduled} method, and Spring runs those only where
 * scheduling is enabled: here, and only on Kubernetes, so the laptop gateway runs no scheduler.
 */
@AutoConfiguration
@ConditionalOnCloudPlatform(CloudPlatform.KUBERNETES)
@ConditionalOnClass(name = "org.springframework.cloud.kubernetes.fabric8.discovery.KubernetesCatalogWatch")
@ConditionalOnProperty(name = { "spring.cloud.kubernetes.discovery.enabled", "spring.cloud.discovery.enabled" },
		matchIfMissing = true)
@EnableScheduling
public class KubernetesDiscoveryAutoConfiguration {

}
