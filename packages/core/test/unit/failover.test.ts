import { afterEach, describe, expect, it, vi } from 'vitest'
import { recordingLogger } from '../../../../test/support/recording-logger.js'
import { deadlineIn } from '../../src/deadline.js'
import { refused } from '../../src/errors.js'
import { Failover, type FailoverOptions, localShare, type PolicyCheck } from '../../src/failover.js'
import { resolvePolicy } from '../../src/policies.js'
import { pipe } from '../../src/sink.js'
import { doorOf } from '../../src/store-door.js'
import { MemoryStore } from '../../src/stores/memory-store.js'
import type { CheckReply, CheckRequest, Deadline, Store, StoreCallEvent, StoreDoor, StoreOp, StoreSignal } from '../../src/types.js'
import { manualClock } from '../support/manual-clock.js'

// Slow enough that no token comes back while a test runs, so the local buckets' own clock
// (process time) never matters.
const policy = resolvePolicy({ capacity: 10, refillPerSecond: 0.001 })
const breakerOptions = { failureThreshold: 3, cooldownMs: 250, maxCooldownMs: 1_000 }
const TIMEOUT_MS = 100

/** A request's deadline, made as the limiter makes it: `timeoutMs` from now. */
const due = (): Deadline => deadlineIn(TIMEOUT_MS)

function request(key = 'k', cost = 1): PolicyCheck {
  return { keys: [key], policies: [policy], cost }
}

function deferred<T>() {
  let resolve!: (value: T) => void
  let reject!: (error: unknown) => void
  const promise = new Promise<T>((res, rej) => {
    resolve = res
    reject = rej
  })
  return { promise, resolve, reject }
}

/** A store whose every call does what `behaviour` says; counts its calls. */
function scriptedStore(behaviour: (request: CheckRequest) => Promise<CheckReply>) {
  const buckets = new MemoryStore({ clock: () => 0 })
  const store = {
    kind: 'scripted',
    calls: 0,
    behaviour,
    check(r: CheckRequest): Promise<CheckReply> {
      store.calls++
      return store.behaviour(r)
    },
    /** A real reply, from buckets of its own. */
    answer: (r: CheckRequest): Promise<CheckReply> => buckets.check(r),
  }
  return store
}

const down = (): Promise<CheckReply> => Promise.reject(new Error('connection refused'))

/** A door of its own, as a store that keeps its deadline itself (the Redis store) has. */
function ownDoor(run: (ops: readonly StoreOp[], deadline: Deadline) => Promise<CheckReply[]>): StoreDoor {
  const store: Store = { kind: 'door', check: () => Promise.reject(new Error('called around the door')) }
  return {
    kind: 'door',
    store,
    caps: { canFail: true, settles: false, leases: false },
    run,
    check: (request, deadline, sink) =>
      pipe(
        run([{ op: 'check', request }], deadline).then(([reply]) => reply!),
        sink,
      ),
    reset: () => Promise.resolve(),
    nodeOf: () => 'door',
  }
}

function guard(store: Store | StoreDoor, options: Partial<FailoverOptions> = {}) {
  const clock = manualClock(10_000)
  const logger = recordingLogger()
  const storeCalls: StoreCallEvent[] = []
  const failover = new Failover('run' in store ? store : doorOf(store), {
    observer: { storeCall: (event) => storeCalls.push(event) },
    mode: 'local',
    replicas: 1,
    circuitBreaker: breakerOptions,
    logger,
    localMaxKeys: 100,
    timeoutMs: TIMEOUT_MS,
    clock: clock.now,
    ...options,
  })
  return { failover, clock, logger, storeCalls }
}

afterEach(() => {
  vi.useRealTimers()
})

describe('Failover: answers from the store', () => {
  it("passes a healthy store's reply through, timed on the injected clock", async () => {
    const store = scriptedStore((r) => {
      clock.advance(30)
      return store.answer(r)
    })
    const { failover, clock, storeCalls } = guard(store)
    const guarded = await failover.check(request(), due())
    expect(guarded).toMatchObject({ source: 'store', policies: [policy], reply: { admitted: true, buckets: [{ remaining: 9 }] } })
    expect(storeCalls).toEqual([{ store: 'scripted', route: '*', seconds: 0.03, outcome: 'ok' }])
    expect(failover.stats).toEqual({ storeAnswers: 1, degradedAnswers: 0, storeErrors: 0, circuit: 'closed' })
  })

  it('ignores an observer that throws', async () => {
    const store = scriptedStore((r) => store.answer(r))
    const { failover } = guard(store, {
      observer: {
        storeCall() {
          throw new Error('metrics are broken')
        },
      },
    })
    await expect(failover.check(request(), due())).resolves.toMatchObject({ source: 'store' })
  })
})

describe('Failover: the time budget', () => {
  it('gives a plain store timeoutMs, then answers in the failure mode and records a timeout', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const late = deferred<CheckReply>()
    const store = scriptedStore(() => late.promise)
    const { failover, storeCalls, logger } = guard(store)
    let settled = false
    const answer = failover.check(request(), due()).finally(() => {
      settled = true
    })
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS - 1)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await expect(answer).resolves.toMatchObject({ source: 'local' })
    expect(storeCalls.map((e) => e.outcome)).toEqual(['timeout'])
    expect(logger.lines[0]?.object.reason).toMatch(/not answered by its deadline/)
    expect(failover.stats).toMatchObject({ storeAnswers: 0, degradedAnswers: 1, storeErrors: 1 })
    // The store's reply arriving after the budget changes nothing.
    late.resolve(await store.answer(request()))
    await vi.advanceTimersByTimeAsync(0)
    expect(failover.stats).toMatchObject({ storeAnswers: 0, degradedAnswers: 1 })
  })

  it('clears the budget timer when a plain store answers in time', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const reply = deferred<CheckReply>()
    const store = scriptedStore(() => reply.promise)
    const { failover } = guard(store)
    const answer = failover.check(request(), due())
    expect(vi.getTimerCount()).toBe(1)
    reply.resolve(await store.answer(request()))
    await expect(answer).resolves.toMatchObject({ source: 'store' })
    expect(vi.getTimerCount()).toBe(0)
  })

  it("lets a door that keeps the deadline itself have the request's own, with no timer of the failover's", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const reply = deferred<CheckReply>()
    const plain = scriptedStore((r) => plain.answer(r))
    const given: { ops: readonly StoreOp[]; deadline: Deadline }[] = []
    const door = ownDoor((ops, deadline) => {
      given.push({ ops, deadline })
      return reply.promise.then((r) => [r])
    })
    const { failover } = guard(door)
    const deadline = due()
    const answer = failover.check(request(), deadline)
    expect(given).toHaveLength(1)
    expect(given[0]!.deadline).toBe(deadline)
    expect(given[0]!.ops).toEqual([{ op: 'check', request: request() }])
    expect(vi.getTimerCount()).toBe(0)
    reply.resolve(await plain.answer(request()))
    await expect(answer).resolves.toMatchObject({ source: 'store' })
  })

  it("records a door's own refusal at the deadline as a timeout", async () => {
    const door = ownDoor(() => Promise.reject(refused('queued')))
    const { failover, storeCalls } = guard(door)
    await expect(failover.check(request(), due())).resolves.toMatchObject({ source: 'local' })
    expect(storeCalls.map((e) => e.outcome)).toEqual(['timeout'])
  })

  it("gives a custom store's call the time left until the deadline, not a budget of its own", async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const store = scriptedStore(() => new Promise<CheckReply>(() => {}))
    const { failover } = guard(store)
    let settled = false
    const answer = failover.check(request(), deadlineIn(TIMEOUT_MS / 2)).finally(() => {
      settled = true
    })
    await vi.advanceTimersByTimeAsync(TIMEOUT_MS / 2 - 1)
    expect(settled).toBe(false)
    await vi.advanceTimersByTimeAsync(1)
    await expect(answer).resolves.toMatchObject({ source: 'local' })
  })
})

describe('Failover: cached answers', () => {
  it('answers from the cache with no store call, no timer and no breaker, even while the circuit is open', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    const store = Object.assign(scriptedStore(down), {
      cached: (r: CheckRequest): CheckReply | undefined => (r.keys[0] === 'hot' ? denied : undefined),
    })
    const denied: CheckReply = {
      admitted: false,
      buckets: [{ status: 'denied', taken: false, remaining: 0, retryAfterMs: 5, resetMs: 5, nextTokenMs: 5 }],
    }
    const { failover, clock, storeCalls } = guard(store)
    for (let i = 0; i < breakerOptions.failureThreshold; i++) await failover.check(request(), due())
    expect(failover.stats.circuit).toBe('open')

    const cached = failover.check(request('hot'), due())
    expect(vi.getTimerCount()).toBe(0)
    await expect(cached).resolves.toEqual({ reply: denied, policies: [policy], source: 'store' })
    expect(store.calls).toBe(breakerOptions.failureThreshold)
    expect(storeCalls).toHaveLength(breakerOptions.failureThreshold)
    expect(failover.stats).toEqual({ storeAnswers: 1, degradedAnswers: 3, storeErrors: 3, circuit: 'open' })

    // The cached answers did not take the probe: after the cooldown the store is tried again.
    clock.advance(breakerOptions.cooldownMs)
    for (let i = 0; i < 3; i++) await failover.check(request('hot'), due())
    store.behaviour = (r) => store.answer(r)
    await expect(failover.check(request(), due())).resolves.toMatchObject({ source: 'store' })
    expect(failover.stats.circuit).toBe('closed')
  })
})

describe('Failover: what counts as a store failure', () => {
  const reply: CheckReply = {
    admitted: true,
    buckets: [{ status: 'allowed', taken: true, remaining: 1, retryAfterMs: 0, resetMs: 1, nextTokenMs: 1 }],
  }
  const failures: [string, (r: CheckRequest) => Promise<CheckReply>, RegExp][] = [
    [
      'throws synchronously',
      () => {
        throw new Error('no socket')
      },
      /no socket/,
    ],
    ['rejects', () => Promise.reject(new Error('ECONNREFUSED')), /ECONNREFUSED/],
    ['rejects with a non-error', () => Promise.reject('just a string'), /just a string/],
    ['answers undefined', () => Promise.resolve(undefined as unknown as CheckReply), /not a reply/],
    ['answers null', () => Promise.resolve(null as unknown as CheckReply), /not a reply/],
    ['answers an empty object', () => Promise.resolve({} as CheckReply), /not a reply/],
    ['answers a non-boolean admitted', () => Promise.resolve({ ...reply, admitted: 'yes' } as unknown as CheckReply), /not a reply/],
    [
      'answers buckets that are not an array',
      () => Promise.resolve({ admitted: true, buckets: {} } as unknown as CheckReply),
      /not a reply/,
    ],
    ['answers too few buckets', () => Promise.resolve({ admitted: true, buckets: [] }), /not a reply/],
    ['answers too many buckets', () => Promise.resolve({ admitted: true, buckets: [reply.buckets[0]!, reply.buckets[0]!] }), /not a reply/],
  ]

  it.each(failures)('a store that %s has failed: the failure mode answers', async (_name, behaviour, reason) => {
    const { failover, storeCalls, logger } = guard(scriptedStore(behaviour))
    await expect(failover.check(request(), due())).resolves.toMatchObject({ source: 'local', reply: { admitted: true } })
    expect(storeCalls.map((e) => e.outcome)).toEqual(['error'])
    expect(failover.stats).toMatchObject({ storeAnswers: 0, degradedAnswers: 1, storeErrors: 1 })
    expect(logger.lines[0]?.object.reason).toMatch(reason)
  })

  it('a door whose check throws synchronously has failed', async () => {
    const door = ownDoor(() => {
      throw new Error('no socket')
    })
    const { failover } = guard(door)
    await expect(failover.check(request(), due())).resolves.toMatchObject({ source: 'local' })
    expect(failover.stats.storeErrors).toBe(1)
  })

  it('a reply with one bucket per key is a reply', async () => {
    const { failover } = guard(scriptedStore(() => Promise.resolve(reply)))
    await expect(failover.check(request(), due())).resolves.toEqual({ reply, policies: [policy], source: 'store' })
  })
})

describe('Failover: failure modes', () => {
  it("'local' answers from this replica's share of each policy, in buckets of its own", async () => {
    const { failover } = guard(scriptedStore(down), { replicas: 4 })
    const answers = []
    for (let i = 0; i < 4; i++) answers.push(await failover.check(request(), due()))
    const share = answers[0]!.policies[0]!
    expect(share).toMatchObject({ name: 'default', capacity: 3, refillPerSecond: 0.00025, intervalNs: policy.intervalNs * 4 })
    expect(answers.map((a) => [a.source, a.reply?.admitted, a.reply?.buckets[0]?.remaining])).toEqual([
      ['local', true, 2],
      ['local', true, 1],
      ['local', true, 0],
      ['local', false, 0],
    ])
    expect(failover.local.size).toBe(1)
  })

  it.each(['allow', 'deny'] as const)("'%s' answers with no bucket, and the request's own policies", async (mode) => {
    const { failover } = guard(scriptedStore(down), { mode })
    await expect(failover.check(request(), due())).resolves.toEqual({ reply: undefined, policies: [policy], source: mode })
    expect(failover.local.size).toBe(0)
  })
})

describe('localShare', () => {
  it('is the policy itself on a single replica', () => {
    expect(localShare(policy, 1, 1)).toBe(policy)
  })

  it('divides capacity (rounded up) and rate by the replicas, keeping the name and shadow flag', () => {
    const shadow = resolvePolicy({ capacity: 100, refillPerSecond: 30, name: 'api', shadow: true })
    expect(localShare(shadow, 3, 1)).toEqual({
      name: 'api',
      capacity: 34,
      refillPerSecond: 10,
      intervalNs: shadow.intervalNs * 3,
      windowSeconds: 4,
      shadow: true,
    })
  })

  it('never shrinks below the cost of the request, nor grows past the policy', () => {
    expect(localShare(policy, 4, 7).capacity).toBe(7)
    expect(localShare(policy, 4, 50).capacity).toBe(10)
  })
})

describe('Failover: the circuit breaker', () => {
  it('stops calling a failing store after the threshold, probes once per cooldown, and closes on success', async () => {
    const store = scriptedStore(down)
    const states: string[] = []
    const { failover, clock } = guard(store, { observer: { circuit: (event) => states.push(`${event.store}:${event.state}`) } })
    for (let i = 0; i < breakerOptions.failureThreshold; i++) await failover.check(request(), due())
    expect(failover.stats.circuit).toBe('open')
    for (let i = 0; i < 10; i++) await expect(failover.check(request(), due())).resolves.toMatchObject({ source: 'local' })
    expect(store.calls).toBe(3)

    clock.advance(breakerOptions.cooldownMs - 1)
    await failover.check(request(), due())
    expect(store.calls).toBe(3)
    clock.advance(1)
    await failover.check(request(), due()) // the probe fails: the next cooldown is twice as long
    expect(store.calls).toBe(4)
    expect(failover.stats.circuit).toBe('open')

    store.behaviour = (r) => store.answer(r)
    clock.advance(2 * breakerOptions.cooldownMs - 1)
    await failover.check(request(), due())
    expect(store.calls).toBe(4)
    clock.advance(1)
    await expect(failover.check(request(), due())).resolves.toMatchObject({ source: 'store' })
    expect(failover.stats).toEqual({ storeAnswers: 1, degradedAnswers: 16, storeErrors: 4, circuit: 'closed' })
    // Every transition told to the observer, after the state it starts in.
    expect(states).toEqual([
      'scripted:closed',
      'scripted:open',
      'scripted:half-open',
      'scripted:open',
      'scripted:half-open',
      'scripted:closed',
    ])
  })

  it('sends only the probe while it is in flight; concurrent checks get the failure mode', async () => {
    const store = scriptedStore(down)
    const { failover, clock } = guard(store)
    for (let i = 0; i < breakerOptions.failureThreshold; i++) await failover.check(request(), due())
    clock.advance(breakerOptions.cooldownMs)
    const probe = deferred<CheckReply>()
    store.behaviour = () => probe.promise
    const probing = failover.check(request(), due())
    expect(failover.stats.circuit).toBe('half-open')
    const others = await Promise.all([failover.check(request('a'), due()), failover.check(request('b'), due())])
    expect(others.map((o) => o.source)).toEqual(['local', 'local'])
    expect(store.calls).toBe(4)
    probe.resolve(await store.answer(request()))
    await expect(probing).resolves.toMatchObject({ source: 'store' })
    expect(failover.stats.circuit).toBe('closed')
  })
})

describe('Failover: a circuit breaker per node', () => {
  /** A door onto two nodes, told apart by a key's first letter; node `a` is down. */
  function twoNodes() {
    const buckets = new MemoryStore({ clock: () => 0 })
    const calls = { a: 0, b: 0 }
    const node = (r: { readonly keys: readonly string[] }): 'a' | 'b' => (r.keys[0]!.startsWith('a') ? 'a' : 'b')
    const door: StoreDoor = {
      ...ownDoor((ops) =>
        Promise.all(
          ops.map((op) => {
            calls[node(op.request)]++
            return node(op.request) === 'a' ? down() : buckets.check(op.request as CheckRequest)
          }),
        ),
      ),
      nodeOf: node,
    }
    return { door, calls }
  }

  it("opens a dead node's circuit only: keys on the other nodes keep the store's answers", async () => {
    const { door, calls } = twoNodes()
    const states: string[] = []
    const { failover, logger } = guard(door, { observer: { circuit: (event) => states.push(event.state) } })
    for (let i = 0; i < 10; i++) {
      await expect(failover.check(request(`a${i}`), due())).resolves.toMatchObject({ source: 'local' })
      await expect(failover.check(request(`b${i}`), due())).resolves.toMatchObject({ source: 'store' })
    }
    expect(calls).toEqual({ a: breakerOptions.failureThreshold, b: 10 })
    // The store's state is its worst node's; the warning names the node.
    expect(failover.stats).toMatchObject({ circuit: 'open', storeAnswers: 10, degradedAnswers: 10 })
    expect(states).toEqual(['closed', 'open'])
    expect(logger.lines[0]!.object).toMatchObject({ node: 'a', circuit: 'closed' })
  })

  it("probes a dead node per its own cooldown, and forgets a node no call asks for: the store's state closes", async () => {
    const { door, calls } = twoNodes()
    const states: string[] = []
    const { failover, clock } = guard(door, { observer: { circuit: (event) => states.push(event.state) } })
    for (let i = 0; i < breakerOptions.failureThreshold; i++) await failover.check(request('a'), due())
    clock.advance(breakerOptions.cooldownMs)
    await failover.check(request('a'), due()) // the probe, failed
    expect(calls.a).toBe(breakerOptions.failureThreshold + 1)
    expect(states).toEqual(['closed', 'open', 'half-open', 'open'])
    // Node a's slots moved elsewhere: only b is asked from now on.
    clock.advance(breakerOptions.maxCooldownMs)
    await failover.check(request('b'), due())
    expect(failover.stats.circuit).toBe('open')
    clock.advance(1_001)
    await expect(failover.check(request('b'), due())).resolves.toMatchObject({ source: 'store' })
    expect(failover.stats.circuit).toBe('closed')
    expect(states.at(-1)).toBe('closed')
  })
})

describe('Failover: the degraded warning', () => {
  it('is logged at most once per 10 s, with its code, the circuit, the reason and how many were suppressed', async () => {
    // A cooldown longer than the test: once open, the circuit sends no probe whose error would be the reason.
    const { failover, clock, logger } = guard(scriptedStore(down), {
      circuitBreaker: { ...breakerOptions, cooldownMs: 60_000, maxCooldownMs: 60_000 },
    })
    for (let i = 0; i < 5; i++) {
      await failover.check(request(), due())
      clock.advance(1_000)
    }
    expect(logger.lines).toEqual([
      {
        object: {
          code: 'SLUICE_STORE_UNAVAILABLE',
          store: 'scripted',
          failureMode: 'local',
          circuit: 'closed',
          reason: 'connection refused',
          timeoutMs: TIMEOUT_MS,
          degradedAnswers: 1,
          suppressed: 0,
        },
        message: "@sluice: the scripted store is unavailable (connection refused); answering in 'local' failure mode (timeoutMs: 100 ms)",
      },
    ])
    clock.advance(5_000) // 10 s after the first warning
    await failover.check(request(), due())
    expect(logger.lines).toHaveLength(2)
    expect(logger.lines[1]!.object).toMatchObject({ circuit: 'open', reason: 'circuit open', degradedAnswers: 6, suppressed: 4 })
  })

  it('never fails a check when the logger throws', async () => {
    const { failover } = guard(scriptedStore(down), {
      logger: {
        warn() {
          throw new Error('the log sink is gone')
        },
      },
    })
    await expect(failover.check(request(), due())).resolves.toMatchObject({ source: 'local' })
  })
})

describe("Failover: the store's cause and the start-up line", () => {
  /** A door whose client's last error is `cause`, and whose first signal the test sends. */
  function causedDoor(cause: string | undefined) {
    let listener: ((signal: StoreSignal) => void) | undefined
    const door: StoreDoor = {
      ...ownDoor(() => Promise.reject(refused('queued'))),
      cause: () => cause,
      onFirstSignal: (l) => {
        listener = l
      },
    }
    return { door, signal: (s: StoreSignal) => listener?.(s), listening: () => listener !== undefined }
  }

  it("names the client's cause beside the refusal, and the budget as configured", async () => {
    const { door } = causedDoor('NOAUTH Authentication required.')
    const { failover, logger } = guard(door)
    await failover.check(request(), due())
    expect(logger.lines[0]!.object).toMatchObject({ cause: 'NOAUTH Authentication required.', timeoutMs: TIMEOUT_MS })
    expect(logger.lines[0]!.message).toBe(
      "@sluice: the door store is unavailable (NOAUTH Authentication required.; the store call was still waiting to be sent when its deadline passed; it was not sent (queued)); answering in 'local' failure mode (timeoutMs: 100 ms)",
    )
  })

  it('logs one start-up line through info, when the logger has one; an info that throws is ignored', () => {
    const infos: string[] = []
    const withInfo = causedDoor(undefined)
    guard(withInfo.door, { logger: Object.assign(recordingLogger(), { info: (_o: object, m: string) => void infos.push(m) }) })
    withInfo.signal({ reached: false, cause: 'connect ECONNREFUSED 127.0.0.1:1' })
    expect(infos).toEqual([
      "@sluice: the door store is failing (connect ECONNREFUSED 127.0.0.1:1); until it is reached, checks are answered in 'local' failure mode, each after at most 100 ms (timeoutMs)",
    ])
    // A warn-only logger (process warnings) does not even listen.
    const warnOnly = causedDoor(undefined)
    guard(warnOnly.door)
    expect(warnOnly.listening()).toBe(false)
    const throwing = causedDoor(undefined)
    const info = (): void => {
      throw new Error('the log sink is gone')
    }
    guard(throwing.door, { logger: Object.assign(recordingLogger(), { info }) })
    expect(() => throwing.signal({ reached: true })).not.toThrow()
  })
})
