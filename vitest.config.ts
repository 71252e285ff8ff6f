import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const source = (pkg: string): string => fileURLToPath(new URL(`./packages/${pkg}/src/index.ts`, import.meta.url))

// Workspace packages resolve to their sources, so a stale build is never what gets tested.
const alias = {
  '@sluice/core': source('core'),
  '@sluice/fastify': source('fastify'),
  '@sluice/harness': source('harness'),
  '@sluice/express': source('express'),
  '@sluice/loadtest': source('loadtest'),
}

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        resolve: { alias },
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['packages/*/test/unit/**/*.test.ts'],
          environment: 'node',
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['packages/*/test/integration/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 30_000,
          // Real servers on a 2-core machine: keep parallel files few.
          maxWorkers: 2,
        },
      },
      {
        resolve: { alias },
        test: {
          name: 'types',
          sequence: { groupOrder: 2 },
          include: [],
          typecheck: {
            enabled: true,
            only: true,
            include: ['packages/*/test/types/**/*.test-d.ts'],
            tsconfig: './tsconfig.typecheck.json',
          },
        },
      },
    ],
  },
})
