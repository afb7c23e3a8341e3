export const PACKAGE = '@infermarket/miner';
