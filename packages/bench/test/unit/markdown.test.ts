import { describe, expect, it } from 'vitest'
import { renderMarkdown } from '../../src/markdown.js'
import { fullResult, partialSmokeResult } from '../fixtures/bench-result.js'

// The report's exact text for fixed results: a change to its wording or its figures' format shows
// here as a diff of the snapshot, to be read and accepted (`vitest -u`) on purpose.

describe('docs/benchmarks.md', () => {
  it('reports every part of a full run, byte for byte', async () => {
    const markdown = renderMarkdown(fullResult(), { command: 'pnpm bench --write' })
    await expect(markdown).toMatchFileSnapshot('./__snapshots__/full-run.md')
  })

  it('says which parts a smoke run left out, byte for byte', async () => {
    const markdown = renderMarkdown(partialSmokeResult(), { command: "pnpm bench --smoke --only throughput --out '/tmp/a b.md'" })
    await expect(markdown).toMatchFileSnapshot('./__snapshots__/smoke-throughput-only.md')
  })
})
