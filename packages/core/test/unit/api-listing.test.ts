import { readFileSync } from 'node:fs'
import { describe, expect, it } from 'vitest'

// Each published package's README lists its public API name by name; this keeps the list and the
// entry points' exports the same, so neither can change without the other.
const packages = new URL('../../../', import.meta.url)
const read = (path: string): string => readFileSync(new URL(path, packages), 'utf8')

/** The names a module exports, read from its source: `export { a, type B }`, `export type {…}`, declarations. */
function exportedNames(source: string): string[] {
  const names = new Set<string>()
  for (const [, list] of source.matchAll(/^export (?:type )?\{([^}]*)\}/gm)) {
    for (const item of list!.split(',')) {
      const name = item
        .replace(/\btype\b/, '')
        .trim()
        .split(/\s+as\s+/)
        .at(-1)!
      if (name !== '') names.add(name)
    }
  }
  for (const [, name] of source.matchAll(/^export (?:const|function|class|interface|type|async function) (\w+)/gm)) names.add(name!)
  if (/^export default /m.test(source)) names.add('default')
  return [...names].sort()
}

/** The names in the first column of the tables in a README's `## API` section. */
function listedNames(readme: string): string[] {
  const section = readme.slice(readme.indexOf('## API'), readme.indexOf('## License'))
  const firstCells = [...section.matchAll(/^\| ([^|]+) \|/gm)].map((m) => m[1]!)
  return [...new Set(firstCells.flatMap((cell) => [...cell.matchAll(/`(\w+)`/g)].map((m) => m[1]!)))].sort()
}

const entries = {
  'core/README.md': ['core/src/index.ts', 'core/src/adapter.ts', 'core/src/metrics.ts'],
  'fastify/README.md': ['fastify/src/index.ts'],
  'express/README.md': ['express/src/index.ts'],
}

describe('the API listed in each package README', () => {
  it.each(Object.entries(entries))('%s lists exactly what its entries export', (readme, sources) => {
    const exported = [...new Set(sources.flatMap((source) => exportedNames(read(source))))].sort()
    const listed = listedNames(read(readme))
    expect(exported.filter((name) => !listed.includes(name))).toEqual([])
    expect(listed.filter((name) => !exported.includes(name))).toEqual([])
  })
})
