export { findBinary, MissingBinaryError } from './binaries.js'
export { decimal, type Flags, parseFlags, parseOrExit, UsageError, wholeFlag } from './cli.js'
export { freePort, isAddressInUse, onFreePort } from './free-port.js'
export {
  NGINX_TEMPLATE_PATH,
  type NginxOptions,
  type NginxServer,
  type NginxUpstream,
  nginxTemplateValues,
  renderNginxTemplate,
  startNginx,
  templatePlaceholders,
} from './nginx.js'
export { pollUntil } from './poll.js'
export {
  outputMatches,
  outputTail,
  type ProcessExit,
  probeUntil,
  type Readiness,
  type ReadyContext,
  type ReadyProcess,
  type SpawnUntilReadyOptions,
  type StopOptions,
  spawnUntilReady,
  stopProcess,
} from './process.js'
export { type RedisClusterServer, startRedisCluster } from './redis-cluster.js'
export { type RedisSentinelOptions, type RedisSentinelServer, startRedisSentinel } from './redis-sentinel.js'
export { type RedisServer, startRedis } from './redis-server.js'
