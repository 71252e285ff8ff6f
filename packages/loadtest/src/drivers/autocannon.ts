import autocannon from 'autocannon'
import { API_KEY_HEADER } from '../policy.js'
import { type Recorder, type SampleHeaders, sampleHeaders } from '../sample.js'
import type { ClientIdentity } from '../types.js'

export interface AutocannonLoad {
  readonly url: string
  /** Every client connects from the default source address; API keys tell them apart. */
  readonly clients: readonly ClientIdentity[]
  readonly connectionsPerClient: number
  readonly durationSeconds: number
  /** Requests per second over all connections; undefined: as fast as possible. */
  readonly overallRate?: number
  /** Stop after this many requests instead of at the end of the duration. */
  readonly amount?: number
  readonly recorder: Recorder
  readonly signal?: AbortSignal
}

/** autocannon hands 'headers' the parser's info (a flat [name, value, …] list), not what its types say. */
function headerValue(info: unknown, name: string): string | undefined {
  const list = (info as { headers?: unknown } | null)?.headers
  if (!Array.isArray(list)) return undefined
  for (let i = 0; i + 1 < list.length; i += 2) {
    if (String(list[i]).toLowerCase() === name) return String(list[i + 1])
  }
  return undefined
}

/** Run autocannon, recording every response with the replica that answered it. */
export function driveAutocannon(load: AutocannonLoad): Promise<void> {
  const { clients, connectionsPerClient, recorder } = load
  // autocannon creates its clients in order; hand them identities in that order.
  let created = 0
  return new Promise<void>((resolve, reject) => {
    let deadline: NodeJS.Timeout | undefined
    const instance = autocannon(
      {
        url: load.url,
        connections: clients.length * connectionsPerClient,
        duration: load.durationSeconds,
        ...(load.overallRate === undefined ? {} : { overallRate: load.overallRate }),
        ...(load.amount === undefined ? {} : { amount: load.amount }),
        timeout: 5,
        setupClient(client) {
          const index = Math.min(clients.length - 1, Math.floor(created++ / connectionsPerClient))
          const apiKey = clients[index]!.apiKey
          if (apiKey !== undefined) client.setHeaders({ [API_KEY_HEADER]: apiKey })
          let headers: SampleHeaders | undefined
          client.on('headers', (info: unknown) => {
            headers = sampleHeaders((name) => headerValue(info, name))
          })
          client.on('response', (status: number, _bytes: number, responseTime: number) => {
            const now = performance.now()
            recorder.record(index, now - responseTime, now, status, headers)
            if (recorder.full) instance.stop()
          })
        },
      },
      (error) => {
        clearTimeout(deadline)
        if (error) reject(error)
        else resolve()
      },
    )
    // With `amount`, autocannon ignores the duration; a hung gateway must not hold the run.
    deadline = setTimeout(() => instance.stop(), (load.durationSeconds + 5) * 1000)
    load.signal?.addEventListener('abort', () => instance.stop(), { once: true })
  })
}
