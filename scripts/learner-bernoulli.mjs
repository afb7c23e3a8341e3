// The adaptive learners in a market with nothing but the PoSP game: each job, honest work pays R − C; a cheat
// pays R, or −S with probability q (slashed). No auction, no validators, no disputes. It separates what the
// learners do from what the simulated rules do: if a learner stops short of p* = C/(R+S) here too, the gap
// is the learner's, not the rules'. Prints the mean cheat share over the second half of each run, per
// q / p*. Deterministic (seeds fixed below). Needs `npm run build`.
//   node scripts/learner-bernoulli.mjs epsilon-greedy 1400 60          # learner, jobs per run, runs per cell
//   node scripts/learner-bernoulli.mjs bayes 1400 40 25 0.8            # … outcomes 25 jobs late; the market slashes 0.8× what the rules say
import { createLearner, createRng, outcome } from '../packages/agents/dist/index.js';

const POINTS = { 'S/R 1': [312, 992, 1000], 'S/R 10': [496, 992, 9920], 'S/R 150': [827, 992, 148830] };
const [learner = 'epsilon-greedy', jobsArg = '1400', repsArg = '60', delayArg = '0', trueArg = '1'] = process.argv.slice(2);
const jobs = Number(jobsArg);
const reps = Number(repsArg);
const delay = Number(delayArg); // outcomes reach the learner this many jobs late (a challenge window)
const trueDetection = Number(trueArg); // the market's P(slashed | audited) ÷ what the rules tell `bayes` (1)
const MULTS = [0.5, 0.7, 0.85, 0.95, 1, 1.05, 1.15, 1.3, 1.6];
console.log(`learner ${learner}, ${jobs} jobs per run, ${reps} runs per cell, outcomes ${delay} jobs late, market detection ${trueDetection} × the rules'`);
console.log(`| point | ${MULTS.map((m) => `${m} p*`).join(' | ')} |`);
console.log(`|---|${MULTS.map(() => '---').join('|')}|`);
for (const [name, [C, R, S]] of Object.entries(POINTS)) {
  const pStar = C / (R + S);
  const cells = [];
  for (const m of MULTS) {
    const p = m * pStar;
    let cheats = 0;
    let n = 0;
    for (let rep = 0; rep < reps; rep++) {
      const env = createRng(5000 + rep);
      const l = createLearner({ learner }, createRng(1000 + rep), () => ({ auditRate: p, slashGivenAudit: 1, slashMicro: S, jailMs: 0 }));
      const pending = [];
      for (let j = 0; j < jobs; j++) {
        const arm = l.choose();
        const cheat = env.next() < l.levels[arm];
        const o = !cheat ? outcome.settled(R, C) : env.next() < p * trueDetection ? outcome.slashed(S, 0, { jailMs: 0 }) : outcome.settled(R, 0);
        if (j >= jobs / 2) {
          n++;
          if (cheat) cheats++;
        }
        pending.push([arm, o]);
        if (pending.length > delay) {
          const [a, oo] = pending.shift();
          l.learn(a, oo);
        }
      }
    }
    cells.push((cheats / n).toFixed(2));
  }
  console.log(`| ${name} | ${cells.join(' | ')} |`);
}
