#!/usr/bin/env node
// Build or evaluate the models without the CLI: `npm run build` first, then
//   node scripts/build-models.mjs build [--only digits,charlm] [--seed 1]
//   node scripts/build-models.mjs eval [--json] [--quick] [--only digits] [--write] [--doc docs/models.md]
// `infermarket models build|eval` call the same functions (packages/inference/src/cli-commands.ts).
import { modelsBuildCommand, modelsEvalCommand } from '../packages/inference/dist/index.js';

const [cmd = 'build', ...rest] = process.argv.slice(2);
const flag = (name) => rest.includes(name);
const value = (name) => {
  const i = rest.indexOf(name);
  return i >= 0 ? rest[i + 1] : undefined;
};
const only = value('--only')?.split(',');
let code;
if (cmd === 'build') {
  const seed = value('--seed');
  code = await modelsBuildCommand({ only, seed: seed === undefined ? undefined : Number(seed) });
} else if (cmd === 'eval') {
  code = await modelsEvalCommand({ models: only, json: flag('--json'), quick: flag('--quick'), updateManifest: flag('--write'), docPath: value('--doc') });
} else {
  console.error(`unknown command "${cmd}"; expected "build" or "eval"`);
  code = 2;
}
process.exitCode = code;
