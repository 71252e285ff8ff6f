import { describe, expect, it } from 'vitest'
import { type Admission, composeEnd, type EndStep } from '../../src/end-steps.js'
import type { RateLimitResult } from '../../src/types.js'

const admission: Admission = { route: 'GET /', result: { allowed: true } as RateLimitResult }

describe('composeEnd', () => {
  it('is undefined when no step has work, so an adapter attaches no listener', () => {
    expect(composeEnd([], admission)).toBeUndefined()
    expect(composeEnd([() => undefined, () => undefined], admission)).toBeUndefined()
  })

  it('is the one step’s work itself when only one has any', () => {
    const end = (): void => {}
    expect(composeEnd([() => undefined, () => end], admission)).toBe(end)
  })

  it('runs every step’s work in order, each despite a throw in another', () => {
    const ran: string[] = []
    const steps: EndStep<string, string>[] = [
      ({ route }) =>
        (request, reply) => {
          ran.push(`settle ${route} ${request} ${reply}`)
          throw new Error('a bug in one step')
        },
      () => undefined,
      () => () => ran.push('release'),
    ]
    composeEnd(steps, admission)!('req', 'rep')
    expect(ran).toEqual(['settle GET / req rep', 'release'])
  })
})
