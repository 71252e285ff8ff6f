import { describe, expect, it } from 'vitest'
import { buildReport } from '../../packages/loadtest/src/report.js'
import { Recorder, sampleHeaders } from '../../packages/loadtest/src/sample.js'
import { drivers } from '../support/drivers.js'
import { get } from '../support/http.js'
import { regressionSuite } from '../support/regression-suite.js'

// The load test judged every client against capacity + refill × elapsed alone. A request a
// replica admits from its local fallback bucket while Redis is slow took nothing from Redis, so a
// cluster that limited correctly through a slow spell failed its verdict. Each such admission now
// adds one to its own client's bound, counted from the responses, and no more than one.
const suite = regressionSuite()

const CAPACITY = 9
const REPLICAS = 3
const BUDGET_MS = 100
/** Far longer than the requests sent during it need, even on a busy machine. */
const PAUSE_MS = 3_000

describe.each(drivers)('$name', (driver) => {
  it('passes a client whose admissions beyond C + R·t all came from the local fallback bucket, and only those', async () => {
    const app = await suite.start(driver, { capacity: CAPACITY, refillPerSecond: 0.001, replicas: REPLICAS, timeoutMs: BUDGET_MS })
    const recorder = new Recorder(1_000)
    const send = async (): Promise<void> => {
      const sentAt = performance.now()
      const response = await get(app.url)
      recorder.record(
        0,
        sentAt,
        performance.now(),
        response.status,
        sampleHeaders((name) => response.headers.get(name) ?? undefined),
      )
    }

    // The shared bucket, emptied from Redis.
    for (let i = 0; i < CAPACITY; i++) await send()
    // Redis holds every command: the checks wait out their budget, the breaker opens, and this
    // replica answers from its share of the limit, 9 / 3 = 3 tokens, which Redis never sees.
    const admin = suite.server().client()
    await admin.client('PAUSE', PAUSE_MS, 'ALL')
    try {
      for (let i = 0; i < 2 * Math.ceil(CAPACITY / REPLICAS); i++) await send()
    } finally {
      // The next test's Redis must answer; UNPAUSE is served while everything else is held.
      await admin.client('UNPAUSE')
    }

    const input = {
      scenario: 'burst',
      mode: 'shared',
      keyMode: 'ip',
      gatewayUrl: app.url,
      capacity: CAPACITY,
      refillPerSecond: 0.001,
      load: { clients: [{ label: 'one' }], connectionsPerClient: 1, ratePerSecond: undefined },
      durationSeconds: 1,
      startedAt: new Date(),
    } as const
    const report = buildReport({ ...input, samples: recorder.samples })
    const [client] = report.clients
    expect(report.totals.degraded).toBeGreaterThan(0)
    // What Redis admitted is C + R·t at most; the rest came from the local bucket and is counted.
    expect(client!.admitted - client!.degradedAdmitted).toBeLessThanOrEqual(report.bound)
    expect(client!.degradedAdmitted).toBeLessThanOrEqual(Math.ceil(CAPACITY / REPLICAS))
    expect(client!.bound).toBeCloseTo(report.bound + client!.degradedAdmitted)
    expect(report.verdict).toMatchObject({ pass: true, withinBound: true })
    // Before: the local admissions pushed the client past C + R·t, and the verdict failed.
    if (client!.degradedAdmitted > 0) expect(client!.admitted).toBeGreaterThan(report.bound)

    // Admissions from Redis past the client's bound are over-admission, and fail: one beyond it.
    // (On a busy machine a check of the first phase may itself have been answered locally, which
    // leaves the client below its bound: the extra ones fill the gap first.)
    const last = recorder.samples.at(-1)!
    const beyond = Math.floor(client!.bound) - client!.admitted + 1
    const extras = Array.from({ length: beyond }, (_, i) => ({
      ...last,
      status: 200,
      limit: CAPACITY,
      degraded: false,
      sentMs: last.receivedMs + i,
      receivedMs: last.receivedMs + i + 1,
    }))
    expect(buildReport({ ...input, samples: [...recorder.samples, ...extras.slice(0, -1)] }).verdict).toMatchObject({ pass: true })
    expect(buildReport({ ...input, samples: [...recorder.samples, ...extras] }).verdict).toMatchObject({ pass: false, withinBound: false })
  })
})
