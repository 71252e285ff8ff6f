import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { ROOT } from './checkout.js'

/** The README's commands, as a user would copy them: the tests run these, not copies of them. */

/** One way to run the compose stack: the files it names, and its up, load-test and down commands. */
export interface ComposeVariant {
  /** The `-f` files, in order; empty for the default docker-compose.yml. */
  readonly files: readonly string[]
  readonly up: string
  readonly run: string
  readonly down: string
}

const readme = (): string => readFileSync(join(ROOT, 'README.md'), 'utf8')
/** The demo's page, whose Docker section users copy from. */
const demoPage = (): string => readFileSync(join(ROOT, 'docs/demo.md'), 'utf8')

/** The command lines of the ```sh blocks in `text`, without comments. */
function shellLines(text: string): string[] {
  return [...text.matchAll(/^```sh\n([\s\S]*?)^```/gm)].flatMap((block) =>
    block[1]!
      .split('\n')
      .map((line) => line.replace(/(^|\s)#.*$/, '').trim())
      .filter((line) => line !== ''),
  )
}

/** The README's first two command lines: the demo and the tests on a fresh machine. */
export function firstLines(): string[] {
  const first = /^```sh\n[\s\S]*?^```/m.exec(readme())
  return first === null ? [] : shellLines(first[0])
}

function option(tokens: readonly string[], name: string): string[] {
  return tokens.flatMap((t, i) => (t === name && i + 1 < tokens.length ? [tokens[i + 1]!] : []))
}

/** The options of a compose command line that say what it acts on: files and profiles. */
export function scope(command: string): { files: string[]; profiles: string[] } {
  const tokens = command.split(/\s+/)
  return { files: option(tokens, '-f'), profiles: option(tokens, '--profile') }
}

/** The `docker compose` lines of docs/demo.md's Docker section, grouped by the files they name. */
export function composeVariants(): ComposeVariant[] {
  const section = /^## [^\n]*Docker[^\n]*\n([\s\S]*?)(?=^## |(?![\s\S]))/m.exec(demoPage())?.[1] ?? ''
  const variants = new Map<string, { files: string[]; up?: string; run?: string; down?: string }>()
  for (const line of shellLines(section).filter((l) => l.startsWith('docker compose '))) {
    const { files } = scope(line)
    const verb = line.split(/\s+/).find((t) => ['up', 'run', 'down'].includes(t)) as 'up' | 'run' | 'down' | undefined
    if (verb === undefined) continue
    const key = files.join(' ')
    const variant = variants.get(key) ?? { files }
    variants.set(key, { ...variant, [verb]: line })
  }
  return [...variants.values()].map((v) => {
    if (v.up === undefined || v.run === undefined || v.down === undefined) {
      throw new Error(`docs/demo.md's Docker section lacks an up, run or down line for ${v.files.join(' ') || 'docker-compose.yml'}`)
    }
    return { files: v.files, up: v.up, run: v.run, down: v.down }
  })
}
