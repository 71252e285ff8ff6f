import { ErrorCodes, SluiceError } from './errors.js'

/**
 * Settle with `promise`, or reject with ERR_SLUICE_STORE_TIMEOUT once `ms` have passed, so no
 * request waits on a slow or reconnecting store beyond its budget. The timer is unref'd: a
 * pending budget never keeps a process alive.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  if (ms === Number.POSITIVE_INFINITY) return promise
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      reject(new SluiceError(ErrorCodes.STORE_TIMEOUT, `@sluice: the store did not answer within ${Math.round(ms)} ms`))
    }, ms)
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
