// `@sluice/core/internal`: for the workspace's own benchmark, which measures the Redis store
// directly. Never published: package.json's publishConfig.exports leaves it out and `files`
// leaves its build out, so no app can come to depend on these names.

export { deadlineIn } from './deadline.js'
export { HeaderNames } from './headers.js'
export { bucketKey, ipClientId } from './keys.js'
export { resolvePolicy } from './policies.js'
export { encodeBatchV2, TOKEN_BUCKET_V2_COMMAND, TOKEN_BUCKET_V2_LUA } from './scripts/token-bucket-v2.js'
