export {
  applyCheck,
  type BucketReply,
  type BucketRequest,
  type CheckReply,
  type CheckRequest,
  type CheckStatus,
} from './bucket.js'
export { type BreakerState, CircuitBreaker, type CircuitBreakerOptions } from './circuit-breaker.js'
export { type ErrorCode, ErrorCodes, SluiceError, SluiceOptionError } from './errors.js'
export { type AnswerSource, type FailureMode, type LimiterStats, localShare } from './failover.js'
export { HeaderNames, rateLimitHeaders } from './headers.js'
export { apiKeyClientId, bucketKey, customClientId, ipClientId } from './keys.js'
export {
  createLimiter,
  type Decision,
  type Limiter,
  type Outcome,
  type RequestView,
  type RouteLimiter,
  type SluiceStats,
} from './limiter.js'
export type { DecisionEvent, SluiceObserver, StoreCallEvent } from './observer.js'
export {
  type CommonLimiterOptions,
  type CostOption,
  DEFAULTS,
  type KeyOption,
  LIMITER_OPTION_NAMES,
  type LimiterOptions,
  type ResolvedLimiterOptions,
  type RouteLimitOptions,
  resolveLimiterOptions,
} from './options.js'
export {
  type NamedPolicyOptions,
  type PolicyOptions,
  type PolicySource,
  type ResolvedPolicy,
  resolvePolicies,
  resolvePolicy,
} from './policies.js'
export {
  PROBLEM_CONTENT_TYPE,
  type ProblemDetails,
  QUOTA_EXCEEDED_TYPE,
} from './problem.js'
export { requestView } from './request-view.js'
export type { PolicyResult, RateLimitResult } from './result.js'
export { TOKEN_BUCKET_LUA } from './scripts/token-bucket.js'
export { MemoryStore, type MemoryStoreOptions, type NanoClock } from './stores/memory-store.js'
export { type RedisClient, RedisStore, type RedisStoreOptions } from './stores/redis-store.js'
export type { Store } from './stores/store.js'
export { keysByIp, PERMISSIVE_TRUST_PROXY, permissiveTrustProxyWarning } from './trust-proxy.js'
export { processWarningLogger, type SluiceLogger } from './warn-throttle.js'
