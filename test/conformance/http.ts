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
