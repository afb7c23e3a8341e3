import { describe, expect, it } from 'vitest';
import Fastify from 'fastify';
import type { MarketStatsView } from '@infermarket/protocol';
import { registerDashboard } from './register-dashboard.js';

describe('registerDashboard', () => {
  const source = { snapshot: () => ({}) as MarketStatsView, subscribe: () => () => {} };

  it('serves the page and its assets with the right content types', async () => {
    const app = Fastify();
    registerDashboard(app, source);
    const page = await app.inject({ method: 'GET', url: '/' });
    expect(page.statusCode).toBe(200);
    expect(page.headers['content-type']).toContain('text/html');
    // Everything the page references is served here (works offline, no CDN).
    const refs = [...page.body.matchAll(/(?:src|href)="(\/dashboard\/[^"]+)"/g)].map((m) => m[1]!);
    expect(refs).toEqual(expect.arrayContaining(['/dashboard/uplot.js', '/dashboard/uplot.css', '/dashboard/dashboard.js', '/dashboard/dashboard.css']));
    for (const url of refs) {
      const res = await app.inject({ method: 'GET', url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type'], url).toMatch(url.endsWith('.js') ? /javascript/ : /text\/css/);
    }
    expect((await app.inject({ method: 'GET', url: '/dashboard/uplot.js' })).body).toContain('uPlot');
    await app.close();
  });

  it('error: 404s paths outside the asset list', async () => {
    const app = Fastify();
    registerDashboard(app, source);
    for (const url of ['/dashboard/../package.json', '/dashboard/static-dir.ts', '/dashboard/nope.js']) {
      expect((await app.inject({ method: 'GET', url })).statusCode, url).toBe(404);
    }
    await app.close();
  });
});
