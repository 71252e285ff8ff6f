import { Redis } from 'ioredis'

/** The client every target gets: ioredis with its defaults, as each library's README shows it. */
export function redisClient(port: number): Redis {
  const redis = new Redis({ host: '127.0.0.1', port })
  // An unhandled 'error' event would crash the child; failures show up as 5xx in the results.
  redis.on('error', () => {})
  return redis
}
