import { decimal, parseFlags, UsageError } from '@sluice/harness'
import { DEFAULT_POLICY, KEY_MODES, type KeyMode } from './policy.js'
import { SCENARIO_NAMES, type ScenarioName } from './scenarios.js'

/**
 * The load-test CLI's settings: flags first, then the environment (how docker-compose passes
 * them). RATE_CAPACITY, RATE_REFILL_PER_SECOND and KEY_MODE are the names the replicas read, so
 * compose can give both the same values from one place.
 */
export const LOADTEST_ENV = {
  TARGET_URL: 'the gateway, http:// on 127.0.0.0/8',
  RATE_CAPACITY: "the replicas' bucket capacity",
  RATE_REFILL_PER_SECOND: "the replicas' refill rate per second",
  KEY_MODE: `how the replicas key buckets: ${KEY_MODES.join(' | ')}`,
  LOADTEST_SCENARIOS: `comma-separated: ${SCENARIO_NAMES.join(', ')}`,
  LOADTEST_DURATION_SECONDS: 'seconds per scenario',
  LOADTEST_REPORT_DIR: 'where the HTML report is written',
  LOADTEST_REPLICA_URLS: "comma-separated: the replicas' own addresses, where the inflight scenario reads their logs",
} as const

/** The demo's gateway and replica policy, so a bare run against `pnpm demo --keep` needs no flags. */
export const LOADTEST_DEFAULTS = Object.freeze({
  url: 'http://127.0.0.1:8080',
  ...DEFAULT_POLICY,
  scenarios: SCENARIO_NAMES,
  durationSeconds: 4,
  reportDir: 'reports',
})

export interface CliOptions {
  readonly url: string
  readonly capacity: number
  readonly refillPerSecond: number
  readonly keyMode: KeyMode
  readonly scenarios: readonly ScenarioName[]
  readonly durationSeconds: number
  readonly reportDir: string
  /** The replicas' own addresses (the inflight scenario's logs); none: that scenario fails, unjudged. */
  readonly replicaUrls: readonly string[]
  readonly json: boolean
  readonly help: boolean
}

export const USAGE = `Usage: node packages/loadtest/dist/cli.js [options]

Runs load scenarios against a Sluice gateway and judges each against the token-bucket bound.

  --url <url>           gateway on 127.0.0.0/8            env TARGET_URL              default ${LOADTEST_DEFAULTS.url}
  --capacity <n>        the replicas' capacity             env RATE_CAPACITY           default ${LOADTEST_DEFAULTS.capacity}
  --refill <n>          the replicas' refill per second    env RATE_REFILL_PER_SECOND  default ${LOADTEST_DEFAULTS.refillPerSecond}
  --key-mode <mode>     ${KEY_MODES.join(' | ')}                      env KEY_MODE                default ${LOADTEST_DEFAULTS.keyMode}
  --scenario <list>     ${SCENARIO_NAMES.join(',')}  env LOADTEST_SCENARIOS  default all
  --duration <s>        seconds per scenario               env LOADTEST_DURATION_SECONDS default ${LOADTEST_DEFAULTS.durationSeconds}
  --report-dir <dir>    HTML report folder                 env LOADTEST_REPORT_DIR     default ${LOADTEST_DEFAULTS.reportDir}
  --replicas <list>     the replicas' own http:// URLs     env LOADTEST_REPLICA_URLS   for the inflight scenario's logs
  --json                print one JSON object on stdout (progress goes to stderr)
  --help`

type Env = Readonly<Record<string, string | undefined>>

function positive(value: string, what: string, whole: boolean): number {
  const n = decimal(value)
  if (!(n > 0) || (whole && !Number.isInteger(n)))
    throw new UsageError(`${what}: expected a ${whole ? 'whole ' : ''}number above 0, got ${JSON.stringify(value)}`)
  return n
}

export function parseCli(argv: readonly string[], env: Env = process.env): CliOptions {
  const values = parseFlags(argv, {
    url: { type: 'string' },
    capacity: { type: 'string' },
    refill: { type: 'string' },
    'key-mode': { type: 'string' },
    scenario: { type: 'string' },
    duration: { type: 'string' },
    'report-dir': { type: 'string' },
    replicas: { type: 'string' },
    json: { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  })
  const pick = (flag: string | undefined, name: keyof typeof LOADTEST_ENV): string | undefined => flag ?? (env[name]?.trim() || undefined)
  const d = LOADTEST_DEFAULTS

  const keyMode = pick(values['key-mode'], 'KEY_MODE') ?? d.keyMode
  if (!KEY_MODES.includes(keyMode as KeyMode))
    throw new UsageError(`key mode: expected one of ${KEY_MODES.join(', ')}, got ${JSON.stringify(keyMode)}`)
  const scenarioList = pick(values.scenario, 'LOADTEST_SCENARIOS')
  const scenarios = scenarioList === undefined ? d.scenarios : scenarioList.split(',').map((s) => s.trim())
  const unknown = scenarios.filter((s) => !SCENARIO_NAMES.includes(s as ScenarioName))
  if (unknown.length > 0 || scenarios.length === 0)
    throw new UsageError(`scenario: expected some of ${SCENARIO_NAMES.join(', ')}, got ${JSON.stringify(scenarioList)}`)
  const capacity = pick(values.capacity, 'RATE_CAPACITY')
  const refill = pick(values.refill, 'RATE_REFILL_PER_SECOND')
  const duration = pick(values.duration, 'LOADTEST_DURATION_SECONDS')

  return {
    url: pick(values.url, 'TARGET_URL') ?? d.url,
    capacity: capacity === undefined ? d.capacity : positive(capacity, 'capacity', true),
    refillPerSecond: refill === undefined ? d.refillPerSecond : positive(refill, 'refill', false),
    keyMode: keyMode as KeyMode,
    scenarios: scenarios as ScenarioName[],
    durationSeconds: duration === undefined ? d.durationSeconds : positive(duration, 'duration', false),
    reportDir: pick(values['report-dir'], 'LOADTEST_REPORT_DIR') ?? d.reportDir,
    replicaUrls: (pick(values.replicas, 'LOADTEST_REPLICA_URLS') ?? '')
      .split(',')
      .map((u) => u.trim())
      .filter((u) => u !== ''),
    json: values.json === true,
    help: values.help === true,
  }
}
