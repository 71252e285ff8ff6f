export { MissingBinaryError, findBinary } from './binaries.js'
export { freePort } from './free-port.js'
export { spawnUntilReady, stopProcess } from './process.js'
export { type RedisServer, startRedis } from './redis-server.js'
