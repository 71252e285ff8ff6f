import { expect, it } from 'vitest'
import { SMOKE_CONFIG } from '../src/config.js'
import { renderMarkdown } from '../src/markdown.js'
import { MEMORY_LIBRARIES } from '../src/memory.js'
import { runBenchmark } from '../src/runner.js'
import { SCENARIO_NAMES } from '../src/scenarios.js'
import { TARGETS } from '../src/targets/catalog.js'

// The smoke benchmark through the code path the CLI takes. It proves the harness works: every
// target answered, the limiters limited, Redis's own counters were read. It says nothing about
// speed, so no figure is compared with another. About 40 s on a 2-core machine.
it("runs every scenario against every target and reads Redis's accounting", { timeout: 120_000 }, async () => {
  const result = await runBenchmark(SMOKE_CONFIG)

  expect(result.scenarios.map((s) => s.name)).toEqual([...SCENARIO_NAMES])
  for (const s of result.scenarios) {
    const ceiling = s.targets.find((t) => t.target === s.ceiling)!
    expect(ceiling.medianRps, `${s.name}: ceiling req/s`).toBeGreaterThan(0)
    for (const t of s.targets) {
      const where = `${s.name}/${t.target}`
      expect(t.unavailable, `${where} did not start`).toBeUndefined()
      expect(t.samples, where).toHaveLength(SMOKE_CONFIG.rounds)
      expect(t.responses, `${where}: responses`).toBeGreaterThan(0)
      // Errors or 5xx would mean a target is miswired (say, not reaching Redis), not slow.
      expect(t.failures, `${where}: errors and other statuses`).toBe(0)
      if (s.expect === 'allowed') expect(t.denied, `${where}: 429s where all are allowed`).toBe(0)
      if (!TARGETS[t.target].limits) continue
      if (s.expect === 'denied') expect(t.denied, `${where}: 429s in the flood`).toBeGreaterThan(0)
      expect(t.commandsPerResponse, `${where}: Redis commands per response`).toBeGreaterThan(0)
      expect(t.scriptCallsPerResponse, `${where}: script calls per response`).toBeGreaterThan(0)
      // Sluice counts checks it answered without Redis (past its 100 ms budget on a starved
      // machine): a few can happen; many would mean the target is not reaching Redis at all.
      if (t.degraded !== undefined) expect(t.degraded, `${where}: degraded answers`).toBeLessThan(0.05 * t.responses)
    }
  }
  const oneKey = result.scenarios.find((s) => s.name === 'one-key')!
  for (const name of ['sluice', 'fastify-rate-limit'] as const) {
    expect(oneKey.targets.find((t) => t.target === name)!.scriptCallsPerOk, `${name}: script calls per 2xx`).toBeGreaterThan(0)
  }

  expect(result.memory.map((m) => m.library)).toEqual([...MEMORY_LIBRARIES])
  for (const m of result.memory) {
    expect(m.bytesPerKey, `${m.library}: bytes per key`).toBeGreaterThan(0)
    expect(m.floorBytesPerKey, `${m.library}: floor bytes per key`).toBeGreaterThan(0)
    expect(m.ttlMs, `${m.library}: the key expires`).toBeGreaterThan(0)
  }

  const markdown = renderMarkdown(result, { command: 'smoke' })
  expect(markdown).toContain('## Issue 6 targets')
  expect(markdown).toContain('Smoke run')
  for (const target of Object.values(TARGETS)) expect(markdown).toContain(target.label)
})
