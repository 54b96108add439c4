// What the browser tests share: Chromium, fresh contexts, pages that record browser
// errors, axe-core (WCAG 2.1 A and AA) on every page, screenshots.

import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
export const SHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
mkdirSync(SHOTS, { recursive: true });

export const BASE = process.env.BANDI_URL;

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** Pages checked with axe, by URL and language. */
export const checked = [];

export async function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ARGS,
  });
}

/** A fresh browser context (its own cookies), Italian unless told otherwise. */
export async function context(browser, options = {}) {
  return browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'it-IT',
    extraHTTPHeaders: { 'Accept-Language': 'it-IT,it;q=0.9' },
    ...options,
  });
}

/** A page that records what the browser reports as errors. */
export async function open(ctx) {
  const page = await ctx.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

/** Waits for the fonts, so that screenshots and contrast checks see the final page. */
export async function settle(page) {
  await page.evaluate(() => document.fonts.ready.then(() => true));
}

/** Runs axe-core on the page as it is now; fails on any WCAG 2.1 A/AA violation. */
export async function axe(page, label) {
  await settle(page);
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const problems = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(problems, [], `axe-core on ${label}:\n  ${problems.join('\n  ')}`);
  checked.push(label);
}

/** The page as it is now passes axe, logged no browser error, and is saved if `shot`. */
export async function check(page, label, { status = 200, shot } = {}) {
  await axe(page, label);
  const errors = page.errors.filter((e) => !(status >= 400 && /Failed to load resource/.test(e)));
  assert.deepEqual(errors, [], `browser errors on ${label}`);
  page.errors.length = 0;
  if (shot) await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
}

/** Goes to `path`, expects `status` and an HTML page under the CSP, and checks it. */
export async function visit(page, path, { status = 200, shot } = {}) {
  const response = await page.goto(BASE + path, { waitUntil: 'load' });
  assert.equal(response.status(), status, `status of ${path}`);
  assert.match(response.headers()['content-type'], /^text\/html/);
  assert.match(response.headers()['content-security-policy'], /default-src 'self'/);
  await check(page, `${path} (${await page.getAttribute('html', 'lang')})`, { status, shot });
  return response;
}

/** Clicks what submits a form and returns the response of the page it leads to. */
export async function press(page, selector) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.click(selector),
  ]);
  return response;
}

export async function text(page, selector) {
  return (await page.textContent(selector)).trim();
}

/** Waits until the text of `selector` is `value` (figures the page updates by itself). */
export async function waitText(page, selector, value, timeout = 5000) {
  try {
    await page.waitForFunction(([sel, v]) => {
      const el = document.querySelector(sel);
      return !!el && el.textContent.trim() === v;
    }, [selector, value], { timeout });
  } catch (e) {
    const now = await page.textContent(selector).catch(() => null);
    assert.fail(`${selector} should read ${JSON.stringify(value)}, reads ${JSON.stringify(now && now.trim())}`);
  }
}
