/**
 * @infermarket/validator — the validator process: login, registration and stake, blind re-execution of
 * audit and dispute tasks on the reference session, signed audit outputs, and strategies
 * (`honest`, `lazy`, `colluding`).
 */
export { createValidator, type Validator, type ValidatorOptions, type ValidatorStats } from './validator.js';
export { cheapClaim } from './lazy.js';
