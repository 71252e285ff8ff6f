import { type ParseArgsConfig, parseArgs } from 'node:util'

/** A mistake in how a command was called: the command prints it with its usage and exits 2. */
export class UsageError extends Error {
  override name = 'UsageError'
}

/**
 * A plain decimal (`12`, `0.5`) as a number. `Number` also takes `''`, `0x10`, `1e3` and `' 7'`,
 * which nobody means in a flag or an environment variable: those are NaN, which no range check
 * accepts.
 */
export function decimal(value: string): number {
  return /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN
}

/** A flag's whole number, at least `min`: `fallback` when the flag is absent; anything else is a UsageError naming `--name`. */
export function wholeFlag(value: string | undefined, name: string, fallback: number, min = 1): number {
  if (value === undefined) return fallback
  const n = decimal(value)
  if (!Number.isInteger(n) || n < min) throw new UsageError(`--${name} must be a whole number ≥ ${min}, got ${JSON.stringify(value)}`)
  return n
}

type FlagOptions = NonNullable<ParseArgsConfig['options']>
/** The values `parseArgs` reads for `options`, typed by them. */
export type Flags<O extends FlagOptions> = ReturnType<typeof parseArgs<{ args: string[]; strict: true; options: O }>>['values']

/** `parseArgs`, strict, with its complaints (an unknown flag, a missing value) as `UsageError`s. */
export function parseFlags<const O extends FlagOptions>(argv: readonly string[], options: O): Flags<O> {
  try {
    return parseArgs({ args: [...argv], strict: true, options }).values
  } catch (error) {
    throw new UsageError((error as Error).message)
  }
}

/**
 * The parsed command line, or the end of the process: a `UsageError` is printed with the usage
 * (exit 2), `--help` prints the usage (exit 0).
 */
export function parseOrExit<T extends { readonly help: boolean }>(
  command: string,
  usage: string,
  parse: (argv: readonly string[]) => T,
  argv: readonly string[] = process.argv.slice(2),
): T {
  let parsed: T
  try {
    parsed = parse(argv)
  } catch (error) {
    if (!(error instanceof UsageError)) throw error
    process.stderr.write(`${command}: ${error.message}\n\n${usage}\n`)
    process.exit(2)
  }
  if (parsed.help) {
    process.stdout.write(`${usage}\n`)
    process.exit(0)
  }
  return parsed
}
