import { findBinary } from '@sluice/harness'
import { type Browser, chromium } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { renderHtml } from '../../src/html.js'
import { fakeReport } from '../fixtures/runs.js'

// Debian's chromium (scripts/system-packages.mjs installs it; Ubuntu's is a snap elsewhere on
// PATH), or Homebrew's app on macOS; playwright-core drives it without downloading a browser.
function chromiumPath(): string {
  if (process.env.CHROMIUM_PATH) return process.env.CHROMIUM_PATH
  try {
    return findBinary('chromium')
  } catch {
    return '/Applications/Chromium.app/Contents/MacOS/Chromium'
  }
}
const CHROMIUM = chromiumPath()
const ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
]

let browser: Browser

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ARGS })
})
afterAll(async () => {
  await browser?.close()
})

describe('the HTML report in a real browser', () => {
  it('renders every run with visible charts, one series per replica, and fetches nothing', async () => {
    // Token buckets decide, as in a real run: one shared per client, then one per replica.
    const html = renderHtml([
      fakeReport({}),
      fakeReport({ scenario: 'many-clients', clients: 4 }),
      fakeReport({ perClient: 3_000, mode: 'local' }),
    ])
    const page = await browser.newPage()
    const requested: string[] = []
    const errors: string[] = []
    await page.route('**/*', async (route) => {
      requested.push(route.request().url())
      await route.abort()
    })
    page.on('console', (m) => m.type() === 'error' && errors.push(m.text()))
    page.on('pageerror', (e) => errors.push(e.message))
    await page.setContent(html, { waitUntil: 'load' })

    // Self-contained: no stylesheet, font, script or image from anywhere.
    expect(requested).toEqual([])
    expect(errors).toEqual([])
    expect(await page.locator('section.pass .badge').allTextContents()).toEqual(['PASS', 'PASS'])
    expect(await page.locator('section.local .badge').allTextContents()).toEqual(['NO SHARED REDIS'])
    expect(await page.locator('section').first().textContent()).toContain('3.0×')

    const charts = await page.locator('svg.chart.per-replica').evaluateAll((svgs) =>
      svgs.map((svg) => {
        const box = svg.getBoundingClientRect()
        const series = [...svg.querySelectorAll('g.series')].map((g) => {
          // getBBox: the drawn extent of the group (lines and dots), in the chart's own units.
          const b = (g as unknown as { getBBox(): { width: number; height: number } }).getBBox()
          return { replica: g.getAttribute('data-replica'), width: b.width, height: b.height }
        })
        return { width: box.width, height: box.height, series }
      }),
    )
    expect(charts).toHaveLength(6)
    for (const chart of charts) {
      expect(chart.width).toBeGreaterThan(100)
      expect(chart.height).toBeGreaterThan(100)
      expect(chart.series.map((s) => s.replica)).toEqual(['replica-1', 'replica-2', 'replica-3'])
      // Spread over the run's seconds: a series is a line across the chart, not a dot.
      for (const s of chart.series) expect(s.width).toBeGreaterThan(100)
    }

    // Per scenario, the worst-off client's admitted requests against capacity + refill × t: under
    // the line with a shared Redis, far above it with each replica on its own.
    const bounds = await page.locator('svg.chart.bound').evaluateAll((svgs) =>
      svgs.map((svg) => {
        const line = svg.querySelector('g.bound line')!
        const [x1, y1, x2, y2] = ['x1', 'y1', 'x2', 'y2'].map((a) => Number(line.getAttribute(a)))
        // Where the line is at x, in the chart's own units (y grows downwards).
        const lineY = (x: number): number => y1! + ((x - x1!) / (x2! - x1!)) * (y2! - y1!)
        const series = [...svg.querySelectorAll('g.series')].map((g) => {
          const points = g
            .querySelector('polyline')!
            .getAttribute('points')!
            .split(' ')
            .map((p: string) => p.split(',').map(Number) as [number, number])
          // How far the curve gets above the line, in chart units: ≤ 0 means never above it.
          const above = Math.max(...points.map(([x, y]: [number, number]) => lineY(x) - y))
          return { name: g.getAttribute('data-series'), points: points.length, above }
        })
        const box = svg.getBoundingClientRect()
        return { width: box.width, height: box.height, lineWidth: x2! - x1!, rising: y1! - y2!, series }
      }),
    )
    expect(bounds).toHaveLength(3)
    for (const chart of bounds) {
      expect(chart.width).toBeGreaterThan(100)
      expect(chart.height).toBeGreaterThan(100)
      expect(chart.lineWidth).toBeGreaterThan(100)
      expect(chart.rising).toBeGreaterThan(10)
    }
    const [burst, many, local] = bounds
    expect(burst!.series.map((s) => s.name)).toEqual(['client 127.0.0.11', 'each replica on its own: client 127.0.0.11'])
    expect(many!.series.map((s) => s.name)).toEqual(['worst-off of 4 clients'])
    expect(local!.series.map((s) => s.name)).toEqual(['each replica on its own: client 127.0.0.11'])
    for (const shared of [burst!.series[0]!, many!.series[0]!]) {
      expect(shared.points).toBe(61)
      // Rounded to a tenth of a unit when drawn.
      expect(shared.above).toBeLessThanOrEqual(0.1)
    }
    for (const alone of [burst!.series[1]!, local!.series[0]!]) expect(alone.above).toBeGreaterThan(30)
    await page.close()
  })

  it('escapes what the replicas and the gateway sent', () => {
    const report = fakeReport({ admittedPerClient: 299 })
    const hostile = {
      ...report,
      replicas: [{ id: '<script>alert(1)</script>', requests: 1, admitted: 1, limited: 0 }],
      timeline: {
        seconds: 1,
        replicas: [{ id: '"><img src=x>', admitted: [1], limited: [0] }],
        worstOff: { label: '<img src=y>', admitted: [0, 1] },
      },
    }
    const html = renderHtml(hostile)
    expect(html).not.toContain('<script>')
    expect(html).not.toContain('<img')
    expect(html).toContain('&#60;script&#62;')
  })

  it("adds notes, such as the replicas' own metrics, as escaped text", () => {
    const html = renderHtml(fakeReport({ admittedPerClient: 299 }), { notes: ['sluice_requests_total: allowed 300 <b>'] })
    expect(html).toContain('<h2>Notes</h2>')
    expect(html).toContain('sluice_requests_total: allowed 300 &#60;b&#62;')
    expect(renderHtml(fakeReport({ admittedPerClient: 299 }))).not.toContain('<h2>Notes</h2>')
  })
})
