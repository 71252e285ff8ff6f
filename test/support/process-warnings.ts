import { afterEach, beforeEach, expect } from 'vitest'

interface SeenWarning {
  readonly code: string
  readonly message: string
}

// One module instance per test file: the setup file and the tests import the same copy.
let seen: SeenWarning[] = []
let expected = false
const listener = (warning: Error & { code?: string }): void =>
  void seen.push({ code: warning.code ?? warning.name, message: warning.message })

/**
 * For a test about Sluice's default logger (process warnings): this test's warnings are its own to
 * assert, and the unit setup does not fail it for them.
 */
export function processWarnings(): { readonly codes: string[] } {
  expected = true
  return {
    get codes() {
      return seen.map((w) => w.code)
    },
  }
}

/**
 * A unit test that makes a process warning it did not ask for fails: a warning printed on every run
 * is one nobody reads, and it hides the one that matters. Tests pass a recording logger instead.
 */
export function failOnUnexpectedProcessWarnings(): void {
  beforeEach(() => {
    seen = []
    expected = false
    process.on('warning', listener)
  })
  afterEach(async () => {
    // process.emitWarning delivers on a later tick: let a warning from the test's last step arrive.
    await new Promise((resolve) => setImmediate(resolve))
    process.off('warning', listener)
    if (!expected) expect(seen, 'process warnings this test did not expect (pass a recording logger)').toEqual([])
  })
}
