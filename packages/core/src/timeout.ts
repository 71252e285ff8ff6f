import { remaining } from './deadline.js'
import { refused } from './errors.js'
import type { Deadline } from './types.js'

/**
 * Settle with `promise`, or reject with ERR_SLUICE_STORE_TIMEOUT (`refused('sent')`) at
 * `deadline`, so no request waits on a slow or reconnecting store beyond its budget. The timer
 * is unref'd: a pending budget never keeps a process alive.
 */
export function withTimeout<T>(promise: Promise<T>, deadline: Deadline): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    // Whole ms, rounded up: a timer must not fire before the deadline it stands for.
    const timer = setTimeout(() => reject(refused('sent')), Math.max(0, Math.ceil(remaining(deadline))))
    timer.unref()
    promise.then(
      (value) => {
        clearTimeout(timer)
        resolve(value)
      },
      (error: unknown) => {
        clearTimeout(timer)
        reject(error)
      },
    )
  })
}
