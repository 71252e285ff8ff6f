import type { RateLimitResult } from './types.js'

/**
 * What happens once a checked request's response has ended, as a list of end steps: each makes,
 * from a request's admission, the work its end needs (a settle of its cost; issue 22 adds the
 * release of its in-flight leases), or nothing. A decision carries their composition as
 * `onEnd`, and the adapter runs it once, from its `onResponseEnd` ('close', which fires after a
 * finish and on an abort). A request with nothing to do gets no `onEnd`, so no listener.
 *
 * Adding a step: a function `(admission) => OnEnd | undefined`, appended where the route's
 * steps are made (`LimiterCore.endSteps`). A step owns its failures: it must never throw, and
 * its promises must never reject unhandled (the response has gone; there is no one to tell).
 */

/** A request's admission, as an end step sees it. */
export interface Admission {
  /** The route, as `DecisionEvent.route` names it. */
  readonly route: string
  /** The admitted request's result (`request.rateLimit`). */
  readonly result: RateLimitResult
  /** The in-flight slots it took, when it took any: released by the release step. */
  readonly lease?: { release(): Promise<void> }
}

/** The work of one request's end: run once, after its response has ended. */
export type OnEnd<Req, Rep> = (request: Req, reply: Rep) => void

/** Makes a request's end work from its admission; undefined when it has none. */
export type EndStep<Req, Rep> = (admission: Admission) => OnEnd<Req, Rep> | undefined

/** The end work of every step for one admission, run in order; undefined when there is none. */
export function composeEnd<Req, Rep>(steps: readonly EndStep<Req, Rep>[], admission: Admission): OnEnd<Req, Rep> | undefined {
  let first: OnEnd<Req, Rep> | undefined
  let more: OnEnd<Req, Rep>[] | undefined
  for (const step of steps) {
    const end = step(admission)
    if (end === undefined) continue
    if (first === undefined) first = end
    else if (more === undefined) more = [end]
    else more.push(end)
  }
  if (first === undefined || more === undefined) return first
  const all = [first, ...more]
  return (request, reply) => {
    // One step's bug must not keep the next from running (a lease must be released whatever a settle did).
    for (const end of all) {
      try {
        end(request, reply)
      } catch {
        // A step owns its failures; a throw here is a bug in one, ignored for the others' sake.
      }
    }
  }
}
