// CPU-profile a Node process from start to exit, written as PROF_DIR/<pid>-<argv>.cpuprofile (open in Chrome
// DevTools or speedscope). Node refuses --cpu-prof in NODE_OPTIONS, so child processes (market, miner,
// validator) are profiled by preloading this file instead:
//   PROF_DIR=/tmp/prof NODE_OPTIONS="--require $PWD/scripts/cpu-prof-preload.cjs" infermarket bench --suite overhead --quick
const inspector = require('node:inspector');
const fs = require('node:fs');
const s = new inspector.Session();
s.connect();
s.post('Profiler.enable');
s.post('Profiler.setSamplingInterval', { interval: 500 });
s.post('Profiler.start');
const dir = process.env.PROF_DIR || '/tmp';
let done = false;
const stop = () => {
  if (done) return;
  done = true;
  s.post('Profiler.stop', (err, res) => {
    if (!err) fs.writeFileSync(`${dir}/${process.pid}-${(process.argv[2] || 'main').replace(/\W/g, '')}-${(process.argv[1] || '').split('/').pop()}.cpuprofile`, JSON.stringify(res.profile));
  });
};
process.on('exit', stop);
