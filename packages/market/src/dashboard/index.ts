/**
 * The live dashboard: a static page at `/` fed over the `/v1/dashboard` WebSocket.
 * The market calls {@link registerDashboard} on its fastify app and routes each `/v1/dashboard`
 * upgrade to {@link attachDashboardSocket}.
 */
export type { DashboardSource } from './dashboard-source.js';
export { registerDashboard } from './register-dashboard.js';
export { attachDashboardSocket, DASHBOARD_SOCKET_DEFAULTS, type DashboardSocketOptions } from './attach-dashboard-socket.js';
export { dashboardStaticDir, uplotDistDir } from './static-dir.js';
export { trackSlashes, slashHistory, SLASH_HISTORY_CAP } from './slash-history.js';
