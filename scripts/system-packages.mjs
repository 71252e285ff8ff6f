#!/usr/bin/env node
// node scripts/system-packages.mjs demo|test
//
// The programs `pnpm demo` and `pnpm test` start besides Node (redis-server, nginx, …), checked
// before anything else runs, so the README's first two lines work on a fresh machine: what is
// missing is installed when this machine can (apt-get as root or through sudo, Homebrew on
// macOS), saying what it installs; otherwise it stops at once with the exact command to run.
// Plain JavaScript without dependencies: it runs before anything is built.
import { spawnSync } from 'node:child_process'
import { accessSync, constants } from 'node:fs'
import { delimiter, join } from 'node:path'

/** Each program, and the Debian package and the Homebrew formula that bring it. */
const PROGRAMS = {
  'redis-server': { apt: 'redis-server', brew: ['redis'] },
  'redis-cli': { apt: 'redis-tools', brew: ['redis'] },
  nginx: { apt: 'nginx-light', brew: ['nginx'] },
  // The load-test report is rendered in headless Chromium by one test.
  chromium: { apt: 'chromium', brew: ['--cask', 'chromium'] },
  // One test skews a replica's clock with it.
  faketime: { apt: 'faketime', brew: ['libfaketime'] },
}

const NEEDS = {
  demo: ['redis-server', 'redis-cli', 'nginx'],
  test: ['redis-server', 'redis-cli', 'nginx', 'chromium', 'faketime'],
}

// Where a program may be besides PATH: nginx lives in sbin on Debian, Chromium in an app bundle on macOS.
const EXTRA_DIRS = ['/usr/sbin', '/usr/local/sbin', '/sbin', '/opt/homebrew/bin', '/Applications/Chromium.app/Contents/MacOS']

function executable(path) {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
}

function found(program) {
  if (program === 'chromium' && process.env.CHROMIUM_PATH) return executable(process.env.CHROMIUM_PATH)
  const names = program === 'chromium' ? ['chromium', 'Chromium'] : [program]
  const dirs = [...(process.env.PATH ?? '').split(delimiter), ...EXTRA_DIRS].filter((d) => d !== '')
  return dirs.some((dir) => names.some((name) => executable(join(dir, name))))
}

const succeeds = (command, args) => spawnSync(command, args, { stdio: 'ignore' }).status === 0
const quote = (args) => args.map((a) => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`)).join(' ')

/** The commands that install `missing` here, and whether this process may run them itself. */
function plan(missing) {
  if (process.platform === 'darwin') {
    const formulae = [...new Set(missing.flatMap((p) => (PROGRAMS[p].brew[0] === '--cask' ? [] : PROGRAMS[p].brew)))]
    const casks = missing.filter((p) => PROGRAMS[p].brew[0] === '--cask').map((p) => PROGRAMS[p].brew)
    const commands = [...(formulae.length > 0 ? [['brew', 'install', ...formulae]] : []), ...casks.map((c) => ['brew', 'install', ...c])]
    return { tool: 'Homebrew', commands, runnable: succeeds('brew', ['--version']), hint: 'Homebrew (https://brew.sh) is not installed' }
  }
  if (process.platform === 'linux' && succeeds('apt-get', ['--version'])) {
    const packages = [...new Set(missing.map((p) => PROGRAMS[p].apt))]
    const root = process.getuid?.() === 0
    // sudo that needs no password, or one it can ask for on this terminal.
    const sudo = !root && succeeds('sudo', ['--version']) && (succeeds('sudo', ['-n', 'true']) || process.stdin.isTTY === true)
    const apt = [...(root ? [] : ['sudo']), 'apt-get']
    return {
      tool: 'apt-get',
      commands: [
        [...apt, 'update'],
        [...apt, 'install', '-y', '--no-install-recommends', ...packages],
      ],
      runnable: root || sudo,
      hint: 'this user is not root and cannot use sudo',
    }
  }
  return { tool: undefined, commands: [], runnable: false, hint: `no supported package manager on ${process.platform}` }
}

const what = process.argv[2]
if (!(what in NEEDS)) {
  process.stderr.write(`usage: node scripts/system-packages.mjs ${Object.keys(NEEDS).join('|')}\n`)
  process.exit(2)
}
const missing = NEEDS[what].filter((p) => !found(p))
if (missing.length === 0) process.exit(0)

const say = (line) => process.stderr.write(`sluice: ${line}\n`)
const p = plan(missing)
say(`pnpm ${what} needs ${missing.join(', ')}, not found on this machine.`)
if (!p.runnable) {
  if (p.commands.length > 0)
    say(`${p.hint}. Install ${missing.length === 1 ? 'it' : 'them'} with:\n\n  ${p.commands.map(quote).join(' && ')}\n`)
  else say(`${p.hint}: install ${missing.join(', ')}, then run it again.`)
  process.exit(1)
}
for (const command of p.commands) {
  say(`installing with ${p.tool}: ${quote(command)}`)
  // DEBIAN_FRONTEND: no debconf dialog on a terminal (sudo drops it; these packages ask nothing anyway).
  const result = spawnSync(command[0], command.slice(1), { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } })
  if (result.status !== 0) {
    say(`\`${quote(command)}\` failed (${result.error?.message ?? `exit ${result.status}`}).`)
    process.exit(1)
  }
}
const still = missing.filter((program) => !found(program))
if (still.length > 0) {
  say(`${still.join(', ')} still not found after installing: check the output above.`)
  process.exit(1)
}
say(`installed ${missing.join(', ')}.`)
