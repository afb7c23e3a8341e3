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
  const executablePath = await chromiumBinary.executablePath();
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
