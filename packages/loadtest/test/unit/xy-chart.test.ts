import { describe, expect, it } from 'vitest'
import { xmlProblems } from '../../../../test/support/xml.js'
import { lineChart, PALETTE, xyChart } from '../../src/chart.js'

const ticks = [
  { x: 10, label: '10 %' },
  { x: 100, label: 'saturated' },
]

/** The y of each dot a series drew, in chart units (y grows downwards). */
function dotsOf(svg: string, name: string): { x: number; y: number }[] {
  const group = new RegExp(`<g class="series" data-series="${name}">(.*?)</g>`).exec(svg)?.[1] ?? ''
  return [...group.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => ({ x: Number(m[1]), y: Number(m[2]) }))
}

describe('xyChart', () => {
  it('draws one well-formed series per line, its dots in x order, higher values higher up', () => {
    const svg = xyChart({
      title: 'Latency added <µs>',
      xLabel: 'offered load',
      xMax: 100,
      ticks,
      series: [
        {
          name: 'a',
          points: [
            { x: 10, y: 5 },
            { x: 50, y: 20 },
            { x: 100, y: 40 },
          ],
        },
        {
          name: 'b & c',
          points: [
            { x: 10, y: 1 },
            { x: 100, y: 2 },
          ],
        },
      ],
    })
    expect(xmlProblems(svg)).toEqual([])
    expect(svg).toContain('Latency added &#60;µs&#62;')
    const a = dotsOf(svg, 'a')
    expect(a).toHaveLength(3)
    expect(a[0]!.x).toBeLessThan(a[1]!.x)
    expect(a[1]!.x).toBeLessThan(a[2]!.x)
    expect(a[0]!.y).toBeGreaterThan(a[2]!.y)
    expect(svg).toContain('data-series="b &#38; c"')
    expect(svg).toContain('>saturated</text>')
  })

  it('extends the axis below zero for negative values, and marks zero', () => {
    const svg = xyChart({
      title: 't',
      xLabel: 'x',
      xMax: 100,
      ticks,
      series: [
        {
          name: 'a',
          points: [
            { x: 10, y: -3 },
            { x: 100, y: 8 },
          ],
        },
      ],
    })
    expect(xmlProblems(svg)).toEqual([])
    // Grid labels: the bottom (a round number under −3), zero, the top (a round number over 8).
    const labels = [...svg.matchAll(/text-anchor="end">(-?[\d.]+)<\/text>/g)].map((m) => Number(m[1]))
    expect(labels).toEqual([-5, 0, 10])
    const [low, high] = dotsOf(svg, 'a')
    expect(low!.y).toBeGreaterThan(high!.y)
  })

  it('leaves a gap at a point not measured instead of drawing through it', () => {
    const svg = xyChart({
      title: 't',
      xLabel: 'x',
      xMax: 100,
      ticks,
      series: [
        {
          name: 'a',
          points: [
            { x: 10, y: 1 },
            { x: 25, y: 2 },
            { x: 50, y: Number.NaN },
            { x: 75, y: 3 },
            { x: 100, y: 4 },
          ],
        },
      ],
    })
    expect(xmlProblems(svg)).toEqual([])
    expect(svg.match(/<polyline/g)).toHaveLength(2)
    expect(dotsOf(svg, 'a')).toHaveLength(4)
    expect(svg).not.toContain('NaN')
  })

  it('leaves the per-second chart as it was: grid from 0 to the top', () => {
    const svg = lineChart({ title: 't', series: [{ name: 'r', values: [3, 7] }] })
    expect(xmlProblems(svg)).toEqual([])
    const labels = [...svg.matchAll(/text-anchor="end">(-?[\d.]+)<\/text>/g)].map((m) => Number(m[1]))
    expect(labels).toEqual([0, 5, 10])
  })

  it('draws a series in the style it names, wherever it is in the list', () => {
    const points = [
      { x: 10, y: 1 },
      { x: 100, y: 2 },
    ]
    const first = xyChart({ title: 't', xLabel: 'x', xMax: 100, ticks, series: [{ name: 'a', points, style: 3 }] })
    const second = xyChart({
      title: 't',
      xLabel: 'x',
      xMax: 100,
      ticks,
      series: [
        { name: 'b', points },
        { name: 'a', points, style: 3 },
      ],
    })
    const stroke = (svg: string): string | undefined => /data-series="a"><polyline fill="none" stroke="([^"]+)"/.exec(svg)?.[1]
    expect(stroke(first)).toBe(PALETTE[3])
    expect(stroke(second)).toBe(PALETTE[3])
  })
})

describe('xmlProblems', () => {
  it('finds what makes a document malformed', () => {
    expect(xmlProblems('<svg><g></svg>')).not.toEqual([])
    expect(xmlProblems('<svg a=b></svg>')).not.toEqual([])
    expect(xmlProblems('<svg>&nbsp;</svg>')).not.toEqual([])
    expect(xmlProblems('<svg/><svg/>')).not.toEqual([])
    expect(xmlProblems('<svg><text>a &amp; b</text></svg>')).toEqual([])
  })
})
