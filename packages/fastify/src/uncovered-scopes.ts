import type { FastifyInstance } from 'fastify'

/** Fastify keeps a scope's children and hooks under its own symbols; read them by description. */
function internal(instance: object, description: string): unknown {
  const symbol = Object.getOwnPropertySymbols(instance).find((s) => s.description === description)
  return symbol === undefined ? undefined : (instance as Record<symbol, unknown>)[symbol]
}

/**
 * The route prefixes of the scopes under `root` (itself included) whose `hook` list lacks
 * `check` although their limiter is `api`: their routes run no check. Fastify gives a hook to
 * the scopes that exist when it is added too, so today this finds nothing; it is the start-up
 * net for whatever still leaves a scope out. If a Fastify hides these internals, it finds
 * nothing, and only the warning is lost.
 */
export function uncoveredScopes(root: FastifyInstance, hook: string, check: unknown, api: unknown): string[] {
  const missed: string[] = []
  const visit = (scope: FastifyInstance): void => {
    // A scope with a nested limiter of its own is that limiter's to check.
    if (scope.sluice !== api) return
    const hooks = internal(scope, 'fastify.hooks') as Record<string, unknown[] | undefined> | undefined
    const list = hooks?.[hook]
    if (Array.isArray(list) && !list.includes(check)) missed.push(scope.prefix)
    const children = internal(scope, 'fastify.children')
    if (Array.isArray(children)) for (const child of children) visit(child as FastifyInstance)
  }
  visit(root)
  return [...new Set(missed)]
}
