import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import chromiumBinary from '@sparticuz/chromium';
import { chromium, type BrowserContext } from 'playwright-core';

/**
 * A real headless Chromium for the browser tests, from npm alone (no system package): `@sparticuz/chromium`
 * ships a compressed build that is unpacked to the temp folder on first use, and `playwright-core` drives it.
 */

/** Our flags on top of the package's recommended ones: no network chatter, no first-run UI. */
const EXTRA_ARGS = Object.freeze([
  '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync',
  '--no-first-run', '--disable-quic',
]);

/** Options for {@link launchBrowser}. */
export interface LaunchBrowserOptions {
  /** A fresh folder for the browser profile (the caller deletes it). */
  profileDir: string;
  /** Block all network access except what the page loads from disk. */
  offline?: boolean;
}

/**
 * Launch the bundled Chromium headless with a persistent profile.
 *
 * The browser's environment gets a full locale (`en_US.UTF-8`): under `C.UTF-8` the bundled build throws
 * `RangeError: Invalid language tag: en-US@posix` from `Intl` in the page.
 * @returns a playwright browser context; close it when done.
 */
export async function launchBrowser(options: LaunchBrowserOptions): Promise<BrowserContext> {
  const executablePath = await unpackOnce();
  // playwright adds its own --headless; the package's `--headless='shell'` would fight it.
  const args = [...chromiumBinary.args.filter((a) => !a.startsWith('--headless')), ...EXTRA_ARGS];
  return chromium.launchPersistentContext(options.profileDir, {
    executablePath,
    args,
    headless: true,
    viewport: { width: 1280, height: 900 },
    offline: options.offline ?? false,
    env: { ...process.env, LANG: 'en_US.UTF-8', LC_ALL: 'en_US.UTF-8', LANGUAGE: 'en_US' },
  });
}

/** Marker written after a complete unpack (the package itself only checks that /tmp/chromium exists). */
const UNPACKED = join(tmpdir(), 'infermarket-sparticuz-chromium-153.0.0.ok');
const LOCK = join(tmpdir(), 'infermarket-sparticuz-chromium.lock');

/**
 * Unpack the bundled Chromium once per machine, safely when several test files (processes) start at once:
 * the package writes `/tmp/chromium` in place and answers "done" to anyone who sees the file exist, so a
 * second process could launch a half-written binary, and an interrupted unpack would stay broken. A lock
 * directory serialises the unpack; a marker file says it finished.
 */
async function unpackOnce(): Promise<string> {
  if (existsSync(UNPACKED)) return chromiumBinary.executablePath();
  const started = Date.now();
  for (;;) {
    try {
      mkdirSync(LOCK);
      break;
    } catch {
      if (existsSync(UNPACKED)) return chromiumBinary.executablePath();
      // a lock left by a process that died mid-unpack: the unpack takes seconds, not minutes
      if (Date.now() - statSync(LOCK, { throwIfNoEntry: false })!.mtimeMs > 120_000) rmSync(LOCK, { recursive: true, force: true });
      if (Date.now() - started > 180_000) throw new Error(`waited 3 min for another process to unpack Chromium (lock ${LOCK})`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }
  try {
    if (!existsSync(UNPACKED)) {
      // whatever is there was not finished by us: unpack it again from the package
      for (const f of ['chromium', 'fonts', 'libGLESv2.so']) rmSync(join(tmpdir(), f), { recursive: true, force: true });
      const path = await chromiumBinary.executablePath();
      writeFileSync(UNPACKED, `${path}\n`);
    }
  } finally {
    rmSync(LOCK, { recursive: true, force: true });
  }
  return chromiumBinary.executablePath();
}
