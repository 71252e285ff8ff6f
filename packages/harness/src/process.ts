import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'

/**
 * Spawn a server and resolve once a line of its output matches `ready`; reject with its output
 * when it exits first or stays silent past `timeoutMs`. No polling, no sleeps.
 */
export async function spawnUntilReady(command: string, args: readonly string[], ready: RegExp, timeoutMs = 10_000): Promise<ChildProcess> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let output = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`${command} did not become ready in ${timeoutMs} ms:\n${output}`)), timeoutMs)
    const onData = (chunk: Buffer): void => {
      output += chunk.toString()
      if (ready.test(output)) finish()
    }
    const onExit = (code: number | null, signal: string | null): void =>
      fail(new Error(`${command} exited (${signal ?? code}) before it was ready:\n${output}`))
    const onError = (error: Error): void => fail(error)
    function cleanup(): void {
      clearTimeout(timer)
      child.stdout?.off('data', onData)
      child.stderr?.off('data', onData)
      child.off('exit', onExit)
      child.off('error', onError)
    }
    function finish(): void {
      cleanup()
      resolve()
    }
    function fail(error: Error): void {
      cleanup()
      child.kill('SIGKILL')
      reject(error)
    }
    child.stdout?.on('data', onData)
    child.stderr?.on('data', onData)
    child.once('exit', onExit)
    child.once('error', onError)
  })
  // Keep draining output so a chatty server never blocks on a full pipe.
  child.stdout?.resume()
  child.stderr?.resume()
  return child
}

/** Stop a child and wait for it to be gone. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill(signal)
  await exited
}
