import { describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { WarningCodes, WarnOnce, WarnThrottle, warn } from '../../src/warnings.js'
import { manualClock } from '../support/manual-clock.js'

const throwingLogger = {
  warn(): void {
    throw new Error('the log sink is gone')
  },
}

describe('warn', () => {
  it('logs the code in the object, beside the details, with the message', () => {
    const logger = recordingLogger()
    warn(logger, WarningCodes.UNKNOWN_IP, { route: 'GET /' }, 'no client address')
    expect(logger.lines).toEqual([{ object: { code: 'SLUICE_UNKNOWN_IP', route: 'GET /' }, message: 'no client address' }])
  })

  it('ignores a logger that throws', () => {
    expect(() => warn(throwingLogger, WarningCodes.UNKNOWN_IP, {}, 'no client address')).not.toThrow()
  })
})

describe('WarnOnce', () => {
  it('warns once per code, each code once', () => {
    const logger = recordingLogger()
    const once = new WarnOnce(logger)
    for (let i = 0; i < 3; i++) {
      once.warn(WarningCodes.UNVERIFIED_API_KEY, { i }, 'verify your keys')
      once.warn(WarningCodes.PERMISSIVE_TRUST_PROXY, { i }, 'trust only the gateway')
    }
    expect(logger.lines.map((l) => [l.object.code, l.object.i])).toEqual([
      ['SLUICE_UNVERIFIED_API_KEY', 0],
      ['SLUICE_PERMISSIVE_TRUST_PROXY', 0],
    ])
  })

  it('counts a warning its logger threw on as said', () => {
    let calls = 0
    const once = new WarnOnce({
      warn() {
        calls++
        throw new Error('the log sink is gone')
      },
    })
    once.warn(WarningCodes.UNKNOWN_IP, {}, 'no client address')
    once.warn(WarningCodes.UNKNOWN_IP, {}, 'no client address')
    expect(calls).toBe(1)
  })
})

describe('WarnThrottle', () => {
  function throttle(intervalMs = 1_000) {
    const clock = manualClock(5_000)
    const logger = recordingLogger()
    return { clock, logger, throttle: new WarnThrottle(logger, WarningCodes.STORE_UNAVAILABLE, intervalMs, clock.now) }
  }

  it('logs the first warning at once, with its code, its details and nothing suppressed', () => {
    const { logger, throttle: t } = throttle()
    t.warn({ store: 'redis' }, 'the store is unavailable')
    expect(logger.lines).toEqual([
      { object: { code: 'SLUICE_STORE_UNAVAILABLE', store: 'redis', suppressed: 0 }, message: 'the store is unavailable' },
    ])
  })

  it('logs at most one warning per interval, and the next one says how many it suppressed', () => {
    const { clock, logger, throttle: t } = throttle(1_000)
    t.warn({ n: 1 }, 'm')
    for (let n = 2; n <= 5; n++) {
      clock.advance(200)
      t.warn({ n }, 'm')
    }
    // 800 ms after the first: still inside its interval.
    expect(logger.lines).toHaveLength(1)
    clock.advance(199)
    t.warn({ n: 6 }, 'm')
    expect(logger.lines).toHaveLength(1)
    clock.advance(1)
    t.warn({ n: 7 }, 'm')
    expect(logger.lines.map((l) => [l.object.n, l.object.suppressed])).toEqual([
      [1, 0],
      [7, 5],
    ])
  })

  it('starts the count again after each logged warning, and the interval from it', () => {
    const { clock, logger, throttle: t } = throttle(1_000)
    t.warn({}, 'm')
    t.warn({}, 'm')
    clock.advance(1_500)
    t.warn({}, 'm') // logged, suppressed 1; the next interval runs from here
    clock.advance(999)
    t.warn({}, 'm')
    expect(logger.lines).toHaveLength(2)
    clock.advance(1)
    t.warn({}, 'm')
    expect(logger.lines.map((l) => l.object.suppressed)).toEqual([0, 1, 1])
  })

  it('ignores a logger that throws, and keeps throttling', () => {
    const clock = manualClock()
    let calls = 0
    const t = new WarnThrottle(
      {
        warn() {
          calls++
          throw new Error('the log sink is gone')
        },
      },
      WarningCodes.STORE_UNAVAILABLE,
      1_000,
      clock.now,
    )
    expect(() => {
      t.warn({}, 'm')
      t.warn({}, 'm')
    }).not.toThrow()
    expect(calls).toBe(1)
  })
})
