export { SUITES } from './bench/suites.js';
