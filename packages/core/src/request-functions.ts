import { ErrorCodes, SluiceRequestError } from './errors.js'
import { isThenable } from './thenable.js'

/**
 * The one rule for the functions an app passes that run per request (`key`, `key.verify`,
 * `cost`, …): one that throws, or returns something it must not, is a coded 500 for that
 * request (`SluiceRequestError`), never a free pass and never another request's problem.
 */

function threw(option: string, error: unknown): SluiceRequestError {
  return new SluiceRequestError(ErrorCodes.REQUEST_FUNCTION_FAILED, option, `@sluice: the \`${option}\` function threw`, { cause: error })
}

/** The error for a request function's result that cannot be used. */
export function badValue(option: string, expected: string, value: unknown): SluiceRequestError {
  const got = typeof value === 'string' ? (value === '' ? 'an empty string' : 'a string') : value === null ? 'null' : typeof value
  return new SluiceRequestError(
    ErrorCodes.INVALID_REQUEST_VALUE,
    option,
    `@sluice: the \`${option}\` function must return ${expected}, got ${got}`,
  )
}

/**
 * Call a request function and check its result. Synchronous when the function is (an await per
 * request is not free); a promise, or any thenable, is awaited.
 */
export function callRequestFunction<R>(option: string, call: () => unknown, check: (value: unknown) => R): R | Promise<R> {
  let value: unknown
  let thenable: boolean
  try {
    value = call()
    // Inside the try: a `then` getter that throws is the function's failure too.
    thenable = isThenable(value)
  } catch (error) {
    throw threw(option, error)
  }
  if (!thenable) return check(value)
  return Promise.resolve(value).then(check, (error: unknown) => {
    throw threw(option, error)
  })
}

/** The check for a request function that answers yes or no (`skip`, `key.verify`). */
export function checkedBoolean(option: string): (value: unknown) => boolean {
  return (value) => {
    if (typeof value !== 'boolean') throw badValue(option, 'true or false', value)
    return value
  }
}
