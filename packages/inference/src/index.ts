export const PACKAGE = '@infermarket/inference';
