#!/usr/bin/env node
// The `infermarket` command. Committed (not built) so that `npm install` can link it before anything is
// compiled; it runs the compiled CLI in ../dist, and says how to build it when that is missing.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(fileURLToPath(main))) {
  process.stderr.write(
    `error: the infermarket CLI is not compiled yet (${fileURLToPath(main)} is missing).\n` +
      'Run `npm run build` (or `npx tsc -b`) in the repository root once, then run the command again.\n',
  );
  process.exit(1);
}
await import(main.href);
