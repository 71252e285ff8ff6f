// A user's Fastify app, as an ES module: the plugin on a real Redis, one exempt route.
import rateLimit, { type RateLimitResult, type SluiceFastifyOptions } from '@sluice/fastify'
import Fastify from 'fastify'
import { Redis } from 'ioredis'
import { type Answer, testEnv } from './env.js'

const { redisUrl, prefix } = testEnv()
const redis = new Redis(redisUrl)
const options: SluiceFastifyOptions = { redis, prefix, capacity: 2, refillPerSecond: 0.001, name: 'pack', timeoutMs: 5_000 }

const app = Fastify()
await app.register(rateLimit, options)
app.get('/', async (request) => {
  const result: RateLimitResult | undefined = request.rateLimit
  return { remaining: result?.remaining }
})
app.get('/health', { config: { rateLimit: false } }, async () => 'ok')

const answers: Answer[] = []
for (let i = 0; i < 3; i++) {
  const response = await app.inject('/')
  answers.push({
    status: response.statusCode,
    contentType: response.headers['content-type'] as string | undefined,
    limit: response.headers['x-ratelimit-limit'] as string | undefined,
    remaining: response.headers['x-ratelimit-remaining'] as string | undefined,
    retryAfter: response.headers['retry-after'] as string | undefined,
    body: response.json(),
  })
}
const health = await app.inject('/health')
const exempt = { status: health.statusCode, limited: 'x-ratelimit-limit' in health.headers }

await app.close()
await redis.quit()
console.log(JSON.stringify({ answers, exempt, stats: app.sluice.stats() }))
