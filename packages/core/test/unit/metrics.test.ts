import * as promClient from 'prom-client'
import { Registry } from 'prom-client'
import { describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import { createMetrics } from '../../src/metrics.js'
import type { RequestView } from '../../src/types.js'

const view: RequestView = { ip: '192.0.2.1', header: () => undefined }

async function value(registry: Registry, name: string, labels: Record<string, string>): Promise<number> {
  const metric = (await registry.getMetricsAsJSON()).find((m) => m.name === name)
  const sample = (metric?.values ?? []).find((v) => Object.entries(labels).every(([k, l]) => v.labels[k] === l))
  return sample?.value ?? 0
}

describe('Prometheus metrics', () => {
  it('counts requests by route, outcome and source, and policy checks by result', async () => {
    const registry = new Registry()
    const metrics = createMetrics(promClient, { registry })
    const logger = recordingLogger()
    const limiter = createLimiter({
      logger,
      observer: metrics,
      policies: [
        { name: 'burst', capacity: 2, refillPerSecond: 0.001 },
        { name: 'trial', capacity: 1, refillPerSecond: 0.001, shadow: true },
      ],
    })
    const route = limiter.forRoute(undefined, 'GET', '/search')!
    for (let i = 0; i < 3; i++) await route.check({}, view)
    expect(await value(registry, 'sluice_requests_total', { route: 'GET /search', outcome: 'allowed', source: 'store' })).toBe(2)
    expect(await value(registry, 'sluice_requests_total', { route: 'GET /search', outcome: 'denied', source: 'store' })).toBe(1)
    expect(await value(registry, 'sluice_policy_checks_total', { policy: 'trial', result: 'denied', shadow: 'true' })).toBe(2)
    expect(await value(registry, 'sluice_policy_checks_total', { policy: 'burst', result: 'allowed' })).toBe(2)
    expect(await registry.metrics()).toContain('sluice_store_call_duration_seconds')
    expect(logger.lines.map((l) => l.object.code)).toContain('SLUICE_SHADOW_DENIAL')
  })

  it('never lets a failing observer fail a request', async () => {
    const limiter = createLimiter({
      capacity: 1,
      refillPerSecond: 1,
      observer: {
        decision: () => {
          throw new Error('boom')
        },
      },
    })
    await expect(limiter.forRoute(undefined, '*', '*')!.check({}, view)).resolves.toMatchObject({ outcome: 'allowed' })
  })
})
