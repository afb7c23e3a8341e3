// The testnet's emulated-CPU miners ("cpu" on a miner group, run under qemu-x86_64 -cpu): a machine
// without qemu-user gets a startup error naming the package, not a silent native run. The heterogeneous
// run itself (scenarios/heterogeneous.json) takes minutes under emulation; its measured result is in
// docs/models.md, and the cross-CPU model check runs in packages/inference/src/calibrate.test.ts.
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseScenario } from '@infermarket/protocol';
import { CLI, removeRun, tempDir } from './testnet-helpers.js';

const scenario = {
  name: 'cpu-missing',
  seed: 1,
  durationMs: 2000,
  miners: [{ count: 1, strategy: 'honest', cpu: 'Nehalem', models: ['digits'] }],
  validators: [{ count: 1, strategy: 'honest', models: ['digits'] }],
  clients: [{ count: 1, ratePerSec: 1, models: { digits: 1 } }],
};

describe('testnet miners on an emulated CPU', () => {
  it('"cpu" is validated as a scenario field', () => {
    expect(() => parseScenario(scenario)).not.toThrow();
    expect(() => parseScenario({ ...scenario, miners: [{ ...scenario.miners[0], cpu: '-cpu help' }] })).toThrow(/^miners\[0\]\.cpu/);
  });

  it('without qemu-x86_64 on PATH the testnet refuses to start with ERR_BAD_SCENARIO naming the qemu-user package', () => {
    const dir = tempDir('cpu-missing');
    try {
      const file = join(dir, 'scenario.json');
      writeFileSync(file, JSON.stringify(scenario));
      const r = spawnSync(process.execPath, [CLI, 'testnet', '--scenario', file, '--out', join(dir, 'run')], { encoding: 'utf8', env: { ...process.env, PATH: '/nonexistent' }, timeout: 60_000 });
      expect(r.status).toBe(1);
      expect(r.stdout + r.stderr).toMatch(/ERR_BAD_SCENARIO: honest-0: "cpu": cpu "Nehalem": qemu-x86_64 is not installed; install Debian's "qemu-user" package/);
    } finally {
      removeRun(dir);
    }
  }, 90_000);
});
