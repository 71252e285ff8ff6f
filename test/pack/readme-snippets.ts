/**
 * The fenced ```ts blocks of a README, each as a TypeScript module of its own.
 *
 * A snippet that is deliberately partial (it uses an `app` or a `handler` it does not define)
 * gets its context from a prelude: an HTML comment right before the fence, hidden when the
 * README is rendered,
 *
 *     <!-- prelude
 *     declare const handler: RouteHandlerMethod
 *     -->
 *
 * whose lines are compiled before the snippet's.
 */
export interface Snippet {
  /** 1-based line of the snippet's first line in its README. */
  readonly line: number
  /**
   * The README with every line blanked except the prelude's and the snippet's, so a compiler
   * error's line number is the README's own.
   */
  readonly module: string
}

const OPEN = /^```ts\s*$/
const CLOSE = /^```\s*$/
const PRELUDE_OPEN = /^<!--\s*prelude\s*$/
const PRELUDE_CLOSE = /^-->\s*$/

export function readmeSnippets(markdown: string): Snippet[] {
  const lines = markdown.split('\n')
  const snippets: Snippet[] = []
  for (let open = 0; open < lines.length; open++) {
    if (!OPEN.test(lines[open]!)) continue
    const close = lines.findIndex((line, i) => i > open && CLOSE.test(line))
    if (close === -1) throw new Error(`an unclosed \`\`\`ts block at line ${open + 1}`)
    const kept = new Set<number>()
    for (let i = open + 1; i < close; i++) kept.add(i)
    for (const i of preludeLines(lines, open)) kept.add(i)
    // `export {}` keeps a snippet without imports a module, so top-level await compiles.
    const module = `${lines.map((line, i) => (kept.has(i) ? line : '')).join('\n')}\nexport {}\n`
    snippets.push({ line: open + 2, module })
    open = close
  }
  return snippets
}

/** The lines inside the prelude comment that ends just above line `fence`, if there is one. */
function preludeLines(lines: readonly string[], fence: number): number[] {
  let end = fence - 1
  while (end >= 0 && lines[end]!.trim() === '') end--
  if (end < 0 || !PRELUDE_CLOSE.test(lines[end]!)) return []
  let start = end - 1
  while (start >= 0 && !PRELUDE_OPEN.test(lines[start]!)) {
    if (lines[start]!.includes('-->')) return []
    start--
  }
  if (start < 0) return []
  return Array.from({ length: end - start - 1 }, (_, i) => start + 1 + i)
}
