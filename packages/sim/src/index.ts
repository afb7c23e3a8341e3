export const PACKAGE = '@infermarket/sim';
