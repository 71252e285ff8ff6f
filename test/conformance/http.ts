import { connect } from 'node:net'

export interface Answer {
  readonly status: number
  readonly headers: Headers
  readonly body: unknown
}

/** One GET over real HTTP, its body read whole (so the connection is free for the next). */
export async function get(url: string, headers: Record<string, string> = {}): Promise<Answer> {
  const response = await fetch(url, { headers })
  const text = await response.text()
  const json = response.headers.get('content-type')?.includes('json') === true
  return { status: response.status, headers: response.headers, body: json ? JSON.parse(text) : text }
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
