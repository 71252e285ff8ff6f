/** What the pack test hands each app: a redis-server it started, and a key prefix of this run. */
export function testEnv(): { redisUrl: string; prefix: string } {
  const { REDIS_URL, SLUICE_PREFIX } = process.env
  if (REDIS_URL === undefined || SLUICE_PREFIX === undefined) throw new Error('REDIS_URL and SLUICE_PREFIX must be set')
  return { redisUrl: REDIS_URL, prefix: SLUICE_PREFIX }
}

/** One answer, as the test compares them across frameworks. */
export interface Answer {
  readonly status: number
  readonly contentType: string | undefined
  readonly limit: string | undefined
  readonly remaining: string | undefined
  readonly retryAfter: string | undefined
  readonly body: unknown
}
