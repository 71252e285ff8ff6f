// A user's Express 5 app, as an ES module: the middleware on a real Redis, on a real socket.
import { once } from 'node:events'
import type { AddressInfo } from 'node:net'
import { rateLimit, type SluiceMiddleware } from '@sluice/express'
import express from 'express'
import { Redis } from 'ioredis'
import { type Answer, testEnv } from './env.js'

const { redisUrl, prefix } = testEnv()
const redis = new Redis(redisUrl)
const limit: SluiceMiddleware = rateLimit({ redis, prefix, capacity: 2, refillPerSecond: 0.001, name: 'pack', timeoutMs: 5_000 })

const app = express()
app.use(limit)
app.get('/', (req, res) => {
  res.json({ remaining: req.rateLimit?.remaining })
})

const server = app.listen(0, '127.0.0.1')
await once(server, 'listening')
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`

const answers: Answer[] = []
for (let i = 0; i < 3; i++) {
  const response = await fetch(url)
  answers.push({
    status: response.status,
    contentType: response.headers.get('content-type') ?? undefined,
    limit: response.headers.get('x-ratelimit-limit') ?? undefined,
    remaining: response.headers.get('x-ratelimit-remaining') ?? undefined,
    retryAfter: response.headers.get('retry-after') ?? undefined,
    body: await response.json(),
  })
}

// fetch keeps its connection alive; close it rather than wait out the keep-alive timeout.
server.close()
server.closeAllConnections()
await once(server, 'close')
await redis.quit()
console.log(JSON.stringify({ answers, stats: limit.stats() }))
