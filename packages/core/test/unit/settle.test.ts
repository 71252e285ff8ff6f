import { describe, expect, it } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { createLimiter } from '../../src/adapter.js'
import { ErrorCodes } from '../../src/errors.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import type { CheckReply, RequestView, Store } from '../../src/types.js'

// The manual form, `settle(result, actualCost)`, and the `settle` option's validation, in memory.

const view: RequestView = { ip: '203.0.113.7', header: () => undefined }
const base = { capacity: 10, refillPerSecond: 0.001, logger: recordingLogger() }

async function codeOf(promise: Promise<unknown>): Promise<string | undefined> {
  try {
    await promise
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

function codeOfSync(f: () => unknown): string | undefined {
  try {
    f()
  } catch (error) {
    return (error as { code?: string }).code
  }
  return undefined
}

describe('settle(result, actualCost)', () => {
  it('applies actual − cost to the buckets, once; a second settle is ERR_SLUICE_ALREADY_SETTLED', async () => {
    const { controls } = createLimiter<object>(base)
    const result = await controls.check({}, { key: 'u', cost: 6 })
    await controls.settle(result, 2)
    expect((await controls.check({}, { key: 'u', cost: 1 })).remaining).toBe(7)
    expect(await codeOf(controls.settle(result, 2))).toBe(ErrorCodes.ALREADY_SETTLED)
    expect(controls.stats()).toMatchObject({ settlesApplied: 1, settleRefundedTokens: 4 })
  })

  it('refuses a copy, a foreign object, a refused result and a bad actual cost with ERR_SLUICE_INVALID_ARGUMENT', async () => {
    const { controls } = createLimiter<object>(base)
    const other = createLimiter<object>(base).controls
    const result = await controls.check({}, { key: 'u', cost: 10 })
    const refused = await controls.check({}, { key: 'u', cost: 1 })
    expect(refused.allowed).toBe(false)
    for (const bad of [{ ...result }, refused, null, 'x']) {
      expect(await codeOf(controls.settle(bad as typeof result, 1))).toBe(ErrorCodes.INVALID_ARGUMENT)
    }
    expect(await codeOf(other.settle(result, 1))).toBe(ErrorCodes.INVALID_ARGUMENT)
    for (const actual of [-1, 1.5, Number.NaN, '3', 2 ** 31 + 1]) {
      expect(await codeOf(controls.settle(result, actual as number))).toBe(ErrorCodes.INVALID_ARGUMENT)
    }
    // None of those used the result up.
    await controls.settle(result, 0)
    expect((await controls.check({}, { key: 'u', cost: 10 })).allowed).toBe(true)
  })

  it('settled by hand, request.rateLimit is not settled again by the settle option', async () => {
    let calls = 0
    const limiter = createLimiter<object>({
      ...base,
      cost: 4,
      settle: () => {
        calls++
        return 0
      },
    })
    const route = limiter.forRoute(undefined, '*', '*')!
    const decision = (await route.check({}, view))!
    expect(decision.onEnd).toBeDefined()
    await limiter.controls.settle(decision.result!, 1)
    decision.onEnd!({}, {})
    expect(calls).toBe(0)
    expect((await limiter.controls.peek({ ip: '203.0.113.7' })).remaining).toBe(9)
  })

  it('gives a decision no onEnd without a settle option, nor for a refused request', async () => {
    const plain = createLimiter<object>(base).forRoute(undefined, '*', '*')!
    expect((await plain.check({}, view))!.onEnd).toBeUndefined()
    const settling = createLimiter<object>({ ...base, cost: 10, settle: () => 1 }).forRoute(undefined, '*', '*')!
    expect((await settling.check({}, view))!.onEnd).toBeDefined()
    const refused = (await settling.check({}, view))!
    expect(refused.deny).toBeDefined()
    expect(refused.onEnd).toBeUndefined()
  })

  it("uses a route's settle instead of the limiter's", async () => {
    const seen: string[] = []
    const said = (who: string) => (): number => {
      seen.push(who)
      return 1
    }
    const limiter = createLimiter<object>({ ...base, settle: said('limiter') })
    const route = limiter.forRoute({ settle: said('route') }, 'GET', '/r')!
    ;(await route.check({}, view))!.onEnd!({}, {})
    ;(await limiter.forRoute(undefined, 'GET', '/other')!.check({}, view))!.onEnd!({}, {})
    expect(seen).toEqual(['route', 'limiter'])
  })
})

describe('the settle option', () => {
  const custom: Store = { kind: 'custom', check: async (): Promise<CheckReply> => ({ admitted: true, buckets: [] }) }

  it('is refused with a coded option error on a store that cannot settle, and when not a function', () => {
    expect(codeOfSync(() => createLimiter<object>({ ...base, store: custom, settle: () => 1 }))).toBe(ErrorCodes.INVALID_OPTION)
    expect(() => createLimiter<object>({ ...base, store: custom, settle: () => 1 })).toThrow(expect.objectContaining({ option: 'settle' }))
    const limiter = createLimiter<object>({ ...base, store: custom })
    expect(() => limiter.forRoute({ settle: () => 1 }, 'GET', '/')).toThrow(expect.objectContaining({ option: 'config.rateLimit.settle' }))
    expect(() => createLimiter<object>({ ...base, settle: 3 as never })).toThrow(expect.objectContaining({ option: 'settle' }))
    expect(() => createLimiter<object>({ ...base, store: new MemoryStore(), settle: () => 1 })).not.toThrow()
  })
})
