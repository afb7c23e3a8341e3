import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, errorTableMarkdown, paramTableMarkdown, PARAM_NAMES } from '@infermarket/protocol';

const readme = readFileSync(new URL('../README.md', import.meta.url), 'utf8');
const section = (name: string) => readme.match(new RegExp(`<!-- ${name}:start -->\\n([\\s\\S]*?)\\n<!-- ${name}:end -->`))?.[1];

describe('README stays true to the code', () => {
  it('documents every parameter with its unit, default and range (node scripts/update-readme.mjs regenerates it)', () => {
    expect(section('params')).toBe(paramTableMarkdown());
    for (const name of PARAM_NAMES) expect(readme).toContain(`\`${name}\``);
  });

  it('documents every error code with its HTTP status', () => {
    expect(section('errors')).toBe(errorTableMarkdown());
    for (const code of Object.keys(ERROR_CODES)) expect(readme).toContain(`\`${code}\``);
  });

  it('lists every CLI command in the CLI table', () => {
    const help = execFileSync(process.execPath, [new URL('../packages/cli/dist/main.js', import.meta.url).pathname, '--help'], { encoding: 'utf8' });
    const commands = [...help.split('Commands:')[1]!.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]!).filter((c) => c !== 'help');
    expect(commands.length).toBeGreaterThan(8);
    for (const c of commands) expect(section('cli'), c).toContain(`\`infermarket ${c}`);
  });

  it('shows the two commands', () => {
    expect(readme).toContain('npm install && npm run demo');
    expect(readme).toContain('npm test');
  });
});
