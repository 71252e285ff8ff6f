import { createHash } from 'node:crypto'
import { TOKEN_BUCKET_LUA } from '../../scripts/token-bucket.js'
import type { NodeRedisScriptOptions } from '../../types.js'

/** The script's SHA1, as Redis names it in `SCRIPT LOAD`, `EVALSHA` and `NOSCRIPT`. */
export const TOKEN_BUCKET_SHA = createHash('sha1').update(TOKEN_BUCKET_LUA).digest('hex')

/** Redis's answer to EVALSHA for a script it does not hold. */
export function isNoScript(error: unknown): boolean {
  return error instanceof Error && error.message.startsWith('NOSCRIPT')
}

/** What node-redis's clients and clusters both have for scripts. */
interface ScriptTarget {
  evalSha(sha: string, options: NodeRedisScriptOptions): Promise<unknown>
  eval(script: string, options: NodeRedisScriptOptions): Promise<unknown>
}

/**
 * Run the token-bucket script on a node-redis client or cluster the app made (its scripts are
 * declared at creation, so Sluice cannot declare one): what ioredis's `defineCommand` does,
 * `EVALSHA`, and `EVAL` (which loads the script again) only when Redis answers `NOSCRIPT` after a
 * restart, a failover or `SCRIPT FLUSH`. node-redis takes arguments as strings.
 */
export function scriptRunner(target: ScriptTarget): (keys: readonly string[], args: readonly (string | number)[]) => Promise<unknown> {
  return async (keys, args) => {
    const options: NodeRedisScriptOptions = { keys: [...keys], arguments: args.map(String) }
    try {
      return await target.evalSha(TOKEN_BUCKET_SHA, options)
    } catch (error) {
      if (!isNoScript(error)) throw error
      return target.eval(TOKEN_BUCKET_LUA, options)
    }
  }
}
