import { defineConfig } from 'vitest/config'

// Workspace packages resolve to their sources through their `sluice:source` export condition, so
// a stale build is never what gets tested. The rest are Vite's default server conditions.
// Tests run in Node, which Vite treats as server-side rendering: its `ssr` options apply.
export const ssr = { resolve: { conditions: ['sluice:source', 'module', 'node', 'development|production'] } }

export default defineConfig({
  test: {
    reporters: ['default', './test/summary-reporter.ts'],
    projects: [
      {
        ssr,
        test: {
          name: 'unit',
          sequence: { groupOrder: 0 },
          include: ['packages/*/test/unit/**/*.test.ts', 'test/docs/**/*.test.ts'],
          setupFiles: ['test/setup/unit.ts'],
          environment: 'node',
        },
      },
      {
        ssr,
        test: {
          name: 'integration',
          sequence: { groupOrder: 1 },
          include: ['packages/*/test/integration/**/*.test.ts', 'test/conformance/**/*.test.ts', 'test/regression/**/*.test.ts'],
          environment: 'node',
          testTimeout: 30_000,
          hookTimeout: 30_000,
          // Real servers on a 2-core machine: keep parallel files few.
          maxWorkers: 2,
        },
      },
      {
        ssr,
        test: {
          // The benchmark's smoke run keeps both cores busy: alone, after every other project.
          name: 'bench',
          sequence: { groupOrder: 3 },
          include: ['packages/bench/test/**/*.test.ts'],
          // The report's wording, from fixed results, is a unit test: it runs with the others.
          exclude: ['packages/bench/test/unit/**'],
          environment: 'node',
          maxWorkers: 1,
        },
      },
      {
        ssr,
        test: {
          // The packed packages installed with npm into a fresh app outside the workspace. It
          // rebuilds the published packages' dist as it packs them: alone, after everything else.
          name: 'pack',
          sequence: { groupOrder: 4 },
          include: ['test/pack/**/*.test.ts'],
          environment: 'node',
          testTimeout: 120_000,
          hookTimeout: 600_000,
          maxWorkers: 1,
        },
      },
      {
        ssr,
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
