/** Number formatting shared by the table, the summary and the HTML report. */

export const count = (n: number): string => Math.round(n).toLocaleString('en-US')
export const percent = (share: number): string => `${(share * 100).toFixed(1)}%`
export const seconds = (s: number): string => `${s.toFixed(1)} s`
export const ms = (value: number): string => `${value < 10 ? value.toFixed(1) : Math.round(value)} ms`
/** A rate such as 50/s or 0.5/s. */
export const rate = (perSecond: number): string => `${Number(perSecond.toFixed(2))}/s`
/** The whole number of requests a bound allows. */
export const allowed = (bound: number): string => count(Math.floor(bound))
export const times = (factor: number): string => `${factor.toFixed(1)}×`

/** What load a run put on the gateway, e.g. `6 clients × 2 connections` or `1 client at 40/s`. */
export function describeLoad(load: {
  readonly clients: number
  readonly connectionsPerClient: number
  readonly ratePerSecond: number | undefined
}): string {
  const clients = `${load.clients} client${load.clients === 1 ? '' : 's'}`
  if (load.ratePerSecond !== undefined) return `${clients} at ${rate(load.ratePerSecond)}`
  return `${clients} × ${load.connectionsPerClient} connection${load.connectionsPerClient === 1 ? '' : 's'}`
}
