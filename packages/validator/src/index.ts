export const PACKAGE = '@infermarket/validator';
