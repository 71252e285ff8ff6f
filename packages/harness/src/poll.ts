import { setTimeout as delay } from 'node:timers/promises'

/**
 * Ask `probe` every `intervalMs` until it answers true. `signal` ends the wait, rejecting with its
 * reason: `AbortSignal.timeout(ms)` for a deadline. Written here rather than taken from p-wait-for,
 * whose 6.0 leaves one abort listener on the signal per wait (Node 20 warns after ten).
 */
export async function pollUntil(probe: () => Promise<boolean>, intervalMs: number, signal?: AbortSignal): Promise<void> {
  for (;;) {
    signal?.throwIfAborted()
    if (await probe()) return
    // An abort ends the delay early; the check above then throws the signal's own reason.
    await delay(intervalMs, undefined, { signal }).catch(() => {})
  }
}
