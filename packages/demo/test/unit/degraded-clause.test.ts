import type { Report } from '@sluice/loadtest'
import { describe, expect, it } from 'vitest'
import { degradedClause } from '../../src/degraded-clause.js'

const run = (degraded: number, degradedAdmitted: number) => ({ totals: { degraded, degradedAdmitted } }) as unknown as Report

describe("the demo verdict's degraded clause", () => {
  it('says nothing when every answer came from Redis', () => {
    expect(degradedClause([run(0, 0), run(0, 0)])).toBeUndefined()
  })

  it('says how many degraded admissions the bounds include, and how they were counted', () => {
    expect(degradedClause([run(30, 12), run(5, 1)])).toBe(
      "35 answers came from the replicas' local fallback buckets (Redis was too slow or unreachable): the bounds above include those 13 degraded admissions, each counted to its own client's capacity + refill × elapsed, since it took nothing from Redis.",
    )
  })

  it('says no bound grew when no degraded answer admitted anything', () => {
    expect(degradedClause([run(4, 0)])).toMatch(/none admitted a request, so every bound is capacity \+ refill × elapsed\.$/)
  })
})
