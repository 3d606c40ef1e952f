import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/unit/**/*.test.ts', 'test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
    // Integration tests drive real PTYs and real servers; two cores, so keep workers few and timeouts honest.
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 30_000,
    reporters: ['default'],
    // The browser tests serve the built operator app.
    globalSetup: ['test/support/renderer-build.ts'],
  },
});
