// Regenerates the README's generated sections (parameters, error codes) from the code.
// Run after `npm run build`: node scripts/update-readme.mjs. A test fails when the README is stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { paramTableMarkdown, errorTableMarkdown } from '../packages/protocol/dist/index.js';

const file = new URL('../README.md', import.meta.url);
let text = readFileSync(file, 'utf8');
for (const [name, body] of [['params', paramTableMarkdown()], ['errors', errorTableMarkdown()]]) {
  const re = new RegExp(`(<!-- ${name}:start -->)[\\s\\S]*?(<!-- ${name}:end -->)`);
  if (!re.test(text)) throw new Error(`README.md has no <!-- ${name}:start --> … <!-- ${name}:end --> section`);
  text = text.replace(re, (_, start, end) => `${start}\n${body}\n${end}`);
}
writeFileSync(file, text);
console.log('README.md tables updated');
