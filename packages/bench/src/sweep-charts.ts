import { type XySeries, xyChart } from '@sluice/loadtest/chart'
import type { SweepLevel, SweepResult, SweepTarget } from './results.js'
import { levelName, SWEEP_TARGETS } from './sweep.js'
import { TARGETS } from './targets/catalog.js'

/** One chart of the sweep, written beside the report, which links it by `file`. */
export interface SweepChart {
  readonly file: string
  readonly title: string
  readonly svg: string
}

export const LATENCY_CHART = 'latency-added.svg'
export const REDIS_CPU_CHART = 'redis-cpu-per-request.svg'

// The saturated closed loop sits at the right end, where a paced load would reach saturation.
const SATURATED_X = 100
const xOf = (level: SweepLevel): number => (level.share === undefined ? SATURATED_X : level.share * 100)

/** The loads on the offered-load axis: the paced shares and the saturated closed loop. */
const onAxis = (sweep: SweepResult): SweepLevel[] => sweep.levels.filter((level) => level.kind !== 'autocannon')

function chart(
  sweep: SweepResult,
  file: string,
  title: string,
  include: (t: SweepTarget) => boolean,
  y: (t: SweepTarget) => number,
): SweepChart {
  const names = sweep.levels[0]?.targets.filter((t) => t.unavailable === undefined && include(t)).map((t) => t.target) ?? []
  const series: XySeries[] = names.map((name) => ({
    name: TARGETS[name].label,
    // A target looks the same in every chart of the sweep.
    style: SWEEP_TARGETS.indexOf(name),
    points: onAxis(sweep).map((level) => {
      const t = level.targets.find((x) => x.target === name)!
      // A run that fell behind its load measured a queue, not the load: off the line (the table flags it).
      return { x: xOf(level), y: t.keptUp ? y(t) : Number.NaN }
    }),
  }))
  const svg = xyChart({
    title,
    className: 'sweep',
    xLabel: 'offered load, share of the headers-only saturation rate',
    xMax: SATURATED_X + 5,
    ticks: onAxis(sweep).map((level) => ({ x: xOf(level), label: levelName(level) })),
    series,
    width: 720,
    height: 340,
  })
  return { file, title, svg: `${svg}\n` }
}

/** Latency added over the headers-only baseline, and Redis CPU per request, against offered load. */
export function sweepCharts(sweep: SweepResult): SweepChart[] {
  return [
    chart(
      sweep,
      LATENCY_CHART,
      'Mean latency added over headers only, µs',
      // The baseline is its own zero.
      (t) => t.target !== sweep.baseline,
      (t) => t.addedMeanMs * 1000,
    ),
    chart(
      sweep,
      REDIS_CPU_CHART,
      'Redis CPU per request, µs',
      (t) => TARGETS[t.target].limits,
      (t) => t.redisUs,
    ),
  ]
}
