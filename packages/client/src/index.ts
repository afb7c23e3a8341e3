export const PACKAGE = '@infermarket/client';
