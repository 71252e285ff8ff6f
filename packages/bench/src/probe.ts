import { get } from 'node:http'
import { HeaderNames } from '@sluice/core/internal'
import { KEY_HEADER } from './targets/catalog.js'

/** One response of a target, taken outside the measured runs: what its clients were sent. */
export interface ProbedResponse {
  readonly status: number
  /** The rate-limit headers it carried (lower-case names, sorted). */
  readonly rateLimitHeaders: readonly string[]
  readonly contentType: string | undefined
  /** Status line, headers and body, in bytes, on a connection of its own (so `Connection: close`). */
  readonly bytes: number
  readonly body: string
}

const RATE_LIMIT_HEADERS = new Set<string>(Object.values(HeaderNames))
const PROBE_TIMEOUT_MS = 5_000

/** One GET of `url` as the client `key`. */
export function probe(url: string, key: string): Promise<ProbedResponse> {
  return new Promise((resolve, reject) => {
    const request = get(url, { headers: { [KEY_HEADER]: key }, agent: false, timeout: PROBE_TIMEOUT_MS }, (response) => {
      const chunks: Buffer[] = []
      response.on('data', (chunk: Buffer) => chunks.push(chunk))
      response.on('error', reject)
      response.on('end', () => {
        const body = Buffer.concat(chunks)
        const raw = response.rawHeaders
        let bytes = `HTTP/1.1 ${response.statusCode} ${response.statusMessage}\r\n\r\n`.length + body.length
        for (let i = 0; i < raw.length; i += 2) bytes += Buffer.byteLength(`${raw[i]}: ${raw[i + 1]}\r\n`)
        resolve({
          status: response.statusCode ?? 0,
          rateLimitHeaders: Object.keys(response.headers)
            .filter((name) => RATE_LIMIT_HEADERS.has(name))
            .sort(),
          contentType: response.headers['content-type'],
          bytes,
          body: body.toString(),
        })
      })
    })
    request.on('timeout', () => request.destroy(new Error(`no answer from ${url} within ${PROBE_TIMEOUT_MS} ms`)))
    request.on('error', reject)
  })
}
