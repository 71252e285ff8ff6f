import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const source = (path: string): string => fileURLToPath(new URL(`./packages/${path}`, import.meta.url))

// Workspace packages resolve to their sources, so a stale build is never what gets tested.
const alias = [
  { find: /^@sluice\/core\/metrics$/, replacement: source('core/src/metrics.ts') },
  ...['core', 'fastify', 'express', 'harness', 'loadtest'].map((pkg) => ({
    find: new RegExp(`^@sluice/${pkg}$`),
    replacement: source(`${pkg}/src/index.ts`),
  })),
]

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
          include: ['packages/*/test/integration/**/*.test.ts', 'test/conformance/**/*.test.ts'],
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
          // The benchmark's smoke run keeps both cores busy: alone, after every other project.
          name: 'bench',
          sequence: { groupOrder: 3 },
          include: ['packages/bench/test/**/*.test.ts'],
          environment: 'node',
          maxWorkers: 1,
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
