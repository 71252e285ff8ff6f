/**
 * User code may answer with a promise, or with any thenable, wherever it is called: a request
 * function's promise is awaited; a bystander's (a logger's, an observer's) is not, and its
 * rejection must not become the process's unhandled rejection (Node's default exits on one).
 */

/**
 * Whether a value is a promise (or any thenable): the one test for "await only if it is a
 * promise" (`isThenable(x) ? await x : x`), since an await per request is not free.
 */
export function isThenable<T>(value: T | PromiseLike<T>): value is PromiseLike<T> {
  return (
    value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as { then?: unknown }).then === 'function'
  )
}

/** What a bystander returned: when it is a promise, its rejection is ignored, like its throw. */
export function ignoreRejection(value: unknown): void {
  if (!isThenable(value)) return
  try {
    value.then(undefined, () => {
      // A bystander's failure must not become the request's, nor the process's.
    })
  } catch {
    // A thenable whose `then` throws has failed already, synchronously: nothing is left pending.
  }
}
