import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * Absolute path of the dashboard's static files (`src/dashboard/static`). `tsc` does not copy them to
 * `dist`, so both `src/dashboard/*.ts` (vitest) and `dist/dashboard/*.js` (the built CLI) resolve the
 * same directory: two levels up is the package root either way.
 */
export function dashboardStaticDir(): string {
  return fileURLToPath(new URL('../../src/dashboard/static/', import.meta.url));
}

/** Absolute path of uPlot's `dist` directory (its IIFE build and CSS are served to the browser). */
export function uplotDistDir(): string {
  const require = createRequire(import.meta.url);
  return join(dirname(require.resolve('uplot/package.json')), 'dist');
}
