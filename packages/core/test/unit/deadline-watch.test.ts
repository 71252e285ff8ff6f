import { afterEach, describe, expect, it, vi } from 'vitest'
import { deadlineIn } from '../../src/deadline.js'
import { DeadlineWatch } from '../../src/deadline-watch.js'
import { ErrorCodes } from '../../src/errors.js'
import type { Deadline } from '../../src/types.js'

function never<T>(): Promise<T> {
  return new Promise<T>(() => {})
}

function deferred<T>(): { promise: Promise<T>; resolve: (value: T) => void; reject: (error: unknown) => void } {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

describe('DeadlineWatch: every call refused at its own deadline, on one timer', () => {
  afterEach(() => {
    vi.restoreAllMocks()
    vi.useRealTimers()
  })

  it('passes a value or an error through, and forgets the call', async () => {
    const watch = new DeadlineWatch()
    await expect(watch.race(Promise.resolve(7), deadlineIn(1_000))).resolves.toBe(7)
    const boom = new Error('boom')
    await expect(watch.race(Promise.reject(boom), deadlineIn(1_000))).rejects.toBe(boom)
    expect(watch.size).toBe(0)
  })

  it('watch without a promise: a call settled in time is never refused; one past its deadline is refused once, and cannot be settled after', async () => {
    const watch = new DeadlineWatch(() => performance.now())
    const refusals: unknown[] = []
    const sink = { reject: (error: unknown) => refusals.push(error) }
    const settled = watch.watch(deadlineIn(1_000), sink)
    expect(watch.settle(settled)).toBe(true)
    expect(watch.settle(settled)).toBe(false)
    const late = watch.watch((performance.now() + 5) as Deadline, sink)
    await vi.waitFor(() => expect(refusals).toHaveLength(1), { timeout: 2_000, interval: 5 })
    expect(refusals[0]).toMatchObject({ code: ErrorCodes.STORE_TIMEOUT })
    // Whoever answers the call asks first, and learns it was refused already.
    expect(watch.settle(late)).toBe(false)
    expect(watch.size).toBe(0)
    expect(refusals).toHaveLength(1)
  })

  it('refuses an unanswered call with ERR_SLUICE_STORE_TIMEOUT (sent) once its deadline passes, never before', async () => {
    vi.useFakeTimers()
    const watch = new DeadlineWatch(() => performance.now())
    const start = performance.now()
    const call = watch.race(never(), (start + 50) as Deadline)
    const outcome = call.then(
      () => 'answered',
      (error: { code?: string; message: string }) => ({ code: error.code, message: error.message, at: performance.now() - start }),
    )
    await vi.advanceTimersByTimeAsync(49)
    expect(watch.size).toBe(1)
    await vi.advanceTimersByTimeAsync(2)
    expect(await outcome).toMatchObject({ code: ErrorCodes.STORE_TIMEOUT, message: expect.stringMatching(/\(sent\)$/) })
    expect(((await outcome) as { at: number }).at).toBeGreaterThanOrEqual(50)
    expect(watch.size).toBe(0)
  })

  it('arms one timer for many calls, and moves it only for an earlier deadline', async () => {
    vi.useFakeTimers()
    const setTimer = vi.spyOn(globalThis, 'setTimeout')
    const watch = new DeadlineWatch(() => performance.now())
    const now = performance.now()
    const calls = Array.from({ length: 100 }, () => deferred<number>())
    for (const [i, c] of calls.entries()) void watch.race(c.promise, (now + 100 + i) as Deadline)
    expect(setTimer).toHaveBeenCalledTimes(1)
    // An earlier deadline (a route with a shorter budget) moves it.
    const short = watch.race(never<number>(), (now + 10) as Deadline).catch((e: { message: string }) => e.message)
    expect(setTimer).toHaveBeenCalledTimes(2)
    for (const c of calls) c.resolve(1)
    await vi.advanceTimersByTimeAsync(11)
    expect(await short).toMatch(/\(sent\)$/)
    // Nothing else is out: no timer re-armed after it fired.
    expect(setTimer).toHaveBeenCalledTimes(2)
    expect(watch.size).toBe(0)
  })

  it('after refusing the due calls, waits for the next deadline among those still out', async () => {
    vi.useFakeTimers()
    const watch = new DeadlineWatch(() => performance.now())
    const now = performance.now()
    const refusedAt: Record<string, number> = {}
    const track = (name: string, p: Promise<unknown>): void => {
      p.catch(() => {
        refusedAt[name] = performance.now() - now
      })
    }
    track('a', watch.race(never(), (now + 20) as Deadline))
    track('b', watch.race(never(), (now + 60) as Deadline))
    const c = deferred<number>()
    track('c', watch.race(c.promise, (now + 40) as Deadline))
    await vi.advanceTimersByTimeAsync(30)
    expect(Object.keys(refusedAt)).toEqual(['a'])
    c.resolve(3)
    await vi.advanceTimersByTimeAsync(40)
    expect(Object.keys(refusedAt)).toEqual(['a', 'b'])
    expect(refusedAt.a).toBeGreaterThanOrEqual(20)
    expect(refusedAt.b).toBeGreaterThanOrEqual(60)
    expect(refusedAt.b).toBeLessThan(62)
  })
})
