import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['engine/**/*.test.ts', 'cli/**/*.test.ts', 'kernels/**/*.test.ts', 'test/**/*.test.ts', 'renderer/**/*.test.ts', 'e2e/**/*.test.ts'],
    testTimeout: 60_000,
  },
});
