import type { ServerResponse } from 'node:http'

/**
 * Run `fn` exactly once when the response has ended: on `'close'`, which Node emits after a
 * finish (sent in full) and on an abort (the client went away mid-stream, the handler failed
 * and the socket was destroyed), or at once, in a microtask, when the response had already
 * closed before the decision came (the connection dropped before the handler ran). The one
 * response-end path of both adapters (Fastify hands it `reply.raw`): every end step (a settle, a lease's release) goes through
 * it. `fn` must not throw; if it does, the throw is swallowed rather than crash the process
 * from an event listener.
 */
export function onResponseEnd(res: ServerResponse, fn: () => void): void {
  let done = false
  const run = (): void => {
    if (done) return
    done = true
    try {
      fn()
    } catch {
      // The response has gone: there is no one left to tell.
    }
  }
  if (hasClosed(res)) {
    queueMicrotask(run)
    return
  }
  res.once('close', run)
}

/**
 * Whether the response has already closed. An HTTP/1 `ServerResponse` says so in `closed`; an
 * `Http2ServerResponse` (Fastify's `http2: true`) has no `closed`, and its stream does: read
 * as "open", a stream the client reset before the decision came would never end its request's
 * end steps (an in-flight slot held and renewed for as long as the process lives).
 */
function hasClosed(res: ServerResponse): boolean {
  if (typeof res.closed === 'boolean') return res.closed
  const stream = (res as { readonly stream?: { readonly closed?: unknown; readonly destroyed?: unknown } }).stream
  return stream?.closed === true || stream?.destroyed === true
}
