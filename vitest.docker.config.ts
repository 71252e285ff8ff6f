import { spawnSync } from 'node:child_process'
import { defineConfig } from 'vitest/config'
import { ssr } from './vitest.config.js'

// `pnpm test:docker`, apart from `pnpm test`: the README's Docker commands and its first two lines,
// run for real in containers (minutes, not seconds). Without a working `docker compose` it says
// so and runs nothing, rather than pass tests it never ran.
const dockerWorks = [['compose', 'version'], ['info']].every((args) => spawnSync('docker', args, { stdio: 'ignore' }).status === 0)
if (!dockerWorks) {
  process.stdout.write(
    'pnpm test:docker: `docker compose` does not work on this machine (no Docker, or its daemon is down): nothing was tested.\n',
  )
}

export default defineConfig({
  ssr,
  test: {
    name: 'docker',
    include: dockerWorks ? ['test/docker/**/*.test.ts'] : [],
    passWithNoTests: true,
    reporters: ['default', './test/summary-reporter.ts'],
    environment: 'node',
    // One stack or container at a time: builds and the suite in a container fill both cores.
    fileParallelism: false,
  },
})
