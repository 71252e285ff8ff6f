import { describe, expect, it } from 'vitest'
import { decimal, parseFlags, UsageError, wholeFlag } from '../../src/cli.js'

describe('wholeFlag', () => {
  it('reads a whole number at least its minimum, the fallback when absent, and names the flag otherwise', () => {
    expect([wholeFlag('12', 'rounds', 5), wholeFlag(undefined, 'rounds', 5), wholeFlag('0', 'warmup', 2, 0)]).toEqual([12, 5, 0])
    for (const value of ['0', '1.5', '0x10', '1e3', ' 7']) {
      expect(() => wholeFlag(value, 'rounds', 5)).toThrow(
        new UsageError(`--rounds must be a whole number ≥ 1, got ${JSON.stringify(value)}`),
      )
    }
  })
})

describe('decimal', () => {
  it('reads plain decimals only', () => {
    expect([decimal('12'), decimal('0.5'), decimal('0')]).toEqual([12, 0.5, 0])
    for (const value of ['', ' 7', '0x10', '1e3', '-5', '+5', 'Infinity', '1.', '.5']) expect(decimal(value)).toBeNaN()
  })
})

describe('parseFlags', () => {
  it("reads the options, and turns parseArgs's complaints into UsageErrors", () => {
    const options = { port: { type: 'string' }, json: { type: 'boolean', default: false } } as const
    expect(parseFlags(['--port', '80'], options)).toEqual({ port: '80', json: false })
    expect(() => parseFlags(['--bogus'], options)).toThrow(UsageError)
    expect(() => parseFlags(['--port'], options)).toThrow(UsageError)
    expect(() => parseFlags(['stray'], options)).toThrow(UsageError)
  })
})
