import { describe, expect, it } from 'vitest'
import { replicaCommand } from '../../src/replica-process.js'

describe('replicaCommand', () => {
  it("runs replica.js beside a built module, with the parent's flags as they are", () => {
    expect(replicaCommand('file:///app/packages/demo/dist/replica-process.js', ['--enable-source-maps'])).toEqual({
      script: '/app/packages/demo/dist/replica.js',
      execArgv: ['--enable-source-maps'],
    })
  })

  it('runs replica.ts beside a source module, adding the TypeScript loader once', () => {
    const source = 'file:///repo/packages/demo/src/replica-process.ts'
    expect(replicaCommand(source, ['--require', 'x.cjs'])).toEqual({
      script: '/repo/packages/demo/src/replica.ts',
      execArgv: ['--require', 'x.cjs', '--conditions=sluice:source', '--import', 'tsx'],
    })
    const underTsx = ['--conditions=sluice:source', '--import', 'tsx']
    expect(replicaCommand(source, underTsx).execArgv).toEqual(underTsx)
  })
})
