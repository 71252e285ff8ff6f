import { describe, expect, it } from 'vitest'
import { mastersFor } from '../../src/markdown-masters.js'

describe('Redis masters for 1 M req/s at 50 % CPU', () => {
  it('is 1 M req/s over what one master serves in half a core-second, rounded up', () => {
    // The issue's own targets: ≤ 1 µs per check for one hot key, ≤ 3 µs for distinct keys.
    expect(mastersFor(1)).toEqual({ perMaster: 500_000, masters: 2 })
    expect(mastersFor(3).masters).toBe(6)
    expect(mastersFor(23).masters).toBe(46)
    expect(mastersFor(23.1).masters).toBe(47)
  })

  it('never sizes a deployment at no masters', () => {
    expect(mastersFor(0.01).masters).toBe(1)
  })

  it('takes another load and CPU share', () => {
    expect(mastersFor(10, 100_000, 0.25).masters).toBe(4)
  })
})
