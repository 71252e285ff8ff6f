export { applyCheck } from './bucket.js'
export { CircuitBreaker } from './circuit-breaker.js'
export { type ErrorCode, ErrorCodes, SluiceError, SluiceOptionError, SluiceRequestError } from './errors.js'
export { localShare } from './failover.js'
export { HeaderNames, rateLimitHeaders } from './headers.js'
export { apiKeyClientId, bucketKey, customClientId, ipClientId } from './keys.js'
export { createLimiter, type Limiter, type RouteLimiter } from './limiter.js'
export { processWarningLogger } from './logger.js'
export { DEFAULTS, LIMITER_OPTION_NAMES, resolveLimiterOptions } from './options.js'
export { resolvePolicies, resolvePolicy } from './policies.js'
export { PROBLEM_CONTENT_TYPE, QUOTA_EXCEEDED_TYPE } from './problem.js'
export { requestView } from './request-view.js'
export { TOKEN_BUCKET_LUA } from './scripts/token-bucket.js'
export { MemoryStore, type MemoryStoreOptions, type NanoClock } from './stores/memory-store.js'
export { RedisStore, type RedisStoreOptions } from './stores/redis-store.js'
export { keysByIp, permissiveTrustProxyMessage, type TrustProxyFn, trustsEveryone } from './trust-proxy.js'
export type {
  AnswerSource,
  BreakerState,
  BucketPolicy,
  BucketReply,
  BudgetedStore,
  CheckReply,
  CheckRequest,
  CheckStatus,
  CircuitBreakerOptions,
  ClientRef,
  CommonLimiterOptions,
  CostOption,
  Decision,
  DecisionEvent,
  Denial,
  DenyBody,
  FailureMode,
  HeaderFamilies,
  KeyOption,
  LimiterOptions,
  LimiterStats,
  ManualCheckOptions,
  NamedPolicyOptions,
  Outcome,
  PolicyOptions,
  PolicyResult,
  PolicySource,
  ProblemDetails,
  RateLimitResult,
  RedisClient,
  RequestView,
  ResolvedLimiterOptions,
  ResolvedPolicy,
  RouteLimitOptions,
  SkipOption,
  SluiceLogger,
  SluiceObserver,
  SluiceStats,
  Store,
  StoreCallEvent,
  TierSource,
} from './types.js'
export { type WarningCode, WarningCodes } from './warnings.js'
