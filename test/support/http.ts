import { once } from 'node:events'
import { request, type Server } from 'node:http'
import { type AddressInfo, connect } from 'node:net'

// The HTTP client every package's tests use against a real server, and the one way they put an
// app on a free loopback port.

export interface Answer {
  readonly status: number
  readonly headers: Headers
  /** Parsed when the content type says JSON, else the text. */
  readonly body: unknown
}

export interface GetOptions {
  /** The loopback source address to connect from (127.0.0.0/8): a client of its own to an IP-keyed limiter. */
  readonly localAddress?: string
}

const TIMEOUT_MS = 10_000

/**
 * One GET over real HTTP on a connection of its own, its body read whole. It rejects with the
 * socket's error (ECONNREFUSED for a server that is gone), or when no answer comes in 10 s.
 */
export function get(url: string, headers: Record<string, string> = {}, options: GetOptions = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { headers, localAddress: options.localAddress, agent: false, timeout: TIMEOUT_MS }, (res) => {
      let text = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (text += chunk))
      res.once('error', reject)
      res.once('end', () => {
        const answerHeaders = new Headers()
        for (let i = 0; i < res.rawHeaders.length; i += 2) answerHeaders.append(res.rawHeaders[i]!, res.rawHeaders[i + 1]!)
        const json = answerHeaders.get('content-type')?.includes('json') === true
        resolve({ status: res.statusCode ?? 0, headers: answerHeaders, body: json ? JSON.parse(text) : text })
      })
    })
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url} in ${TIMEOUT_MS} ms`)))
    req.once('error', reject)
    req.end()
  })
}

/** The response headers Sluice sets, by lower-case name, absent ones as null. */
export function limitHeaders(answer: Answer): Record<string, string | null> {
  const names = ['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after', 'ratelimit-policy', 'ratelimit']
  return Object.fromEntries(names.map((name) => [name, answer.headers.get(name)]))
}

/**
 * One GET over a plain HTTP/1.1 connection (a loopback port, or a unix socket), with headers as
 * given: repeated names stay repeated, and values are sent as UTF-8 bytes, which a browser
 * would never send but a client can. The connection closes after the answer.
 */
export async function rawGet(
  target: { readonly url: string; readonly socketPath?: string | undefined },
  path: string,
  headers: ReadonlyArray<readonly [string, string]> = [],
): Promise<{ status: number; headers: Record<string, string> }> {
  const { port } = new URL(target.url)
  const socket = target.socketPath !== undefined ? connect(target.socketPath) : connect(Number(port), '127.0.0.1')
  const head = [`GET ${path} HTTP/1.1`, 'Host: localhost', 'Connection: close', ...headers.map(([n, v]) => `${n}: ${v}`), '', ''].join(
    '\r\n',
  )
  // Not a half-close: a server may drop a connection whose client has stopped sending.
  socket.write(Buffer.from(head, 'utf8'))
  const chunks: Buffer[] = []
  for await (const chunk of socket) chunks.push(chunk as Buffer)
  const text = Buffer.concat(chunks).toString('latin1')
  const [statusLine = '', ...lines] = text.slice(0, text.indexOf('\r\n\r\n')).split('\r\n')
  const status = Number(statusLine.split(' ')[1])
  const parsed: Record<string, string> = {}
  for (const line of lines) {
    const colon = line.indexOf(':')
    parsed[line.slice(0, colon).toLowerCase()] = line.slice(colon + 1).trim()
  }
  return { status, headers: parsed }
}

/** An app (an Express app, or anything with `listen`) on a free loopback port, until `close()`. */
export async function serve(app: { listen(port: number, host: string): Server }): Promise<{ url: string; close(): Promise<void> }> {
  const server = app.listen(0, '127.0.0.1')
  await once(server, 'listening')
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      const closed = once(server, 'close')
      server.closeAllConnections()
      server.close()
      await closed
    },
  }
}
