import { didYouMean } from './did-you-mean.js'
import { ErrorCodes, SluiceOptionError } from './errors.js'

/** The option error for a bad value: names the option, what was expected, and what came. */
export function invalid(option: string, value: unknown, expected: string): SluiceOptionError {
  return new SluiceOptionError(ErrorCodes.INVALID_OPTION, option, value, expected)
}

/** An object whose fields can be read as options or arguments: not null, not an array. */
export function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value)
}

export function assertPlainObject(value: unknown, option: string): asserts value is Record<string, unknown> {
  if (!isPlainObject(value)) {
    throw invalid(option, value, 'expected an object')
  }
}

/** Reject option names nobody reads: a typo must not silently fall back to a default. */
export function assertKnownOptions(input: Record<string, unknown>, known: readonly string[], path = ''): void {
  for (const name of Object.keys(input)) {
    if (!known.includes(name)) throw unknownOption(input, name, known, path)
  }
}

/** The error for an option name nobody reads, with the known name it most likely meant. */
export function unknownOption(input: Record<string, unknown>, name: string, known: readonly string[], path: string): SluiceOptionError {
  const meant = didYouMean(name, known)
  const hint = meant === undefined ? `unknown option (known: ${known.join(', ')})` : `unknown option (did you mean \`${path}${meant}\`?)`
  return new SluiceOptionError(ErrorCodes.UNKNOWN_OPTION, `${path}${name}`, input[name], hint)
}

export function wholeNumber(value: unknown, option: string, min: number, max: number): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max) {
    throw invalid(option, value, `expected a whole number from ${min} to ${max}`)
  }
  return value
}

export function optionalWhole(value: unknown, option: string, fallback: number, min: number, max: number): number {
  return value === undefined ? fallback : wholeNumber(value, option, min, max)
}
