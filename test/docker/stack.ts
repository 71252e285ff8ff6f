import { randomBytes, randomInt } from 'node:crypto'
import { freePort } from '@sluice/harness'
import { type Outcome, sh } from './shell.js'

/**
 * A compose stack of the test's own: its project name, a free gateway port and a network that
 * overlaps no other Docker network, through the variables docker-compose.yml documents, so it
 * never collides with a stack a user has up.
 */
export interface Stack {
  readonly cwd: string
  readonly project: string
  readonly port: number
  /** The first three numbers of the network's /24. */
  readonly net: string
  readonly image: string
  readonly env: NodeJS.ProcessEnv
}

/** Subnets of the existing Docker networks, as a.b.c prefixes of their /24s (wider ones by their first /24). */
async function usedNets(): Promise<Set<string>> {
  const { output } = await sh(`docker network inspect --format '{{range .IPAM.Config}}{{.Subnet}} {{end}}' $(docker network ls -q)`)
  return new Set(output.match(/\d+\.\d+\.\d+(?=\.\d+\/\d+)/g) ?? [])
}

export async function newStack(cwd: string): Promise<Stack> {
  const used = await usedNets()
  let net = ''
  // Away from 172.28.0, the default a user's own stack takes.
  do net = `172.28.${randomInt(1, 255)}`
  while (used.has(net))
  const id = randomBytes(3).toString('hex')
  const project = `sluice-test-${id}`
  const port = await freePort()
  const image = `sluice-test-${id}:local`
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    COMPOSE_PROJECT_NAME: project,
    SLUICE_PORT: String(port),
    SLUICE_NET: net,
    SLUICE_IMAGE: image,
  }
  // The README's commands as written: no file list or profile from the caller's environment.
  for (const name of ['COMPOSE_FILE', 'COMPOSE_PROFILES']) delete env[name]
  return { cwd, project, port, net, image, env }
}

/** A command line in the stack's folder and environment. */
export function inStack(stack: Stack, command: string, timeoutMs = 120_000): Promise<Outcome> {
  return sh(command, { cwd: stack.cwd, env: stack.env, timeoutMs })
}

const fileArgs = (files: readonly string[]): string => files.map((f) => `-f ${f}`).join(' ')

export interface ServiceState {
  readonly Service: string
  readonly State: string
  readonly Health: string
  readonly ExitCode: number
}

/** Every container of the stack, running or not. */
export async function services(stack: Stack, files: readonly string[]): Promise<ServiceState[]> {
  const out = await inStack(stack, `docker compose ${fileArgs(files)} ps -a --format json`)
  if (out.code !== 0) throw new Error(out.output)
  // One JSON object per line (older Compose printed one array).
  return out.output
    .trim()
    .split('\n')
    .filter((l) => l.startsWith('{') || l.startsWith('['))
    .flatMap((l) => JSON.parse(l) as ServiceState | ServiceState[])
}

export interface ServiceConfig {
  readonly image?: string
  readonly build?: unknown
  readonly pull_policy?: string
  readonly environment?: Record<string, string>
  readonly healthcheck?: unknown
  readonly profiles?: string[]
}

/** The stack's compose configuration as Compose resolves it: merged files, variables filled. */
export async function config(stack: Stack, files: readonly string[]): Promise<Record<string, ServiceConfig>> {
  const out = await inStack(stack, `docker compose ${fileArgs(files)} --profile loadtest config --format json`)
  if (out.code !== 0) throw new Error(out.output)
  return (JSON.parse(out.output.slice(out.output.indexOf('{'))) as { services: Record<string, ServiceConfig> }).services
}

/** Every key of the stack's Redis servers (each node of a cluster). */
export async function redisKeys(stack: Stack, files: readonly string[]): Promise<string[]> {
  const all = await config(stack, files)
  const servers = Object.keys(all).filter((name) => all[name]!.image?.startsWith('redis:') && all[name]!.healthcheck !== undefined)
  const keys: string[] = []
  for (const name of servers) {
    const out = await inStack(stack, `docker compose ${fileArgs(files)} exec -T ${name} redis-cli --scan`)
    if (out.code !== 0) throw new Error(out.output)
    keys.push(...out.output.split('\n').filter((k) => k !== ''))
  }
  return keys
}

/** Containers and networks left of the stack. */
export async function leftovers(stack: Stack): Promise<string[]> {
  const label = `label=com.docker.compose.project=${stack.project}`
  const containers = await sh(`docker ps -a --filter ${label} --format '{{.Names}}'`)
  const networks = await sh(`docker network ls --filter ${label} --format '{{.Name}}'`)
  return `${containers.output}\n${networks.output}`.split('\n').filter((l) => l.trim() !== '')
}
