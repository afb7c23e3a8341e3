export const PACKAGE = '@infermarket/protocol';
