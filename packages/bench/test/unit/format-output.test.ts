import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { formatWithBiome } from '../../src/format-output.js'

describe('the report the bench writes is formatted by the repository’s Biome', () => {
  let dir: string
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'sluice-bench-format-'))
  })
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true })
  })

  it('pads a table Biome would pad, and says nothing', async () => {
    const file = join(dir, 'report.md')
    await writeFile(file, '# Report\n\n| a | bb |\n| - | -: |\n| long cell | 1 |\n')
    expect(formatWithBiome([file])).toBeUndefined()
    const formatted = await readFile(file, 'utf8')
    expect(formatted).toContain('| long cell |')
    expect(formatted).toContain('| a         |')
  })

  it('says why, and how to do it by hand, when Biome is not there', async () => {
    const file = join(dir, 'other.md')
    await writeFile(file, '# Other\n')
    const said = formatWithBiome([file], join(dir, 'no-biome'))
    expect(said).toMatch(/^not formatted: Biome not found at .*no-biome \(run `pnpm biome check --write .*other\.md`\)$/)
    expect(await readFile(file, 'utf8')).toBe('# Other\n')
  })
})
