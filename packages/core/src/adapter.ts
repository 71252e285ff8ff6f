// `@sluice/core/adapter`: what a framework adapter needs and an app does not (the glue
// @sluice/fastify and @sluice/express are built from). A semver promise to adapter authors.
export { createLimiter, type Limiter, type RouteLimiter } from './limiter.js'
export { processWarningLogger } from './logger.js'
export { PROBLEM_CONTENT_TYPE } from './problem.js'
export { requestView, type ViewableRequest } from './request-view.js'
export { onResponseEnd } from './response-end.js'
export { permissiveTrustProxyMessage, type TrustProxyFn, trustsEveryone } from './trust-proxy.js'
export type { AddressNote, LimiterControls, RequestView, ResolvedAllowList, ResolvedLimiterOptions } from './types.js'
export { warn } from './warnings.js'
