import { Agent, request } from 'node:http'
import { API_KEY_HEADER, STREAM_TOKEN } from '../policy.js'
import { type Recorder, type SampleHeaders, sampleHeaders } from '../sample.js'
import type { ClientIdentity } from '../types.js'

export interface HttpLoad {
  readonly url: URL
  /** Each client may connect from its own source address (`localAddress`). */
  readonly clients: readonly ClientIdentity[]
  readonly connectionsPerClient: number
  readonly durationSeconds: number
  readonly recorder: Recorder
  readonly signal?: AbortSignal
  /** Count each answer's body in `STREAM_TOKEN`s (the settle scenario). */
  readonly countTokens?: boolean
}

const REQUEST_TIMEOUT_MS = 5_000

function once(agent: Agent, load: HttpLoad, client: number): Promise<void> {
  const identity = load.clients[client]!
  const headers = identity.apiKey === undefined ? {} : { [API_KEY_HEADER]: identity.apiKey }
  const sentAt = performance.now()
  return new Promise((resolve) => {
    let done = false
    let bytes = 0
    const finish = (status: number, headers: SampleHeaders | undefined): void => {
      if (done) return
      done = true
      const tokens = load.countTokens === true && status === 200 ? Math.floor(bytes / STREAM_TOKEN.length) : undefined
      load.recorder.record(client, sentAt, performance.now(), status, headers, tokens)
      resolve()
    }
    const req = request(
      { agent, host: load.url.hostname, port: load.url.port, path: load.url.pathname, headers, timeout: REQUEST_TIMEOUT_MS },
      (res) => {
        const headers = sampleHeaders((name) => {
          const value = res.headers[name]
          return Array.isArray(value) ? value[0] : value
        })
        if (load.countTokens === true) res.on('data', (chunk: Buffer) => (bytes += chunk.length))
        else res.resume()
        res.once('end', () => finish(res.statusCode ?? 0, headers))
        res.once('error', () => finish(0, undefined))
      },
    )
    req.once('timeout', () => req.destroy(new Error('request timed out')))
    req.once('error', () => finish(0, undefined))
    req.end()
  })
}

/**
 * Closed-loop clients on node:http: each of a client's connections sends its next request when
 * the previous one is answered, until the duration, the recorder's cap or an abort ends it.
 * Unlike autocannon, each client can have a source address of its own.
 */
export async function driveHttp(load: HttpLoad): Promise<void> {
  const deadline = performance.now() + load.durationSeconds * 1000
  const agents = load.clients.map(
    (c) => new Agent({ keepAlive: true, maxSockets: load.connectionsPerClient, localAddress: c.localAddress }),
  )
  const running = (): boolean => performance.now() < deadline && load.signal?.aborted !== true && !load.recorder.full
  const loop = async (client: number): Promise<void> => {
    while (running()) await once(agents[client]!, load, client)
  }
  try {
    await Promise.all(agents.flatMap((_, client) => Array.from({ length: load.connectionsPerClient }, () => loop(client))))
  } finally {
    for (const agent of agents) agent.destroy()
  }
}
