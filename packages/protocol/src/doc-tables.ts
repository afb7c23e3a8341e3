import { ERROR_CODES } from './errors.js';
import { DEFAULT_PARAMS, PARAM_NAMES, PARAM_RULES } from './params.js';

/** The README's parameter table (Markdown), generated from `PARAM_RULES` and `DEFAULT_PARAMS`. */
export function paramTableMarkdown(): string {
  const rows = PARAM_NAMES.map((name) => {
    const rule = PARAM_RULES[name];
    const range = rule.kind === 'enum' ? rule.values.map((v) => `\`${v}\``).join(', ') : `${rule.min} … ${rule.max}`;
    return `| \`${name}\` | ${rule.unit} | \`${String(DEFAULT_PARAMS[name])}\` | ${range} | ${rule.meaning} |`;
  });
  return ['| name | unit | default | range | meaning |', '|---|---|---|---|---|', ...rows].join('\n');
}

/** The README's error-code table (Markdown), generated from `ERROR_CODES`. */
export function errorTableMarkdown(): string {
  const rows = Object.entries(ERROR_CODES).map(([code, e]) => `| \`${code}\` | ${e.status} | ${e.meaning} |`);
  return ['| code | HTTP | meaning |', '|---|---|---|', ...rows].join('\n');
}
