/** A monotonic millisecond clock that moves only when a test moves it. */
export interface ManualClock {
  readonly now: () => number
  advance(ms: number): void
}

export function manualClock(startMs = 0): ManualClock {
  let t = startMs
  return {
    now: () => t,
    advance(ms) {
      t += ms
    },
  }
}
