import { defineConfig } from 'vitest/config';
import { fileURLToPath } from 'node:url';

const pkgs = ['protocol', 'agents', 'node-runtime', 'inference', 'market', 'miner', 'validator', 'client', 'sim', 'cli'];

export default defineConfig({
  resolve: {
    // In-process tests run against sources; end-to-end tests spawn the built CLI (npm test builds first).
    alias: Object.fromEntries(
      pkgs.map((p) => [`@infermarket/${p}`, fileURLToPath(new URL(`./packages/${p}/src/index.ts`, import.meta.url))]),
    ),
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
