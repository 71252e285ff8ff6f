import { createServer } from 'node:net'

/** A TCP port on 127.0.0.1 that was free a moment ago (the OS picks it). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, '127.0.0.1', () => {
      const address = server.address()
      server.close(() => (typeof address === 'object' && address !== null ? resolve(address.port) : reject(new Error('no port'))))
    })
  })
}

/** Whether an error (or the output it quotes) says a port was taken: Node, redis-server and nginx each word it their way. */
export function isAddressInUse(error: unknown): boolean {
  return /EADDRINUSE|address already in use/i.test(String(error))
}

const PORT_ATTEMPTS = 5

/**
 * Start something on a free port. A free port can be taken between the probe and the bind, so a
 * start that fails for that reason is tried again on another one, a few times; a port the caller
 * chose (`port`) is tried once. Resolves with the port and what `start` resolved with.
 */
export async function onFreePort<T>(start: (port: number) => Promise<T>, port?: number): Promise<[port: number, started: T]> {
  if (port !== undefined) return [port, await start(port)]
  for (let attempt = 1; ; attempt++) {
    const candidate = await freePort()
    try {
      return [candidate, await start(candidate)]
    } catch (error) {
      if (!isAddressInUse(error) || attempt >= PORT_ATTEMPTS) throw error
    }
  }
}
