import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { basename, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { NGINX_TEMPLATE_PATH, renderNginxTemplate, templatePlaceholders } from '@sluice/harness'
import { describe, expect, it } from 'vitest'
import { parse } from 'yaml'
import { LOADTEST_ENV, parseCli } from '../../../loadtest/src/cli-options.js'
import { CONFIG_ENV, loadConfig } from '../../src/config.js'

/**
 * Check, without Docker, that everything docker-compose.yml and docker/Dockerfile name exists and
 * agrees with what `pnpm demo` runs: the replicas' variables, the gateway template, the scripts
 * the image starts. `pnpm test:docker` runs them for real.
 */

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))
const read = (path: string): string => readFileSync(join(ROOT, path), 'utf8')
/** Compose's `${NAME:-default}` with none of the variables set, as on a user's first run. */
const interpolate = (text: string): string => text.replace(/\$\{\w+:-([^}]*)\}/g, '$1')

interface Service {
  image?: string
  build?: { context: string; dockerfile: string }
  environment?: Record<string, string>
  depends_on?: Record<string, { condition: string }>
  healthcheck?: { test: string[] }
  ports?: string[]
  volumes?: string[]
  profiles?: string[]
  network_mode?: string
  networks?: string[] | Record<string, { ipv4_address?: string }>
  command?: string[]
  user?: string
  pull_policy?: string
}

// Compose resolves YAML merge keys (`<<: *anchor`); so must the parser.
const compose = parse(interpolate(read('docker-compose.yml')), { merge: true }) as {
  services: Record<string, Service>
  networks: Record<string, unknown>
}
const services = compose.services
const replicaNames = Object.keys(services).filter((name) => /^replica-\d+$/.test(name))
const gateway = services.gateway!
const gatewayIp = (gateway.networks as Record<string, { ipv4_address: string }>).sluice!.ipv4_address
const template = readFileSync(NGINX_TEMPLATE_PATH, 'utf8')

/** `packages/x/dist/a.js` is built from `packages/x/src/a.ts` (rootDir src, outDir dist). */
function sourceOf(script: string): string {
  const match = /^packages\/([^/]+)\/dist\/(.+)\.js$/.exec(script)
  expect(match, `${script} is not a package's build output`).not.toBeNull()
  const [, pkg, file] = match!
  const build = JSON.parse(read(`packages/${pkg}/tsconfig.build.json`)) as { compilerOptions: { rootDir: string; outDir: string } }
  expect(build.compilerOptions).toMatchObject({ rootDir: 'src', outDir: 'dist' })
  return `packages/${pkg}/src/${file}.ts`
}

interface Instruction {
  readonly op: string
  readonly args: string
  readonly stage: string
}

function dockerfile(text: string): Instruction[] {
  const instructions: Instruction[] = []
  let stage = ''
  const lines = text.replace(/\\\n/g, ' ').split('\n')
  for (const line of lines.map((l) => l.trim()).filter((l) => l !== '' && !l.startsWith('#'))) {
    const [, op, args] = /^(\S+)\s+(.*)$/.exec(line)!
    if (op === 'FROM') stage = / AS (\S+)$/i.exec(args!)?.[1] ?? ''
    instructions.push({ op: op!.toUpperCase(), args: args!, stage })
  }
  return instructions
}

const instructions = dockerfile(read('docker/Dockerfile'))
const finalStage = instructions.at(-1)!.stage

describe('docker-compose.yml', () => {
  it('has Redis, three replicas, the gateway and the load test', () => {
    expect(Object.keys(services).sort()).toEqual(['gateway', 'loadtest', 'redis', 'replica-1', 'replica-2', 'replica-3'])
  })

  it('starts the replicas once Redis is healthy, and the gateway once every replica is', () => {
    expect(services.redis!.healthcheck?.test).toContain('ping')
    for (const name of replicaNames) {
      expect(services[name]!.depends_on).toEqual({ redis: { condition: 'service_healthy' } })
      expect(services[name]!.healthcheck).toBeDefined()
    }
    expect(gateway.depends_on).toEqual(Object.fromEntries(replicaNames.map((n) => [n, { condition: 'service_healthy' }])))
  })

  it('configures every replica through the variables config.ts reads, with values it accepts', () => {
    for (const name of replicaNames) {
      const env = services[name]!.environment!
      expect(Object.keys(env).filter((k) => !(k in CONFIG_ENV))).toEqual([])
      const config = loadConfig(env)
      expect(config.instanceId).toBe(name)
      const redis = new URL(config.redisUrl!)
      expect(services[redis.hostname]?.image).toMatch(/^redis:/)
      expect(redis.port).toBe('6379')
      expect(config.trustedProxy).toEqual([gatewayIp])
      expect(config.replicas).toBe(replicaNames.length)
      expect(config.host).toBe('0.0.0.0')
      // The healthcheck asks the port the replica listens on.
      expect(services[name]!.healthcheck!.test.join(' ')).toContain(`http://127.0.0.1:${config.port}/health`)
    }
  })

  it('gives the gateway a fixed address inside the network the replicas trust', () => {
    const subnet = (compose.networks.sluice as { ipam: { config: { subnet: string }[] } }).ipam.config[0]!.subnet
    expect(subnet).toMatch(/\/24$/)
    expect(gatewayIp.split('.').slice(0, 3)).toEqual(subnet.split('/')[0]!.split('.').slice(0, 3))
  })

  it('mounts the template the local runner renders, and fills exactly its placeholders', () => {
    expect(gateway.image).toMatch(/^nginx:/)
    const [host, container] = gateway.volumes![0]!.split(':')
    expect(resolve(ROOT, host!)).toBe(NGINX_TEMPLATE_PATH)
    expect(container).toBe(`/etc/nginx/templates/${basename(NGINX_TEMPLATE_PATH)}`)

    const env = gateway.environment!
    const { NGINX_ENVSUBST_FILTER: filter, ...values } = env
    expect(Object.keys(values).sort()).toEqual(templatePlaceholders(template).sort())
    // envsubst in the image substitutes the variables the filter lets through: all of ours, and
    // none of the nginx variables the template uses.
    const filterRe = new RegExp(filter!)
    for (const name of Object.keys(values)) expect(name).toMatch(filterRe)
    for (const nginxVariable of template.matchAll(/\$([a-z_]+)/g)) expect(nginxVariable[1]).not.toMatch(filterRe)
    expect(() => renderNginxTemplate(template, values)).not.toThrow()
  })

  it('sends the gateway to every replica on the port it listens on, and publishes its own', () => {
    const upstreams = [...gateway.environment!.SLUICE_UPSTREAM_SERVERS!.matchAll(/server ([\w-]+):(\d+);/g)].map((m) => `${m[1]}:${m[2]}`)
    expect(upstreams).toEqual(replicaNames.map((name) => `${name}:${services[name]!.environment!.PORT}`))
    const listen = gateway.environment!.SLUICE_LISTEN!
    expect(gateway.ports).toEqual([`8080:${listen}`])
  })

  it("runs the load test in the gateway's network namespace, judging the replicas' own policy", () => {
    const loadtest = services.loadtest!
    expect(loadtest.profiles).toEqual(['loadtest'])
    expect(loadtest.network_mode).toBe('service:gateway')
    expect(loadtest.depends_on).toEqual({ gateway: { condition: 'service_healthy' } })
    const env = loadtest.environment!
    expect(Object.keys(env).filter((k) => !(k in LOADTEST_ENV))).toEqual([])
    const options = parseCli([], env)
    const replica = loadConfig(services['replica-1']!.environment!)
    expect([options.capacity, options.refillPerSecond, options.keyMode]).toEqual([
      replica.capacity,
      replica.refillPerSecond,
      replica.keyMode,
    ])
    expect(options.url).toBe(`http://127.0.0.1:${gateway.environment!.SLUICE_LISTEN}`)
    // As the owner of the checkout (mounted read-only), into the host's ./reports mounted within it.
    const [asOwner, checkout, writable, node, script] = loadtest.command!
    expect(asOwner).toBe('run-as-owner')
    expect(loadtest.user).toBe('root')
    expect(loadtest.volumes).toEqual([`.:${checkout}:ro`, `./reports:${options.reportDir}`])
    expect(writable).toBe(options.reportDir)
    expect(options.reportDir).toBe(`${checkout}/reports`)
    expect(node).toBe('node')
    expect(existsSync(join(ROOT, sourceOf(script!)))).toBe(true)
  })

  it('builds the image once, from docker/Dockerfile, and never pulls it for the other Node services', () => {
    const image = services['replica-1']!.image
    expect(services['replica-1']!.build).toEqual({ context: '.', dockerfile: 'docker/Dockerfile' })
    for (const name of [...replicaNames.filter((n) => n !== 'replica-1'), 'loadtest']) {
      expect(services[name]!.build).toBeUndefined()
      expect(services[name]!.image).toBe(image)
      expect(services[name]!.pull_policy).toBe('never')
    }
  })
})

describe('docker/Dockerfile', () => {
  it('copies only files that exist', () => {
    for (const copy of instructions.filter((i) => i.op === 'COPY' && !i.args.startsWith('--from'))) {
      const sources = copy.args.split(/\s+/).slice(0, -1)
      for (const source of sources) expect(existsSync(join(ROOT, source)), source).toBe(true)
    }
  })

  it('names no workspace package in a COPY, so a new package needs no edit here', () => {
    const workspace = readdirSync(join(ROOT, 'packages')).filter((p) => existsSync(join(ROOT, 'packages', p, 'package.json')))
    for (const copy of instructions.filter((i) => i.op === 'COPY')) {
      for (const pkg of workspace) expect(copy.args).not.toContain(`packages/${pkg}`)
    }
  })

  it('builds the demo and runs the replica script the demo package compiles', () => {
    expect(instructions.some((i) => i.op === 'RUN' && i.args.includes('tsc -b packages/demo/tsconfig.build.json'))).toBe(true)
    const cmd = instructions.filter((i) => i.op === 'CMD').at(-1)!
    expect(cmd.stage).toBe(finalStage)
    const [node, script] = JSON.parse(cmd.args) as string[]
    expect(node).toBe('node')
    expect(script).toBe('packages/demo/dist/replica.js')
    expect(existsSync(join(ROOT, sourceOf(script!)))).toBe(true)
  })

  it('ships the compiled output of everything the replica and the load test import', () => {
    // tsc -b builds the demo's references too; the build stage collects every dist folder.
    const references = (JSON.parse(read('packages/demo/tsconfig.build.json')) as { references: { path: string }[] }).references
    expect(references.map((r) => r.path)).toEqual(
      expect.arrayContaining(['../core/tsconfig.build.json', '../fastify/tsconfig.build.json', '../loadtest/tsconfig.build.json']),
    )
    const shipped = instructions.filter((i) => i.stage === finalStage && i.op === 'COPY' && i.args.startsWith('--from=build'))
    expect(shipped.map((i) => i.args)).toContain('--from=build /dist/ ./')
  })

  it('starts from the base image without pulling a BuildKit frontend, and installs pnpm without corepack', () => {
    const text = read('docker/Dockerfile')
    expect(text).not.toMatch(/^#\s*syntax\s*=/im)
    const runs = instructions.filter((i) => i.op === 'RUN').map((i) => i.args)
    expect(runs.join('\n')).not.toMatch(/corepack/)
    expect(runs.some((r) => /npm install -g .*pnpm@/.test(r))).toBe(true)
  })

  it('exposes the port the replicas listen on', () => {
    const expose = instructions.find((i) => i.op === 'EXPOSE')!
    expect(expose.args).toBe(services['replica-1']!.environment!.PORT)
  })
})

describe('.dockerignore', () => {
  it('keeps host installs and builds out of the image', () => {
    const ignored = read('.dockerignore')
      .split('\n')
      .map((l) => l.trim())
    expect(ignored).toEqual(expect.arrayContaining(['**/node_modules', '**/dist']))
  })
})

describe('docker/compose.cluster.yml, the Redis Cluster override', () => {
  const override = parse(interpolate(read('docker/compose.cluster.yml')), { merge: true }) as { services: Record<string, Service> }
  const nodes = Object.keys(override.services).filter((name) => /^redis-node-\d+$/.test(name))
  const addressOf = (name: string): string =>
    (override.services[name]!.networks as Record<string, { ipv4_address: string }>).sluice!.ipv4_address

  it('adds three cluster-enabled Redis masters and joins them with the init script, given every node', () => {
    expect(nodes).toHaveLength(3)
    for (const node of nodes) expect(override.services[node]!.command).toEqual(expect.arrayContaining(['--cluster-enabled', 'yes']))
    const init = override.services['redis-cluster-init']!
    const [shell, script, ...addresses] = init.command!
    expect(shell).toBe('sh')
    // Relative to the project folder, the first file's: the repository root.
    expect(init.volumes).toEqual([`./docker/redis-cluster-init.sh:${script}:ro`])
    expect(existsSync(join(ROOT, 'docker/redis-cluster-init.sh'))).toBe(true)
    expect(addresses.sort()).toEqual(nodes.map((n) => `${addressOf(n)}:6379`).sort())
  })

  it('overrides only replicas that docker-compose.yml has, with variables config.ts reads', () => {
    const replicas = Object.keys(override.services).filter((name) => /^replica-\d+$/.test(name))
    expect(replicas.sort()).toEqual(replicaNames.sort())
    for (const name of replicas) {
      const env = override.services[name]!.environment!
      for (const variable of Object.keys(env)) expect(Object.keys(CONFIG_ENV)).toContain(variable)
      const merged = loadConfig({ ...services[name]!.environment, ...env })
      expect(merged.redisCluster).toBe(true)
      expect(nodes.map(addressOf)).toContain(new URL(merged.redisUrl!).hostname)
      expect(override.services[name]!.depends_on).toEqual({ 'redis-cluster-init': { condition: 'service_completed_successfully' } })
    }
  })

  it("puts the nodes on the compose file's network, inside its subnet", () => {
    const subnet = (compose.networks.sluice as { ipam: { config: { subnet: string }[] } }).ipam.config[0]!.subnet
    const prefix = subnet.split('.').slice(0, 3).join('.')
    for (const node of nodes) expect(addressOf(node).startsWith(`${prefix}.`)).toBe(true)
  })
})
