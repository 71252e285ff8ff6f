// What each published entry exports at run time, and what it must not: the pack test compares
// these names with the public surface it expects, so no name becomes public by accident.
const ENTRIES = ['@sluice/core', '@sluice/core/adapter', '@sluice/core/metrics', '@sluice/fastify', '@sluice/express']

const exported: Record<string, string[]> = {}
for (const entry of ENTRIES) exported[entry] = Object.keys(await import(entry)).sort()

const unreachable: Record<string, string> = {}
for (const entry of ['@sluice/core/internal', '@sluice/core/dist/limiter.js']) {
  unreachable[entry] = await import(entry).then(
    () => 'imported',
    (error: NodeJS.ErrnoException) => error.code ?? String(error),
  )
}
console.log(JSON.stringify({ exported, unreachable }))

export {}
