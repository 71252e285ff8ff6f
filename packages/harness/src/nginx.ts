import type { ChildProcess } from 'node:child_process'
import { access, chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { connect } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { findBinary } from './binaries.js'
import { onFreePort } from './free-port.js'
import { probeUntil, spawnUntilReady, stopProcess } from './process.js'

/**
 * The gateway template docker-compose mounts into the nginx image: the local runner renders the
 * very same file. `src/` and `dist/` sit at the same depth, so this holds for both.
 */
export const NGINX_TEMPLATE_PATH = fileURLToPath(new URL('../../../nginx/sluice.conf.template', import.meta.url))

export interface NginxUpstream {
  readonly host: string
  readonly port: number
}

export interface NginxOptions {
  /** The replicas, in round-robin order. */
  readonly upstreams: readonly NginxUpstream[]
  /** The gateway's port on 127.0.0.1. @default a free port */
  readonly port?: number
}

/** An nginx this process started, listening on 127.0.0.1, keeping every file in a temp dir. */
export interface NginxServer {
  readonly port: number
  readonly url: string
  /** Stop nginx and remove its temp dir. */
  stop(): Promise<void>
}

// The nginx image's envsubst replaces both `$NAME` and `${NAME}` for the variables its filter
// (^SLUICE_) lets through; accept both spellings so the two renderers cannot disagree.
const PLACEHOLDER = /\$\{(SLUICE_[A-Z0-9_]+)\}|\$(SLUICE_[A-Z0-9_]+)/g

/** The placeholders a template uses, each once, in order of appearance. */
export function templatePlaceholders(template: string): string[] {
  return [...new Set([...template.matchAll(PLACEHOLDER)].map((m) => (m[1] ?? m[2])!))]
}

/**
 * Fill the template's placeholders, as envsubst does in the nginx image, but strictly: a
 * placeholder without a value, or a value without a placeholder, is a mistake in one of the two
 * renderers, so both throw.
 */
export function renderNginxTemplate(template: string, values: Readonly<Record<string, string>>): string {
  const used = templatePlaceholders(template)
  const missing = used.filter((name) => values[name] === undefined)
  const unused = Object.keys(values).filter((name) => !used.includes(name))
  if (missing.length > 0 || unused.length > 0) {
    throw new Error(`nginx template: missing values for [${missing.join(', ')}], values without a placeholder [${unused.join(', ')}]`)
  }
  return template.replace(PLACEHOLDER, (_, braced: string | undefined, bare: string | undefined) => values[(braced ?? bare)!]!)
}

/** The template's values for a gateway listening on `listen` in front of `upstreams`. */
export function nginxTemplateValues(listen: string, upstreams: readonly NginxUpstream[]): Record<string, string> {
  if (upstreams.length === 0) throw new Error('nginx: at least one upstream is needed')
  return {
    SLUICE_LISTEN: listen,
    SLUICE_UPSTREAM_SERVERS: upstreams.map((u) => `server ${u.host}:${u.port};`).join('\n    '),
  }
}

// Process-level settings the nginx image keeps in its own nginx.conf; here they put the pid,
// the logs and every temp path in `dir`, so nginx needs no root and leaves nothing behind.
function mainConfig(dir: string): string {
  const at = (name: string): string => JSON.stringify(join(dir, name))
  return `# Written by @sluice/harness startNginx; the routing is the shared template, included below.
worker_processes 1;
pid ${at('nginx.pid')};
error_log ${at('error.log')} warn;
events { worker_connections 1024; }
http {
    access_log ${at('access.log')} combined buffer=64k flush=1s;
    client_body_temp_path ${at('client_body_temp')};
    proxy_temp_path ${at('proxy_temp')};
    fastcgi_temp_path ${at('fastcgi_temp')};
    uwsgi_temp_path ${at('uwsgi_temp')};
    scgi_temp_path ${at('scgi_temp')};
    include ${at('sluice.conf')};
}
`
}

function canConnect(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host: '127.0.0.1', port, timeout: 1_000 })
    const done = (ok: boolean): void => {
      socket.destroy()
      resolve(ok)
    }
    socket.once('connect', () => done(true))
    socket.once('error', () => done(false))
    socket.once('timeout', () => done(false))
  })
}

const exists = (path: string): Promise<boolean> =>
  access(path).then(
    () => true,
    () => false,
  )

const READY_INTERVAL_MS = 25

async function launch(binary: string, dir: string, port: number, upstreams: readonly NginxUpstream[]): Promise<ChildProcess> {
  const template = await readFile(NGINX_TEMPLATE_PATH, 'utf8')
  await writeFile(join(dir, 'sluice.conf'), renderNginxTemplate(template, nginxTemplateValues(`127.0.0.1:${port}`, upstreams)))
  await writeFile(join(dir, 'nginx.conf'), mainConfig(dir))
  const pidFile = join(dir, 'nginx.pid')
  // `-e stderr`: errors before the config is read (a bad config, a taken port) go to the pipe,
  // not to a system log path an unprivileged user cannot open.
  const { child } = await spawnUntilReady(binary, ['-p', dir, '-c', join(dir, 'nginx.conf'), '-e', 'stderr', '-g', 'daemon off;'], {
    name: `nginx on port ${port}`,
    // The pid file matters too: nginx writes it only after binding its sockets, so a connect that
    // succeeds while it is missing may have reached some other process that holds the port.
    ready: probeUntil(async () => (await canConnect(port)) && (await exists(pidFile)), READY_INTERVAL_MS),
  })
  return child
}

/**
 * Start nginx on 127.0.0.1 in front of `upstreams`, from the shared template, and resolve once it
 * accepts connections. Throws `MissingBinaryError` when nginx is not installed.
 */
export async function startNginx(options: NginxOptions): Promise<NginxServer> {
  const binary = findBinary('nginx')
  const dir = await mkdtemp(join(tmpdir(), 'sluice-nginx-'))
  // Workers drop to `nobody` when the master runs as root; they must be able to enter the dir.
  await chmod(dir, 0o755)
  try {
    const [port, child] = await onFreePort((p) => launch(binary, dir, p, options.upstreams), options.port)
    return {
      port,
      url: `http://127.0.0.1:${port}`,
      async stop() {
        await stopProcess(child)
        await rm(dir, { recursive: true, force: true })
      },
    }
  } catch (error) {
    await rm(dir, { recursive: true, force: true })
    throw error
  }
}
