import { DEFAULT_SOURCE, freshClients, loopbackTarget } from './clients.js'
import { driveAutocannon } from './drivers/autocannon.js'
import { driveHttp } from './drivers/http.js'
import { untilBucketFull } from './full-bucket.js'
import { collectInflightLog } from './inflight-log.js'
import { INFLIGHT_PATH, type KeyMode, STREAM_PATH } from './policy.js'
import { buildReport } from './report.js'
import { Recorder } from './sample.js'
import {
  BURST_CONNECTIONS,
  INFLIGHT_CLIENTS,
  INFLIGHT_CONNECTIONS,
  MANY_CLIENTS,
  MANY_CLIENTS_CONNECTIONS,
  SCENARIO_NAMES,
  type ScenarioName,
  SETTLE_CONNECTIONS,
  STEADY_SHARE,
  type StoreMode,
} from './scenarios.js'
import type { Load, Report } from './types.js'

export interface LoadTestOptions {
  /** The gateway, on 127.0.0.0/8. */
  readonly gatewayUrl: string
  readonly scenario: ScenarioName
  /** The replicas' policy: the bound is computed from it. */
  readonly capacity: number
  readonly refillPerSecond: number
  readonly durationSeconds: number
  /** How the replicas key their buckets. @default 'ip' */
  readonly keyMode?: KeyMode
  /** What the replicas run, for the report's wording. @default 'shared' */
  readonly mode?: StoreMode
  /** Clients in the many-clients scenario. @default 6 */
  readonly clients?: number
  /** Stop after this many responses, whatever the duration. @default 250_000 */
  readonly maxRequests?: number
  readonly signal?: AbortSignal
  /**
   * The replicas' own addresses (`http://host:port`), never the gateway's: the inflight scenario
   * reads each one's log of the intervals it held. Without them that scenario cannot be judged.
   */
  readonly replicaUrls?: readonly string[]
  /** Called about once a second while the load runs. */
  readonly onProgress?: (progress: Progress) => void
}

export interface Progress {
  readonly scenario: ScenarioName
  readonly elapsedSeconds: number
  readonly durationSeconds: number
  readonly requests: number
  readonly admitted: number
  readonly limited: number
}

const MAX_DURATION_SECONDS = 300

interface Plan extends Load {
  readonly driver: 'autocannon' | 'http'
  /** The clients connect from 127.0.0.1, keyed by IP: their bucket may not start full. */
  readonly sharedSource: boolean
  /** The path asked for, when not the gateway URL's own: the settle scenario's streamed route. */
  readonly path?: string
}

/** The steady client's whole requests per second: under the refill rate, never above capacity. */
export function steadyRate(capacity: number, refillPerSecond: number): number {
  const perSecond = Math.min(capacity, Math.floor(refillPerSecond * STEADY_SHARE))
  if (perSecond < 1) throw new Error(`the steady scenario sends whole requests per second: it needs refillPerSecond ≥ ${1 / STEADY_SHARE}`)
  return perSecond
}

function plan(o: LoadTestOptions, keyMode: KeyMode): Plan {
  const single = keyMode === 'api-key' ? freshClients(1, keyMode) : [DEFAULT_SOURCE]
  switch (o.scenario) {
    case 'burst':
      return {
        clients: single,
        connectionsPerClient: BURST_CONNECTIONS,
        ratePerSecond: undefined,
        driver: 'autocannon',
        sharedSource: keyMode === 'ip',
      }
    case 'steady':
      return {
        clients: single,
        connectionsPerClient: 1,
        ratePerSecond: steadyRate(o.capacity, o.refillPerSecond),
        driver: 'autocannon',
        sharedSource: keyMode === 'ip',
      }
    case 'settle':
      // node:http, which reads each streamed answer to count its tokens; a fresh client, whose
      // bucket starts full (the route shares the client's bucket with `/`).
      return {
        clients: freshClients(1, keyMode),
        connectionsPerClient: SETTLE_CONNECTIONS,
        ratePerSecond: undefined,
        driver: 'http',
        sharedSource: false,
        path: STREAM_PATH,
      }
    case 'inflight':
      // Fresh clients on node:http, each with more connections than the slow route's in-flight limit.
      return {
        clients: freshClients(INFLIGHT_CLIENTS, keyMode),
        connectionsPerClient: INFLIGHT_CONNECTIONS,
        ratePerSecond: undefined,
        driver: 'http',
        sharedSource: false,
        path: INFLIGHT_PATH,
      }
    case 'many-clients':
      // autocannon cannot pick a source address; distinct IPs need node:http agents.
      return {
        clients: freshClients(o.clients ?? MANY_CLIENTS, keyMode),
        connectionsPerClient: MANY_CLIENTS_CONNECTIONS,
        ratePerSecond: undefined,
        driver: keyMode === 'ip' ? 'http' : 'autocannon',
        sharedSource: false,
      }
  }
}

function validate(o: LoadTestOptions): void {
  const problems: string[] = []
  if (!SCENARIO_NAMES.includes(o.scenario)) problems.push(`scenario must be one of ${SCENARIO_NAMES.join(', ')}`)
  if (!Number.isInteger(o.capacity) || o.capacity < 1) problems.push('capacity must be a whole number ≥ 1')
  if (!(o.refillPerSecond > 0)) problems.push('refillPerSecond must be above 0')
  if (!(o.durationSeconds > 0 && o.durationSeconds <= MAX_DURATION_SECONDS))
    problems.push(`durationSeconds must be above 0 and at most ${MAX_DURATION_SECONDS}`)
  if (o.clients !== undefined && !(Number.isInteger(o.clients) && o.clients >= 1 && o.clients <= 240))
    problems.push('clients must be a whole number from 1 to 240')
  if (problems.length > 0) throw new TypeError(`runLoadTest: ${problems.join('; ')}`)
}

/** Run one scenario against the gateway and judge it against the token-bucket bound. */
export async function runLoadTest(options: LoadTestOptions): Promise<Report> {
  validate(options)
  const url = loopbackTarget(options.gatewayUrl)
  const keyMode = options.keyMode ?? 'ip'
  const load = plan(options, keyMode)
  const recorder = new Recorder(options.maxRequests ?? 250_000)
  const startedAt = new Date()
  if (load.sharedSource) await untilBucketFull(url, options.capacity, recorder, 0, options.signal)

  const began = performance.now()
  const ticker = setInterval(() => {
    const elapsedSeconds = (performance.now() - began) / 1000
    // The last responses trickle in after the duration; the table follows right after.
    if (elapsedSeconds > options.durationSeconds + 0.5) return
    options.onProgress?.({
      scenario: options.scenario,
      elapsedSeconds,
      durationSeconds: options.durationSeconds,
      requests: recorder.samples.length,
      admitted: recorder.admitted,
      limited: recorder.limited,
    })
  }, 1_000)
  ticker.unref()
  try {
    const common = {
      clients: load.clients,
      connectionsPerClient: load.connectionsPerClient,
      durationSeconds: options.durationSeconds,
      recorder,
      signal: options.signal,
    }
    // A paced run sends its exact count: autocannon sends each second's requests at once, and a
    // last batch on the duration's boundary would land in a second of its own.
    const amount = load.ratePerSecond === undefined ? undefined : Math.round(load.ratePerSecond * options.durationSeconds)
    if (load.driver === 'http') {
      const target = load.path === undefined ? url : new URL(load.path, url)
      await driveHttp({ ...common, url: target, countTokens: load.path === STREAM_PATH })
    } else await driveAutocannon({ ...common, url: url.href, overallRate: load.ratePerSecond, amount })
  } finally {
    clearInterval(ticker)
  }
  const admitted = recorder.samples.filter((s) => s.status === 200).length
  const inflightLog =
    options.scenario === 'inflight' ? await collectInflightLog(options.replicaUrls ?? [], load.clients, admitted) : undefined
  return buildReport({
    scenario: options.scenario,
    mode: options.mode ?? 'shared',
    keyMode,
    gatewayUrl: options.gatewayUrl,
    capacity: options.capacity,
    refillPerSecond: options.refillPerSecond,
    load,
    durationSeconds: options.durationSeconds,
    startedAt,
    samples: recorder.samples,
    ...(inflightLog === undefined ? {} : { inflightLog }),
  })
}
