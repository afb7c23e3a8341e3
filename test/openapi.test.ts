import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { openApiDocument } from '@infermarket/market';

// docs/openapi.json is generated from the TypeBox schemas the market validates with; this keeps the
// committed file equal to what the market serves at GET /v1/openapi.json.
// Regenerate: INFERMARKET_UPDATE_DOCS=1 npx vitest run test/openapi.test.ts
const FILE = fileURLToPath(new URL('../docs/openapi.json', import.meta.url));

describe('docs/openapi.json', () => {
  it('equals the document generated from the market\'s schemas', () => {
    const text = `${JSON.stringify(openApiDocument(), null, 2)}\n`;
    if (process.env.INFERMARKET_UPDATE_DOCS === '1') writeFileSync(FILE, text);
    expect(readFileSync(FILE, 'utf8'), 'docs/openapi.json is stale: run INFERMARKET_UPDATE_DOCS=1 npx vitest run test/openapi.test.ts').toBe(text);
  });

  it('describes every signed job.submit field with its schema, and every documented error code', () => {
    const doc = openApiDocument() as { openapi: string; paths: Record<string, Record<string, { requestBody?: { content: Record<string, { schema: Record<string, unknown> }> } }>>; components: { schemas: { Error: { properties: { error: { properties: { code: { enum: string[] } } } } } } } };
    expect(doc.openapi).toMatch(/^3\./);
    const submit = doc.paths['/v1/jobs']!.post!.requestBody!.content['application/json']!.schema as { properties: { envelope: { properties: { body: { required: string[]; properties: Record<string, { pattern?: string }> } } } } };
    const b = submit.properties.envelope.properties.body;
    expect(b.required.sort()).toEqual(['expiresAtMs', 'inputHash', 'jobId', 'maxPriceMicro', 'model', 'nonce']);
    expect(b.properties.inputHash!.pattern).toBe('^[0-9a-f]{64}$');
    const codes = doc.components.schemas.Error.properties.error.properties.code.enum;
    const readme = readFileSync(fileURLToPath(new URL('../README.md', import.meta.url)), 'utf8');
    for (const c of codes) expect(readme).toContain(`\`${c}\``);
  });
});
