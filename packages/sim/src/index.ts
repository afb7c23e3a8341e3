export const PACKAGE = '@infermarket/sim';
export * from './report-html.js';
