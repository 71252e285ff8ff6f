// The public entry for apps: errors to catch, warning codes to route, and the types of options,
// results, stores and observers. Every name here is a semver promise; adapter glue lives on
// `@sluice/core/adapter`.
export { type ErrorCode, ErrorCodes, SluiceError, SluiceOptionError, SluiceRequestError } from './errors.js'
// The two stores, for an app that tunes one (`store: new RedisStore(redis, { batchIntervalMs: 0 })`).
export { MemoryStore, type MemoryStoreOptions } from './stores/memory-store.js'
export { RedisStore, type RedisStoreOptions } from './stores/redis-store.js'
export type {
  AnswerSource,
  ApiKeyVerifier,
  BreakerState,
  BucketPolicy,
  BucketReply,
  CheckReply,
  CheckRequest,
  CheckStatus,
  CircuitBreakerOptions,
  CircuitEvent,
  ClientRef,
  CostOption,
  Decision,
  DecisionEvent,
  Denial,
  DenyBody,
  FailureMode,
  HeaderFamilies,
  KeyOption,
  LimiterOptions,
  ManualCheckOptions,
  NamedPolicyOptions,
  Outcome,
  PolicyOptions,
  PolicyResult,
  ProblemDetails,
  RateLimitResult,
  RedisClient,
  ResolvedPolicy,
  RouteLimitOptions,
  SeveralPolicies,
  SkipOption,
  SkippedEvent,
  SluiceLogger,
  SluiceObserver,
  SluiceStats,
  Store,
  StoreCallEvent,
  TierSource,
} from './types.js'
export { type WarningCode, WarningCodes } from './warnings.js'
