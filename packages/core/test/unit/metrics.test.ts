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

  it('counts skipped requests, in stats() and as outcome "skipped"', async () => {
    const registry = new Registry()
    const limiter = createLimiter<{ health?: boolean }>({
      capacity: 5,
      refillPerSecond: 0.001,
      observer: createMetrics(promClient, { registry }),
      skip: (request) => request.health === true,
    })
    const route = limiter.forRoute(undefined, 'GET', '/health')!
    for (let i = 0; i < 3; i++) expect(await route.check({ health: true }, view)).toBeUndefined()
    await route.check({}, view)
    expect(limiter.controls.stats()).toMatchObject({ skipped: 3, storeAnswers: 1 })
    expect(await value(registry, 'sluice_requests_total', { route: 'GET /health', outcome: 'skipped', source: 'none' })).toBe(3)
    expect(await value(registry, 'sluice_requests_total', { route: 'GET /health', outcome: 'allowed', source: 'store' })).toBe(1)
  })

  it('shows the circuit state as a gauge: 1 for the current state, 0 for the others', async () => {
    const registry = new Registry()
    const metrics = createMetrics(promClient, { registry })
    const state = async (s: string) => value(registry, 'sluice_circuit_state', { store: 'redis', state: s })
    metrics.circuit!({ store: 'redis', state: 'closed' })
    expect([await state('closed'), await state('open'), await state('half-open')]).toEqual([1, 0, 0])
    metrics.circuit!({ store: 'redis', state: 'open' })
    expect([await state('closed'), await state('open'), await state('half-open')]).toEqual([0, 1, 0])
    metrics.circuit!({ store: 'redis', state: 'half-open' })
    expect([await state('closed'), await state('open'), await state('half-open')]).toEqual([0, 0, 1])
  })

  it('a failing custom store drives the gauge through the breaker, and its store calls carry the route', async () => {
    const registry = new Registry()
    const metrics = createMetrics(promClient, { registry })
    const routes: string[] = []
    const limiter = createLimiter({
      capacity: 5,
      refillPerSecond: 0.001,
      logger: recordingLogger(),
      circuitBreaker: { failureThreshold: 2, cooldownMs: 60_000, maxCooldownMs: 60_000 },
      store: { kind: 'flaky', check: () => Promise.reject(new Error('gone')) },
      observer: {
        ...metrics,
        storeCall(event) {
          routes.push(event.route)
          metrics.storeCall!(event)
        },
      },
    })
    const route = limiter.forRoute(undefined, 'POST', '/login')!
    const state = async (s: string) => value(registry, 'sluice_circuit_state', { store: 'flaky', state: s })
    expect(await state('closed')).toBe(1)
    for (let i = 0; i < 2; i++) await route.check({}, view)
    expect([await state('closed'), await state('open')]).toEqual([0, 1])
    expect(routes).toEqual(['POST /login', 'POST /login'])
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

  it('counts settles by route and outcome, and the tokens they refunded or charged beyond the reservation', async () => {
    const registry = new Registry()
    const metrics = createMetrics(promClient, { registry })
    const limiter = createLimiter<object>({ logger: recordingLogger(), observer: metrics, capacity: 10, refillPerSecond: 0.001, cost: 4 })
    const route = limiter.forRoute(undefined, 'GET', '/chat')!
    const refund = await limiter.controls.check({}, { key: 'a', cost: 4 })
    await limiter.controls.settle(refund, 1)
    const extra = await limiter.controls.check({}, { key: 'b', cost: 4 })
    await limiter.controls.settle(extra, 6)
    expect(route).toBeDefined()
    expect(await value(registry, 'sluice_settles_total', { route: 'manual', outcome: 'applied' })).toBe(2)
    expect(await value(registry, 'sluice_settle_tokens_total', { route: 'manual', direction: 'refunded' })).toBe(3)
    expect(await value(registry, 'sluice_settle_tokens_total', { route: 'manual', direction: 'extra' })).toBe(2)
  })
})
