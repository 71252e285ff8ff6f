export { findBinary, MissingBinaryError } from './binaries.js'
export { freePort } from './free-port.js'
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
export { spawnUntilReady, stopProcess } from './process.js'
export { type RedisClusterServer, startRedisCluster } from './redis-cluster.js'
export { type RedisServer, startRedis } from './redis-server.js'
