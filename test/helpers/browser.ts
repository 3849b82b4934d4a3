/**
 * A real headless Chromium (Debian's /usr/bin/chromium, or CHROMIUM_PATH) driven by playwright-core,
 * with a fresh user-data-dir per launch. Every request the pages make and every console error is
 * recorded, so a test can assert that the page asked no other host and logged no error.
 */
import { existsSync } from 'node:fs';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import type { Test } from 'tap';
import { ROOT } from './app.ts';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Where screenshots are written (gitignored): test artifacts, kept after the run. */
export const ARTIFACTS_DIR = path.join(ROOT, 'test-artifacts');

const ARGS = [
  '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync',
];

/** Why a browser test cannot run here, or null when Chromium is installed. */
export function chromiumMissing(): string | null {
  return existsSync(CHROMIUM_PATH) ? null : `Chromium is not installed at ${CHROMIUM_PATH} (apt-get install -y chromium; .ci/run installs it)`;
}

export interface Browser {
  context: BrowserContext;
  /** Every URL requested by any page of the context (HTTP and WebSocket). */
  requests: string[];
  /** Console errors and uncaught page errors, as text. */
  errors: string[];
  newPage(opts?: { width?: number; height?: number }): Promise<Page>;
}

export async function launchBrowser(t: Pick<Test, 'teardown'>): Promise<Browser> {
  const userDataDir = await mkdtemp(path.join(os.tmpdir(), 'seqserve-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: ARGS,
    viewport: { width: 1280, height: 900 },
    timeout: 60_000,
  });
  t.teardown(async () => {
    await context.close().catch(() => undefined);
    await rm(userDataDir, { recursive: true, force: true });
  });
  const requests: string[] = [];
  const errors: string[] = [];
  context.on('request', (r) => requests.push(r.url()));
  const watch = (page: Page) => {
    page.on('console', (m) => {
      if (m.type() === 'error') errors.push(`console: ${m.text()}`);
    });
    page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
    page.on('websocket', (ws) => requests.push(ws.url()));
  };
  context.pages().forEach(watch);
  context.on('page', watch);
  return {
    context,
    requests,
    errors,
    async newPage(opts = {}) {
      const page = await context.newPage();
      if (opts.width) await page.setViewportSize({ width: opts.width, height: opts.height ?? 800 });
      return page;
    },
  };
}

/** Writes a full-page screenshot to test-artifacts/<name>.png; returns its path. */
export async function screenshot(page: Page, name: string, opts: { fullPage?: boolean } = {}): Promise<string> {
  await mkdir(ARTIFACTS_DIR, { recursive: true });
  const file = path.join(ARTIFACTS_DIR, `${name}.png`);
  await page.screenshot({ path: file, fullPage: opts.fullPage ?? true });
  return file;
}

/** URLs whose origin is not `origin` (data: and about: URLs are local). */
export function foreignRequests(requests: string[], origin: string): string[] {
  const host = new URL(origin).host;
  return requests.filter((u) => {
    if (u.startsWith('data:') || u.startsWith('about:') || u.startsWith('blob:')) return false;
    return new URL(u).host !== host;
  });
}
