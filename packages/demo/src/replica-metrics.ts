import { createMetrics, type SluiceMetrics } from '@sluice/core/metrics'
import * as promClient from 'prom-client'

/**
 * This replica's Prometheus metrics: Sluice's own (requests by outcome and source, policy
 * checks, store latency) in a registry per replica, served at /metrics, exempt from the limit.
 */
export function replicaMetrics(instanceId: string): { observer: SluiceMetrics; contentType: string; text(): Promise<string> } {
  const registry = new promClient.Registry()
  registry.setDefaultLabels({ instance: instanceId })
  const observer = createMetrics(promClient, { registry })
  return { observer, contentType: registry.contentType, text: () => registry.metrics() }
}
