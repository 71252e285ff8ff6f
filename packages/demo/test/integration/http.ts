import { request } from 'node:http'

export interface Answer {
  readonly status: number
  readonly headers: Readonly<Record<string, string | string[] | undefined>>
  readonly body: string
}

/** One GET, optionally from a given loopback source address; a fresh connection each time. */
export function get(url: string, options: { localAddress?: string; headers?: Record<string, string> } = {}): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = request(url, { localAddress: options.localAddress, headers: options.headers, agent: false, timeout: 5_000 }, (res) => {
      let body = ''
      res.setEncoding('utf8')
      res.on('data', (chunk: string) => (body += chunk))
      res.once('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }))
    })
    req.once('timeout', () => req.destroy(new Error(`no answer from ${url}`)))
    req.once('error', reject)
    req.end()
  })
}
