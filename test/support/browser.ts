/**
 * Browser tests: Debian's chromium driven by playwright-core, and the dashboard build they load.
 * Both are made present when missing, so a fresh machine can run the tests.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { it } from 'node:test';
import { type BrowserContext, chromium } from 'playwright-core';
import { tempDir } from './databases.ts';

export const chromiumPath = '/usr/bin/chromium';
const root = path.resolve(import.meta.dirname, '../..');
export const artifactsDir = path.join(root, 'test-artifacts');

/**
 * Installs Debian's chromium with apt-get when it is not there yet (needs root, as in CI). Test files
 * run in parallel: one that finds dpkg locked by another's install waits for it instead of failing.
 */
export function ensureChromium(): void {
  if (existsSync(chromiumPath)) return;
  const apt = (...args: string[]) =>
    execFileSync('apt-get', ['-o', 'DPkg::Lock::Timeout=600', ...args], { stdio: 'inherit' });
  try {
    apt('install', '-y', 'chromium');
  } catch {
    apt('update');
    apt('install', '-y', 'chromium');
  }
}

/** The newest modification time of the files below `dir`, without a build (dist). */
function newestSource(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === 'dist') continue;
    const file = path.join(dir, entry.name);
    newest = Math.max(newest, entry.isDirectory() ? newestSource(file) : statSync(file).mtimeMs);
  }
  return newest;
}

/** The dashboard's sources: web/, and src/domain, whose pure modules it shares with the server and CLI. */
const dashboardSources = ['web', 'src/domain'];

/** Builds the dashboard (`npm run build`) when `web/dist` has no build or one older than its sources. */
export function ensureWebBuild(): void {
  const index = path.join(root, 'web/dist/index.html');
  const newest = Math.max(...dashboardSources.map((dir) => newestSource(path.join(root, dir))));
  if (existsSync(index) && statSync(index).mtimeMs >= newest) return;
  execFileSync(path.join(root, 'node_modules/.bin/vite'), ['build', '--config', 'web/vite.config.ts'], {
    cwd: root,
    stdio: 'inherit',
  });
}

export interface Browser {
  context: BrowserContext;
  /** Saves a full-page screenshot as `test-artifacts/<group>/<name>.png`. */
  screenshot(page: import('playwright-core').Page, group: string, name: string): Promise<void>;
  close(): Promise<void>;
}

/** A headless chromium with a fresh profile, removed on close. */
export async function launchBrowser(): Promise<Browser> {
  ensureChromium();
  const profile = tempDir('ferry-chromium-');
  const context = await chromium.launchPersistentContext(profile.path, {
    executablePath: chromiumPath,
    headless: true,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 900 },
  });
  return {
    context,
    async screenshot(page, group, name) {
      const dir = path.join(artifactsDir, group);
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: path.join(dir, `${name}.png`), fullPage: true });
    },
    async close() {
      await context.close();
      profile.cleanup();
    },
  };
}

/** Test steps (`it`) that leave a screenshot of the page behind, through `shot`, when they fail. */
export const stepsWithScreenshots =
  (shot: (name: string) => Promise<void>) => (name: string, body: () => Promise<void>) =>
    it(name, async () => {
      try {
        await body();
      } catch (error) {
        await shot(`failed-${name.replace(/\W+/g, '-').slice(0, 60)}`).catch(() => undefined);
        throw error;
      }
    });
