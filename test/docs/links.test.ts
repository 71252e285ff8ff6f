import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'

// The README is a front door to pages in docs/: a moved section or a renamed heading must not
// leave a dead link behind. Package READMEs are read on the registry, where a relative link is
// dead: they link by full URL, and those URLs must name pages that exist here.

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '../..')
const REPOSITORY = 'https://github.com/sluice-dev/sluice/blob/main/'
const PACKAGE_READMES = ['core', 'fastify', 'express'].map((p) => `packages/${p}/README.md`)
const PAGES = [
  'README.md',
  'CONTRIBUTING.md',
  ...readdirSync(join(ROOT, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`),
]

/** A heading's anchor as GitHub makes it (github-slugger's rule: lower case, punctuation dropped, spaces to hyphens). */
function slug(heading: string): string {
  return heading
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-')
}

function withoutCode(markdown: string): string {
  return markdown.replace(/^```[\s\S]*?^```/gm, '').replace(/<!--[\s\S]*?-->/g, '')
}

function anchors(file: string): Set<string> {
  const seen = new Map<string, number>()
  const out = new Set<string>()
  for (const [, heading] of withoutCode(readFileSync(join(ROOT, file), 'utf8')).matchAll(/^#{1,6} (.+)$/gm)) {
    const base = slug(heading!)
    const n = seen.get(base) ?? 0
    seen.set(base, n + 1)
    out.add(n === 0 ? base : `${base}-${n}`)
  }
  return out
}

function links(file: string): string[] {
  return [...withoutCode(readFileSync(join(ROOT, file), 'utf8')).matchAll(/\]\(([^)\s]+)\)/g)].map((m) => m[1]!)
}

/** Why `target`, linked from `from`, is dead; undefined when it resolves. */
function deadLink(from: string, target: string): string | undefined {
  const [path, anchor] = target.split('#') as [string, string | undefined]
  const file = path === '' ? from : relative(ROOT, join(ROOT, dirname(from), path))
  if (!existsSync(join(ROOT, file))) return `no file ${file}`
  if (anchor !== undefined && file.endsWith('.md') && !anchors(file).has(anchor)) return `no heading #${anchor} in ${file}`
  return undefined
}

describe('links between the docs', () => {
  it('names GitHub anchors as GitHub does', () => {
    expect(slug('Plans: `tiers` and `tier`')).toBe('plans-tiers-and-tier')
    expect(slug('The demo with Docker')).toBe('the-demo-with-docker')
    expect(slug('Security: what a client can and cannot do to its bucket')).toBe('security-what-a-client-can-and-cannot-do-to-its-bucket')
  })

  it.each(PAGES)('every relative link of %s resolves to a file and a heading', (page) => {
    const dead = links(page)
      .filter((target) => !/^[a-z]+:/.test(target))
      .flatMap((target) => {
        const why = deadLink(page, target)
        return why === undefined ? [] : [`${target}: ${why}`]
      })
    expect(dead).toEqual([])
  })

  it.each(PACKAGE_READMES)('%s links by full URL only, to pages that exist', (readme) => {
    const targets = links(readme)
    expect(targets.filter((t) => !/^https?:/.test(t))).toEqual([])
    const ours = targets.filter((t) => t.startsWith(REPOSITORY))
    expect(ours.length, `${readme} links to no docs page`).toBeGreaterThan(0)
    const dead = ours.flatMap((t) => {
      const why = deadLink('README.md', t.slice(REPOSITORY.length))
      return why === undefined ? [] : [`${t}: ${why}`]
    })
    expect(dead).toEqual([])
  })
})
