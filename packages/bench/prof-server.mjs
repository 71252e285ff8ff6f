import rateLimit from '@sluice/fastify'
import Fastify from 'fastify'
import { Redis } from 'ioredis'

const redis = new Redis({ port: Number(process.env.RPORT) })
const app = Fastify({ logger: false })
await app.register(rateLimit, { redis, capacity: 10, refillPerSecond: 1, key: { header: 'x-api-key', verify: () => true } })
app.get('/', async () => 'ok')
await app.listen({ port: Number(process.env.PORT), host: '127.0.0.1' })
process.on('SIGINT', async () => {
  await app.close()
  redis.disconnect()
  process.exit(0)
})
