import { expectTypeOf, test } from 'vitest'
import { parseFlags } from '../../src/cli.js'

test('parseFlags types each value by its option', () => {
  const values = parseFlags([], {
    port: { type: 'string' },
    json: { type: 'boolean', default: false },
    tag: { type: 'string', multiple: true },
  })
  expectTypeOf(values.port).toEqualTypeOf<string | undefined>()
  expectTypeOf(values.json).toEqualTypeOf<boolean>()
  expectTypeOf(values.tag).toEqualTypeOf<string[] | undefined>()
  // @ts-expect-error: not an option
  values.bogus
})
