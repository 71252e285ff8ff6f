import { describe, expect, it } from 'vitest'
import { admissionBound, admissionFloor, judge, MAX_STEADY_DENIED_SHARE, stalledDenials } from '../../src/bound.js'

const client = (admitted: number, bound: number, requests = 1_000, limited = requests - admitted, floor = bound - 10) => ({
  admitted,
  bound,
  requests,
  limited,
  floor,
})

describe('admissionBound', () => {
  it('is the full bucket plus what refilled during the window', () => {
    expect(admissionBound(100, 50, 4)).toBe(300)
    expect(admissionBound(10, 0.5, 3)).toBe(11.5)
    expect(admissionBound(1, 1, 0)).toBe(1)
  })
})

describe('admissionFloor', () => {
  it('is the full bucket plus what refilled between the first and last denial, less a token refilling and one per connection', () => {
    expect(admissionFloor(100, 50, 3.9, 1)).toBe(293)
    expect(admissionFloor(100, 50, 3.9, 8)).toBe(286)
    expect(admissionFloor(100, 50, -0.1, 2)).toBe(97)
    // Never denied: nothing is known beyond the full bucket.
    expect(admissionFloor(100, 50, undefined, 2)).toBe(98)
  })
})

describe('judge, saturating runs', () => {
  it('passes a client admitted exactly the bound, and one admitted exactly its floor', () => {
    expect(judge([client(300, 300)], true).pass).toBe(true)
    expect(judge([client(290, 300)], true)).toMatchObject({ pass: true, nearBound: true })
  })

  it('fails one request over the bound: the bound is strict', () => {
    expect(judge([client(301, 300)], true)).toMatchObject({ pass: false, withinBound: false, nearBound: true })
  })

  it('fails a client one under its floor: tokens were lost', () => {
    expect(judge([client(289, 300)], true)).toMatchObject({ pass: false, withinBound: true, nearBound: false })
  })

  it('judges every client: one over-admitted client fails the run', () => {
    const v = judge([client(299, 300), client(300, 300), client(900, 300)], true)
    expect(v).toMatchObject({ pass: false, withinBound: false })
    expect(v.highestShare).toBe(3)
    expect(v.lowestShare).toBeCloseTo(299 / 300)
  })

  it('fails a run with no clients', () => {
    expect(judge([], true).pass).toBe(false)
  })
})

describe('judge, steady runs', () => {
  it('passes with at most 1% denied, whatever the share of the bound', () => {
    expect(judge([client(160, 250, 160, 0)], false)).toMatchObject({ pass: true, deniedShare: 0 })
    expect(judge([client(99, 250, 100, 1)], false)).toMatchObject({ pass: true, deniedShare: MAX_STEADY_DENIED_SHARE })
  })

  it('fails when more is denied, or when nothing was sent', () => {
    expect(judge([client(98, 250, 100, 2)], false)).toMatchObject({ pass: false, fewDenied: false })
    expect(judge([client(0, 250, 0, 0)], false).pass).toBe(false)
  })
})

describe('stalledDenials', () => {
  const fillMs = 2000 // capacity 100 at 50/s

  it('finds no stall in a saturated run: denials closer than the bucket takes to fill', () => {
    const denials = Array.from({ length: 50 }, (_, i) => ({ sentMs: i * 10, receivedMs: i * 10 + 3 }))
    expect(stalledDenials(denials, [], fillMs, 20)).toEqual({ seconds: 0, count: 0 })
  })

  it('leaves out the time a bucket may have been full while the client stopped asking, with a token of slack each', () => {
    // Asked until 100 ms, then nothing until 3,100 ms: the bucket, empty at the last denial sent at
    // 100 ms at the latest, may have been full from 2,100 ms to the next denial's answer at 3,105 ms.
    const denials = [
      { sentMs: 0, receivedMs: 5 },
      { sentMs: 100, receivedMs: 105 },
      { sentMs: 3100, receivedMs: 3105 },
      { sentMs: 3110, receivedMs: 3115 },
    ]
    const stalls = stalledDenials(denials, [], fillMs, 20)
    expect(stalls.count).toBe(1)
    expect(stalls.seconds).toBeCloseTo(1.005)
    // The floor drops by what refilled in that time and the one token.
    expect(admissionFloor(100, 50, 3.105, 1, 0, stalls)).toBeCloseTo(admissionFloor(100, 50, 3.105, 1) - 50 * 1.005 - 1)
  })

  it('takes denials in the order they were sent, whatever order they were answered in', () => {
    const answeredLate = [
      { sentMs: 3100, receivedMs: 3105 },
      { sentMs: 0, receivedMs: 2500 },
    ]
    // The bucket was empty at 0 ms at the earliest and again by 3,105 ms: full for 1,105 ms at most.
    expect(stalledDenials(answeredLate, [], fillMs, 20).seconds).toBeCloseTo(1.105)
  })

  it('counts no stall where admissions in between kept taking what refilled', () => {
    const denials = [
      { sentMs: 0, receivedMs: 5 },
      { sentMs: 3100, receivedMs: 3105 },
    ]
    // Sixty admissions at 50 ms apart, each surely between the two denials: 60 tokens the bucket
    // had to refill first, 1.2 s at 50/s, more than the 1.105 s it could otherwise have been full.
    const admissions = Array.from({ length: 60 }, (_, i) => ({ sentMs: 10 + i * 50, receivedMs: 12 + i * 50 }))
    expect(stalledDenials(denials, admissions, fillMs, 20)).toEqual({ seconds: 0, count: 0 })
  })
})
