import { readFileSync } from 'node:fs'

/**
 * The report's prose lives in templates/benchmarks.md: blocks of markdown, each from a line
 * `<!-- template: name -->` to the next, with `{{slot}}` where a figure goes. The code computes
 * the figures and tables; the template says what the sentences around them are.
 */

// Beside src/ and dist/ alike, so the sources (tests) and the build (`pnpm bench`) read one file.
const TEMPLATE = new URL('../templates/benchmarks.md', import.meta.url)
const BLOCK_START = /^<!-- template: ([a-z][\w-]*) -->$/
const SLOT = /\{\{(\w+)\}\}/g

export type Slots = Readonly<Record<string, string | number>>

/** A template file's blocks by name; each without the blank lines at its ends. */
export function parseTemplate(text: string): ReadonlyMap<string, string> {
  const blocks = new Map<string, string[]>()
  let current: string[] | undefined
  for (const line of text.split('\n')) {
    const start = BLOCK_START.exec(line)
    if (start !== null) {
      if (blocks.has(start[1]!)) throw new Error(`template block ${start[1]} is declared twice`)
      current = []
      blocks.set(start[1]!, current)
    } else current?.push(line)
  }
  return new Map([...blocks].map(([name, lines]) => [name, trimBlankLines(lines.join('\n'))]))
}

const trimBlankLines = (text: string): string => text.replace(/^\n+|\n+$/g, '')

/**
 * Fills a block's slots. A line that is nothing but a slot given '' is dropped: a part that did
 * not run leaves no line behind. A slot not given, or given and not in the block, is a mistake.
 */
export function fillBlock(blocks: ReadonlyMap<string, string>, name: string, slots: Slots = {}): string {
  const block = blocks.get(name)
  if (block === undefined) throw new Error(`no template block ${name}`)
  const unused = new Set(Object.keys(slots))
  const value = (slot: string): string => {
    if (!Object.hasOwn(slots, slot)) throw new Error(`template block ${name}: no value for {{${slot}}}`)
    unused.delete(slot)
    return String(slots[slot])
  }
  const lines: string[] = []
  for (const line of block.split('\n')) {
    const only = /^\{\{(\w+)\}\}$/.exec(line)
    if (only !== null && value(only[1]!) === '') continue
    lines.push(line.replace(SLOT, (_, slot: string) => value(slot)))
  }
  if (unused.size > 0) throw new Error(`template block ${name} has no {{${[...unused].join('}}, {{')}}}`)
  return trimBlankLines(lines.join('\n'))
}

let loaded: ReadonlyMap<string, string> | undefined

/** A block of templates/benchmarks.md, filled in. */
export function fill(name: string, slots?: Slots): string {
  loaded ??= parseTemplate(readFileSync(TEMPLATE, 'utf8'))
  return fillBlock(loaded, name, slots)
}

/** A part's heading alone (its block's first line), for a part that did not run. */
export function notMeasured(name: string): string {
  loaded ??= parseTemplate(readFileSync(TEMPLATE, 'utf8'))
  const heading = loaded.get(name)?.split('\n')[0]
  if (heading === undefined) throw new Error(`no template block ${name}`)
  return `${heading}\n\n${fill('not-measured')}`
}
