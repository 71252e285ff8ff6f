import calculateSlot from 'cluster-key-slot'
import { ErrorCodes, SluiceError, SluiceOptionError } from './errors.js'
import { pipe } from './sink.js'
import { adapterOf } from './stores/clients/index.js'
import { MemoryStore } from './stores/memory-store.js'
import { connectionOf } from './stores/redis-connection.js'
import { RedisStore } from './stores/redis-store.js'
import { withTimeout } from './timeout.js'
import type { CheckReply, CheckRequest, Deadline, LeaseOp, Sink, Store, StoreCaps, StoreDoor, StoreOp, StoreSignal } from './types.js'

/**
 * The one door into a store. Each kind of store comes in once, here, where options are
 * resolved, and declares what it can do; past this point nothing asks what a store is.
 *
 *   MemoryStore  in process: cannot fail, so the failover passes its calls straight through
 *   RedisStore   keeps the deadline itself (one timer for all its calls, a deadline in Redis time, a deny
 *                cache in front), so the door adds no timer
 *   a custom     only the public `Store`: `check` under a timer at the deadline, and `cached` and
 *   Store        `reset` if it has them; it cannot settle (the public `Store` stays small)
 *
 * An operation kind of its own (a settle; a lease, issue 22) is one more `op` in `StoreOp`, one
 * more case in each door's `one`, and a capability in `StoreCaps` that `assertCapabilities`
 * asks for at registration.
 */

const CAPS: Readonly<Record<'memory' | 'redis' | 'custom', StoreCaps>> = Object.freeze({
  memory: Object.freeze({ canFail: false, settles: true, leases: true }),
  redis: Object.freeze({ canFail: true, settles: true, leases: true }),
  custom: Object.freeze({ canFail: true, settles: false, leases: false }),
})

/** The request a check op sends: a peek is a dry run. */
function requestOf(op: Extract<StoreOp, { op: 'check' | 'peek' }>): CheckRequest {
  return op.op === 'peek' && op.request.dryRun !== true ? { ...op.request, dryRun: true } : op.request
}

function cannot(kind: string, what: string): SluiceError {
  return new SluiceError(ErrorCodes.STORE_UNAVAILABLE, `@sluice: the ${kind} store cannot ${what}`)
}

function cannotReset(kind: string): Promise<never> {
  return Promise.reject(cannot(kind, 'reset buckets'))
}

function memoryDoor(store: MemoryStore): StoreDoor {
  return Object.freeze({
    kind: store.kind,
    store,
    caps: CAPS.memory,
    run: (ops: readonly StoreOp[]) =>
      Promise.resolve(ops.map((op) => (op.op === 'settle' ? store.settleSync(op.request) : store.checkSync(requestOf(op))))),
    check(request: CheckRequest, _deadline: Deadline, sink: Sink<CheckReply>) {
      let reply: CheckReply
      try {
        reply = store.checkSync(request)
      } catch (error) {
        sink.reject(error)
        return
      }
      sink.resolve(reply)
    },
    runLeases: (ops: readonly LeaseOp[]) => Promise.resolve(store.runLeasesSync(ops)),
    reset(keys: readonly string[]) {
      store.forget(keys)
      return Promise.resolve()
    },
    nodeOf: () => store.kind,
  })
}

function redisDoor(store: RedisStore): StoreDoor {
  // The store's connection, the one state every store on its client shares (and its error listener).
  const client = adapterOf(store.client)
  const connection = connectionOf(client)
  // A check's node is its first key's slot owner, as the batcher's lanes have it (all of one
  // client's keys share a hash tag): a breaker per master.
  const kind = store.kind
  const nodeOf = client.isCluster
    ? // A check of in-flight limits alone has no bucket: its first slot set names the node.
      (request: { readonly keys: readonly string[]; readonly slots?: readonly { readonly key: string }[] }) =>
        client.nodeOfSlot(calculateSlot(request.keys[0] ?? request.slots![0]!.key))
    : () => kind
  const one = (op: StoreOp, deadline: Deadline): Promise<CheckReply> =>
    op.op === 'settle' ? store.settleWithin(op.request, deadline) : store.checkWithin(requestOf(op), deadline)
  return Object.freeze({
    kind: store.kind,
    store,
    caps: CAPS.redis,
    cached: (request: CheckRequest) => store.cached(request),
    run: (ops: readonly StoreOp[], deadline: Deadline) =>
      ops.length === 1 ? one(ops[0]!, deadline).then((reply) => [reply]) : Promise.all(ops.map((op) => one(op, deadline))),
    check: (request: CheckRequest, deadline: Deadline, sink: Sink<CheckReply>) => store.checkInto(request, deadline, sink),
    runLeases: (ops: readonly LeaseOp[], deadline: Deadline) => store.leasesWithin(ops, deadline),
    reset: (keys: readonly string[], deadline: Deadline) => store.resetWithin(keys, deadline),
    nodeOf,
    cause: () => connection.cause,
    onFirstSignal: (listener: (signal: StoreSignal) => void) => connection.onFirstSignal(listener),
  })
}

function customDoor(store: Store): StoreDoor {
  // A store's own methods, called as its methods (`this` is the store), at once; a throw is a
  // rejection like any other failure.
  const one = async (op: StoreOp): Promise<CheckReply> => {
    if (op.op === 'settle') throw cannot(store.kind, 'settle a check afterwards')
    return store.check(requestOf(op))
  }
  const resetNow = async (keys: readonly string[]): Promise<void> => store.reset!(keys)
  return Object.freeze({
    kind: store.kind,
    store,
    caps: CAPS.custom,
    ...(store.cached === undefined ? {} : { cached: (request: CheckRequest) => store.cached!(request) }),
    run: (ops: readonly StoreOp[], deadline: Deadline) => withTimeout(Promise.all(ops.map(one)), deadline),
    check: (request: CheckRequest, deadline: Deadline, sink: Sink<CheckReply>) =>
      pipe(withTimeout(one({ op: 'check', request }), deadline), sink),
    reset: (keys: readonly string[], deadline: Deadline) =>
      store.reset === undefined ? cannotReset(store.kind) : withTimeout(resetNow(keys), deadline),
    nodeOf: () => store.kind,
  })
}

/** The door into `store`: a MemoryStore, a RedisStore, or any other public `Store`. */
export function doorOf(store: Store): StoreDoor {
  if (store instanceof MemoryStore) return memoryDoor(store)
  if (store instanceof RedisStore) return redisDoor(store)
  return customDoor(store)
}

/** What a capability is called in an error. */
const NEEDS: Readonly<Record<Exclude<keyof StoreCaps, 'canFail'>, string>> = {
  settles: 'can settle a check afterwards (settle)',
  leases: 'can hold in-flight leases (acquire, release, renew)',
}

/**
 * Refuse, at registration, a store that lacks a capability a policy needs: a coded option error
 * (`ERR_SLUICE_INVALID_OPTION`) naming `option`, the option that asked for it.
 */
export function assertCapabilities(door: StoreDoor, needs: readonly (keyof typeof NEEDS)[], option: string): void {
  for (const need of needs) {
    if (!door.caps[need]) {
      throw new SluiceOptionError(
        ErrorCodes.INVALID_OPTION,
        option,
        door.kind,
        `expected a store that ${NEEDS[need]}; the ${door.kind} store cannot`,
      )
    }
  }
}
