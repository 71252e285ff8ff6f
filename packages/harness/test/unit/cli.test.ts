import { describe, expect, it } from 'vitest'
import { decimal, parseFlags, UsageError } from '../../src/cli.js'

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
