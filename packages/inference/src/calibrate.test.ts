import { describe, expect, it } from 'vitest';
import { calibrate, emulatedCommand, findQemu, CPUS_WITHOUT_FMA } from './calibrate.js';
import { loadManifest, MODEL_IDS } from './manifest.js';
import { VARIANTS } from './graph-builder.js';
import { DEFAULT_MODELS_DIR } from './paths.js';

const manifest = loadManifest(DEFAULT_MODELS_DIR);
const hasQemu = findQemu() !== undefined && process.arch === 'x64';
/** Cheats that cost the miner nothing to avoid: fp16 is not cheaper than fp32 on CPU (docs/models.md). */
const HARMLESS = new Set(['fp16 served as fp32', 'fp32 served as fp16']);

describe('committed cross-CPU calibration (models/manifest.json, from `infermarket models calibrate`)', () => {
  for (const model of MODEL_IDS) {
    for (const variant of VARIANTS) {
      it(`${model}/${variant}: measured on these bytes across the FMA line; honest pairs within tolerance, cheats outside`, () => {
        const v = manifest.models[model].variants[variant];
        const c = v.crossCpu;
        expect(c, 'run `infermarket models calibrate` and commit models/manifest.json').toBeDefined();
        expect(c!.sha256).toBe(v.sha256);
        expect(c!.cpus).toContain('native');
        expect(c!.cpus.some((x) => CPUS_WITHOUT_FMA.includes(x))).toBe(true);
        expect(c!.cpus.some((x) => x !== 'native' && !CPUS_WITHOUT_FMA.includes(x))).toBe(true);
        expect(c!.honestJobs).toBeGreaterThan(0);
        expect(c!.honestRejections).toBe(0);
        expect(v.comparator.kind).toBe('argmax-maxabs');
        const tol = (v.comparator as { tolerance: number }).tolerance;
        // headroom: honest divergence at most a quarter of the tolerance on every CPU pair
        for (const [pair, [maxAbs, , , rejected]] of Object.entries(c!.pairs)) {
          expect(rejected, pair).toBe(0);
          expect(maxAbs * 4, pair).toBeLessThanOrEqual(tol);
        }
        expect(c!.nearestCheatMinMaxAbsDiff).toBeGreaterThan(tol);
        for (const [cheat, accepted] of Object.entries(c!.cheatsAccepted)) if (!HARMLESS.has(cheat)) expect(accepted, cheat).toBe(0);
        if (variant === 'int8') {
          // int8 is bit-identical on every tier, charlm included (ISA-independent sigmoid/tanh)
          expect(c!.worstHonestMaxAbsDiff).toBe(0);
          expect(c!.honestDifferingJobs).toBe(0);
        }
        if (model === 'charlm') {
          const g = c!.generation!;
          expect(g.pairJobs).toBeGreaterThan(0);
          if (variant === 'int8') expect(g.greedyDifferingJobs + g.sampledDifferingJobs).toBe(0);
        }
      });
    }
  }
});

describe('emulated CPUs', () => {
  it('without qemu-user: a clear error naming the Debian package', () => {
    expect(() => emulatedCommand('Nehalem', 'node', [], { PATH: '/nonexistent' })).toThrow(/qemu-x86_64 is not installed; install Debian's "qemu-user" package/);
  });

  it('refuses a native-only run (it would overwrite the committed cross-CPU figures with nothing)', async () => {
    await expect(calibrate({ cpus: [] })).rejects.toThrow(/"cpus" needs at least one emulated CPU model besides native/);
  });

  it.runIf(hasQemu)('with qemu-user: an unknown CPU model is refused, listing the known ones (skipped without qemu-user: apt-get install qemu-user)', () => {
    expect(() => emulatedCommand('Pentium9000', 'node', [])).toThrow(/cpu "Pentium9000" is not a qemu-x86_64 CPU model; known: .*Nehalem/);
    expect(emulatedCommand('Nehalem', 'node', ['x.js'])).toEqual({ command: findQemu(), args: ['-cpu', 'Nehalem', 'node', 'x.js'] });
  });

  it.runIf(hasQemu)(
    'with qemu-user: charlm int8 is bit-identical natively and on Nehalem (no FMA), run and generation (skipped without qemu-user: apt-get install qemu-user)',
    async () => {
      const r = await calibrate({ cpus: ['Nehalem'], models: ['charlm'], variants: ['int8', 'int4'], samples: 24, genJobs: 2, genTokens: 16, concurrency: 1 });
      const int8 = r.variants.find((v) => v.variant === 'int8')!;
      expect(int8.pairs).toHaveLength(1);
      expect(int8.pairs[0]!).toMatchObject({ a: 'native', b: 'Nehalem', jobs: 24, differing: 0, rejected: 0, maxAbsDiff: 0, greedyDiffering: 0, sampledDiffering: 0 });
      // the int4 downgrade served as int8 is still rejected on every job
      expect(int8.summary.cheatsAccepted['int4 served as int8']).toBe(0);
      expect(int8.summary.cheatsAccepted["another input's output (lazy)"]).toBe(0);
    },
    600_000,
  );
});
