/** Call an observer hook, never letting it break a request. */
export function notify<E>(hook: ((event: E) => void) | undefined, event: E): void {
  if (hook === undefined) return
  try {
    hook(event)
  } catch {
    // An observer is a bystander: its failure must not become the request's.
  }
}
