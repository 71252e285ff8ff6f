import { createLimiter } from '../../src/adapter.js'
import type { SluiceOptionError } from '../../src/index.js'
import type { LimiterOptions } from '../../src/types.js'

/** A limiter from options a test writes freely, typed or not. */
export const create = (options: object) => createLimiter(options as LimiterOptions<unknown>)

/** The error `run` throws; a test fails if it throws nothing. */
export function refused(run: () => unknown): SluiceOptionError {
  try {
    run()
  } catch (error) {
    return error as SluiceOptionError
  }
  throw new Error('accepted')
}
