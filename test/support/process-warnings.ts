import { afterEach, beforeEach, expect, onTestFinished } from 'vitest'

interface SeenWarning {
  readonly code: string
  readonly message: string
}

// One module instance per test file: the setup file and the tests import the same copy.
let seen: SeenWarning[] = []
const listener = (warning: Error & { code?: string }): void =>
  void seen.push({ code: warning.code ?? warning.name, message: warning.message })

type EmitWarning = typeof process.emitWarning

/** The code a `process.emitWarning` call gives its warning, in each of the call's forms. */
function codeOf(warning: string | Error, options?: unknown, code?: unknown): string {
  if (warning instanceof Error) return (warning as Error & { code?: string }).code ?? warning.name
  if (typeof options === 'object' && options !== null) {
    const { code: given, type } = options as { code?: string; type?: string }
    return given ?? type ?? 'Warning'
  }
  return typeof code === 'string' ? code : typeof options === 'string' ? options : 'Warning'
}

/**
 * For a test about a default logger that speaks through process warnings (Sluice's, Fastify's
 * deprecations): records the codes of the warnings the test makes, instead of letting Node print
 * them, until `stop()` or the end of the test. The unit setup does not fail the test for them.
 */
export function processWarnings(): { readonly codes: string[]; stop(): void } {
  const codes: string[] = []
  const original: EmitWarning = process.emitWarning
  const recorder = ((warning: string | Error, options?: unknown, code?: unknown) => {
    codes.push(codeOf(warning, options, code))
  }) as EmitWarning
  process.emitWarning = recorder
  const stop = (): void => {
    if (process.emitWarning === recorder) process.emitWarning = original
  }
  onTestFinished(stop)
  return { codes, stop }
}

/**
 * A unit test that makes a process warning it did not ask for fails: a warning printed on every run
 * is one nobody reads, and it hides the one that matters. Tests pass a recording logger instead
 * (test/support/recording-logger.ts), or record the warnings with `processWarnings()`.
 */
export function failOnUnexpectedProcessWarnings(): void {
  beforeEach(() => {
    seen = []
    process.on('warning', listener)
  })
  afterEach(async () => {
    // process.emitWarning delivers on a later tick: let a warning from the test's last step arrive.
    await new Promise((resolve) => setImmediate(resolve))
    process.off('warning', listener)
    expect(seen, 'process warnings this test did not expect (pass a recording logger)').toEqual([])
  })
}
