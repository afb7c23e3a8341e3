import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DashboardSource } from './dashboard-source.js';
import { trackSlashes } from './slash-history.js';
import { dashboardStaticDir, uplotDistDir } from './static-dir.js';

interface Asset {
  file: string;
  type: string;
}

/** URL path → file, for everything the page loads. Nothing else is served (no path traversal). */
function assets(): Record<string, Asset> {
  const dir = dashboardStaticDir();
  const uplot = uplotDistDir();
  return {
    '/': { file: join(dir, 'index.html'), type: 'text/html; charset=utf-8' },
    '/dashboard/dashboard.js': { file: join(dir, 'dashboard.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/dashboard.css': { file: join(dir, 'dashboard.css'), type: 'text/css; charset=utf-8' },
    '/dashboard/uplot.js': { file: join(uplot, 'uPlot.iife.min.js'), type: 'text/javascript; charset=utf-8' },
    '/dashboard/uplot.css': { file: join(uplot, 'uPlot.min.css'), type: 'text/css; charset=utf-8' },
  };
}

/**
 * Serves the live dashboard: the page at `/` and its static assets under `/dashboard/` (uPlot comes
 * from node_modules). The page connects to the `/v1/dashboard` WebSocket, which the market routes to
 * {@link attachDashboardSocket}. Files are read once, at registration. From here on every slash of
 * `source` is remembered, so a page opened late still lists them all.
 * @param app the market's fastify instance
 * @param source the market's live view
 */
export function registerDashboard(app: FastifyInstance, source: DashboardSource): void {
  for (const [url, asset] of Object.entries(assets())) {
    const body = readFileSync(asset.file);
    app.get(url, async (_req, reply) => {
      reply.header('content-type', asset.type).header('cache-control', 'no-cache');
      return reply.send(body);
    });
  }
  const stop = trackSlashes(source);
  app.addHook('onClose', async () => stop());
}
