import type { Report } from '@sluice/loadtest'
import { describe, expect, it } from 'vitest'
import { unsaturatedClause } from '../../src/unsaturated-clause.js'

const run = (scenario: string, limited: number[], saturating = true, mode = 'shared') =>
  ({ scenario, mode, saturating, clients: limited.map((n) => ({ limited: n })) }) as unknown as Report

describe("the demo verdict's unsaturated clause", () => {
  it('says nothing when every client of a saturating scenario was refused', () => {
    expect(unsaturatedClause([run('burst', [40]), run('many-clients', [3, 9, 1])])).toBeUndefined()
  })

  it('ignores scenarios not meant to saturate, runs without a shared Redis, and those judged in tokens or in flight', () => {
    expect(
      unsaturatedClause([run('steady', [0], false), run('burst', [0], true, 'local'), run('settle', [0]), run('inflight', [0])]),
    ).toBeUndefined()
  })

  it('names the scenarios whose clients were never refused, and what that shows', () => {
    expect(unsaturatedClause([run('burst', [12]), run('many-clients', [0, 4, 0])])).toBe(
      'Not every client was pushed past its limit (many-clients: 2 of 3 clients never refused): this machine offered them less than their buckets hold, so for them the run shows that nothing went over, not the limit at work.',
    )
  })
})
