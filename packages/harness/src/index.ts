export { MissingBinaryError, findBinary } from './binaries.js'
export { freePort } from './free-port.js'
export { spawnUntilReady, stopProcess } from './process.js'
export { type RedisServer, startRedis } from './redis-server.js'
export { type RedisClusterServer, startRedisCluster } from './redis-cluster.js'
export {
  type NginxOptions,
  type NginxServer,
  type NginxUpstream,
  NGINX_TEMPLATE_PATH,
  nginxTemplateValues,
  renderNginxTemplate,
  startNginx,
  templatePlaceholders,
} from './nginx.js'
