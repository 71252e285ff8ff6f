import fc from 'fast-check'
import { describe, it } from 'vitest'
import { MemoryStore } from '../../src/stores/memory-store.js'
import { agrees, settleScenario } from '../support/settle-model.js'

describe('memory store: interleaved checks and settles against a reference model', () => {
  it('agrees on every reply', async () => {
    let run = 0
    await fc.assert(
      fc.asyncProperty(settleScenario, async (scenario) => {
        const origin = BigInt(scenario.startS) * 1_000_000n
        let nowNs = 0
        const memory = new MemoryStore({ clock: () => nowNs })
        const at = (nowUs: bigint): void => {
          nowNs = Number((nowUs - origin) * 1_000n)
        }
        await agrees(scenario, ++run, {
          check: (request, nowUs) => {
            at(nowUs)
            return memory.checkSync(request)
          },
          settle: (request, nowUs) => {
            at(nowUs)
            return memory.settleSync(request)
          },
        })
      }),
      { numRuns: 300 },
    )
  })
})
