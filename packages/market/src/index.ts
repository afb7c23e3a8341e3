export const PACKAGE = '@infermarket/market';
