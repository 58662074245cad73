// A real browser for the console's tests: Debian's chromium driven by playwright-core (never a downloaded
// browser), each one with a fresh user-data directory (its own cookies), its console errors gathered.
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.BERTH_TEST_CHROMIUM ?? '/usr/bin/chromium';
/** Where the tests save their screenshots (not part of the repository; the README's are copied from there). */
export const SCREENSHOTS = join(tmpdir(), 'berth-console-screenshots');

export class Browsers {
  private readonly open: { context: BrowserContext; dir: string }[] = [];
  /** Errors in the pages' consoles (a Content-Security-Policy violation would be one), and uncaught exceptions. */
  readonly consoleErrors: string[] = [];

  /** A fresh browser (its own user-data directory, so its own cookies). */
  async page(): Promise<Page> {
    if (!existsSync(CHROMIUM)) {
      throw new Error(
        `${CHROMIUM} is missing: install Debian's chromium (apt-get install -y chromium); the console tests need a real browser`,
      );
    }
    const dir = mkdtempSync(join(tmpdir(), 'berth-chromium-'));
    const context = await chromium.launchPersistentContext(dir, {
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    });
    this.open.push({ context, dir });
    const page = context.pages()[0] ?? (await context.newPage());
    page.on('console', (m) => {
      if (m.type() !== 'error') return;
      // A page that answers a refused action with its HTTP status (400, 401, 403) is logged by chromium as a failed
      // load of the document itself: that is the status the console means to give, not an error of the page.
      if (m.text().startsWith('Failed to load resource: the server responded with a status of 4') && m.location().url === page.url())
        return;
      this.consoleErrors.push(`${page.url()}: ${m.text()} (${m.location().url})`);
    });
    page.on('pageerror', (e) => this.consoleErrors.push(`${page.url()}: ${e.message}`));
    return page;
  }

  async closeAll(): Promise<void> {
    for (const b of this.open) {
      await b.context.close().catch(() => {});
      rmSync(b.dir, { recursive: true, force: true });
    }
  }
}

/** Signs in with an access key from the console's front page. */
export async function signIn(page: Page, url: string, keys: { accessKeyId: string; secretAccessKey: string }): Promise<void> {
  await page.goto(`${url}/console/`);
  assert.match(page.url(), /\/console\/sign-in/, 'a page without a session leads to the sign-in page');
  await page.getByLabel('Access key ID').fill(keys.accessKeyId);
  await page.getByLabel('Secret access key').fill(keys.secretAccessKey);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.waitForURL(/\/console\/repositories/);
}

export const textOf = async (page: Page, selector: string) => (await page.locator(selector).innerText()).trim();
