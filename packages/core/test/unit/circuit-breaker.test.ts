import { describe, expect, it } from 'vitest'
import { CircuitBreaker } from '../../src/circuit-breaker.js'
import { manualClock } from '../support/manual-clock.js'

const options = { failureThreshold: 3, cooldownMs: 100, maxCooldownMs: 350 }

function breaker() {
  const clock = manualClock(1_000)
  return { clock, breaker: new CircuitBreaker(options, clock.now) }
}

/** Fail `n` times in the closed state (each call allowed first, as the failover does). */
function failClosed(b: CircuitBreaker, n: number): void {
  for (let i = 0; i < n; i++) {
    expect(b.allow()).toBe(true)
    b.failure()
  }
}

/** The ms after which an open breaker lets its probe through: closed below, a probe at it. */
function cooldownOf(b: CircuitBreaker, clock: ReturnType<typeof manualClock>, ceiling = 10_000): number {
  for (let waited = 0; waited <= ceiling; waited++) {
    if (b.allow()) return waited
    clock.advance(1)
  }
  throw new Error(`no probe within ${ceiling} ms`)
}

describe('CircuitBreaker', () => {
  it('stays closed below the threshold and opens on the threshold-th consecutive failure', () => {
    const { breaker: b } = breaker()
    failClosed(b, options.failureThreshold - 1)
    expect(b.state).toBe('closed')
    expect(b.allow()).toBe(true)
    b.failure()
    expect(b.state).toBe('open')
    expect(b.allow()).toBe(false)
  })

  it('counts consecutive failures only: a success in between starts the count again', () => {
    const { breaker: b } = breaker()
    failClosed(b, options.failureThreshold - 1)
    b.success()
    failClosed(b, options.failureThreshold - 1)
    expect(b.state).toBe('closed')
    b.failure()
    expect(b.state).toBe('open')
  })

  it('lets exactly one probe through per cooldown, and none before it', () => {
    const { clock, breaker: b } = breaker()
    failClosed(b, options.failureThreshold)
    clock.advance(options.cooldownMs - 1)
    expect(b.allow()).toBe(false)
    clock.advance(1)
    expect(b.allow()).toBe(true)
    expect(b.state).toBe('half-open')
    // While the probe is out, nobody else goes, however long it takes.
    expect(b.allow()).toBe(false)
    clock.advance(60_000)
    expect(b.allow()).toBe(false)
  })

  it('doubles the cooldown after each failed probe, up to the ceiling', () => {
    const { clock, breaker: b } = breaker()
    failClosed(b, options.failureThreshold)
    const cooldowns: number[] = []
    for (let i = 0; i < 4; i++) {
      cooldowns.push(cooldownOf(b, clock))
      b.failure()
      expect(b.state).toBe('open')
    }
    expect(cooldowns).toEqual([100, 200, 350, 350])
  })

  it('closes on a successful probe and starts again from the base cooldown', () => {
    const { clock, breaker: b } = breaker()
    failClosed(b, options.failureThreshold)
    expect(cooldownOf(b, clock)).toBe(100)
    b.failure()
    expect(cooldownOf(b, clock)).toBe(200)
    b.success()
    expect(b.state).toBe('closed')
    expect(b.allow()).toBe(true)
    // A fresh run of failures: the threshold again, then the base cooldown, not the doubled one.
    failClosed(b, options.failureThreshold - 1)
    expect(b.state).toBe('closed')
    failClosed(b, 1)
    expect(b.state).toBe('open')
    expect(cooldownOf(b, clock)).toBe(100)
  })

  it('opens with a threshold of one on the first failure', () => {
    const clock = manualClock()
    const b = new CircuitBreaker({ ...options, failureThreshold: 1 }, clock.now)
    failClosed(b, 1)
    expect(b.state).toBe('open')
  })
})
