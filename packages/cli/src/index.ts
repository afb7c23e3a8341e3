export { register as registerAll } from './commands/models.js';
