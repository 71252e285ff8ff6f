import { access, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { onFreePort } from '../../src/free-port.js'
import { pollUntil } from '../../src/poll.js'
import { outputMatches, probeUntil, type ReadyProcess, spawnUntilReady, stopProcess } from '../../src/process.js'

// Real child processes: small Node scripts that behave like the servers the harness starts.
const started: ReadyProcess<unknown>[] = []
afterEach(async () => {
  await Promise.all(started.splice(0).map((p) => stopProcess(p.child, { signal: 'SIGKILL' })))
})

async function node<T>(script: string, ready: Parameters<typeof spawnUntilReady<T>>[2]): Promise<ReadyProcess<T>> {
  const p = await spawnUntilReady(process.execPath, ['-e', script], ready)
  started.push(p)
  return p
}

/** Whether a process with this pid still exists. */
function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const SERVE = 'setInterval(() => {}, 1000)'

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  )

describe('spawnUntilReady', () => {
  it('resolves once the output matches, and keeps the tail of the output', async () => {
    const p = await node(`process.stdout.write('x'.repeat(10000)); console.error('Ready to serve'); ${SERVE}`, {
      ready: outputMatches(/Ready to serve/),
    })
    expect(p.output()).toHaveLength(4_000)
    expect(p.output().trim().endsWith('Ready to serve')).toBe(true)
    expect(alive(p.child.pid!)).toBe(true)
  })

  it('resolves once a probe answers true, with what the readiness check resolved with', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sluice-harness-'))
    try {
      const flag = join(dir, 'up')
      const p = await node(`setTimeout(() => require('node:fs').writeFileSync(${JSON.stringify(flag)}, ''), 100); ${SERVE}`, {
        ready: async (context) => {
          await probeUntil(() => exists(flag), 10)(context)
          return 'up'
        },
      })
      expect(p.value).toBe('up')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })

  it('rejects with the exit status and the tail of the output when the child exits first', async () => {
    await expect(
      node(`console.error('bad config: port'); process.exit(3)`, { name: 'server-1', ready: outputMatches(/never/) }),
    ).rejects.toThrow(/^server-1 exited \(3\) before it was ready:\nbad config: port$/)
  })

  it('gives up after the timeout, and the child is gone by then', async () => {
    let pid = 0
    await expect(
      node(SERVE, {
        timeoutMs: 300,
        ready: ({ child }) => {
          pid = child.pid!
          return new Promise<never>(() => {})
        },
      }),
    ).rejects.toThrow(/^node was not ready within 300 ms:/)
    expect(pid).toBeGreaterThan(0)
    expect(alive(pid)).toBe(false)
  })

  it("passes the readiness check's own rejection through unchanged", async () => {
    class Unavailable extends Error {}
    const reason = new Unavailable('not on this checkout')
    await expect(node(SERVE, { ready: () => Promise.reject(reason) })).rejects.toBe(reason)
  })

  it('rejects when the command cannot be spawned', async () => {
    await expect(spawnUntilReady('/nonexistent/server', [], { ready: outputMatches(/./) })).rejects.toThrow(/ENOENT/)
  })
})

describe('stopProcess', () => {
  it('resolves with how the child ended: by the signal, or by its own exit', async () => {
    const plain = await node(`console.log('up'); ${SERVE}`, { ready: outputMatches(/up/) })
    expect(await stopProcess(plain.child)).toEqual({ code: null, signal: 'SIGTERM' })
    const graceful = await node(`process.on('SIGTERM', () => process.exit(0)); console.log('up'); ${SERVE}`, {
      ready: outputMatches(/up/),
    })
    expect(await stopProcess(graceful.child)).toEqual({ code: 0, signal: null })
    // Already gone: the same answer again, at once.
    expect(await stopProcess(graceful.child)).toEqual({ code: 0, signal: null })
  })

  it('falls back to SIGKILL when the child ignores the signal', async () => {
    const stubborn = await node(`process.on('SIGTERM', () => {}); console.log('up'); ${SERVE}`, { ready: outputMatches(/up/) })
    expect(await stopProcess(stubborn.child, { killAfterMs: 100 })).toEqual({ code: null, signal: 'SIGKILL' })
  })
})

describe('onFreePort', () => {
  const inUse = (port: number): Error => new Error(`bind 127.0.0.1:${port}: Address already in use`)

  it('tries another port when the one it picked was taken meanwhile', async () => {
    const tried: number[] = []
    const [port, value] = await onFreePort(async (p) => {
      tried.push(p)
      if (tried.length < 3) throw inUse(p)
      return 'started'
    })
    expect(tried).toHaveLength(3)
    expect([port, value]).toEqual([tried[2], 'started'])
  })

  it('gives up after five taken ports, and never retries another failure or a chosen port', async () => {
    let calls = 0
    const taken = async (p: number): Promise<never> => {
      calls++
      throw inUse(p)
    }
    await expect(onFreePort(taken)).rejects.toThrow(/Address already in use/)
    expect(calls).toBe(5)
    calls = 0
    await expect(onFreePort(taken, 1234)).rejects.toThrow(/127\.0\.0\.1:1234/)
    expect(calls).toBe(1)
    calls = 0
    const broken = async (): Promise<never> => {
      calls++
      throw new Error('bad config')
    }
    await expect(onFreePort(broken)).rejects.toThrow('bad config')
    expect(calls).toBe(1)
  })
})

describe('pollUntil', () => {
  it('asks until the probe answers true, and stops at the signal with its reason', async () => {
    let asked = 0
    await pollUntil(async () => ++asked === 3, 1)
    expect(asked).toBe(3)
    const controller = new AbortController()
    asked = 0
    const stopped = pollUntil(
      async () => {
        if (++asked === 2) controller.abort(new Error('deadline'))
        return false
      },
      1,
      controller.signal,
    )
    await expect(stopped).rejects.toThrow('deadline')
    expect(asked).toBe(2)
  })
})
