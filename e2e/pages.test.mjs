// The public pages in a real browser against the real server (started by e2e/run.sh).
// Every page visited is checked with axe-core (WCAG 2.1 A and AA) and must log no error
// (a Content-Security-Policy violation, a missing file, a script error).

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
const SHOTS = join(dirname(fileURLToPath(import.meta.url)), 'screenshots');
mkdirSync(SHOTS, { recursive: true });

const BASE = process.env.BANDI_URL;
const CALL = process.env.BANDI_CALL;
const FUTURE = process.env.BANDI_FUTURE_CALL;
const TOKEN = process.env.BANDI_TOKEN;
assert.ok(BASE && CALL && FUTURE && TOKEN, 'run through e2e/run.sh');

const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

let browser;
/** Pages already checked with axe, by URL and language. */
const checked = [];

before(async () => {
  browser = await chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    headless: true,
    args: ARGS,
  });
});

after(async () => {
  await browser?.close();
  console.log(`axe-core: ${checked.length} pages checked, no violations`);
});

/** A fresh browser context (its own cookies), Italian unless told otherwise. */
async function context(options = {}) {
  return browser.newContext({
    viewport: { width: 1280, height: 900 },
    locale: 'it-IT',
    extraHTTPHeaders: { 'Accept-Language': 'it-IT,it;q=0.9' },
    ...options,
  });
}

/** A page that records what the browser reports as errors. */
async function open(ctx) {
  const page = await ctx.newPage();
  page.errors = [];
  page.on('console', (m) => { if (m.type() === 'error') page.errors.push(m.text()); });
  page.on('pageerror', (e) => page.errors.push(String(e)));
  return page;
}

/** Runs axe-core on the page as it is now; fails on any WCAG 2.1 A/AA violation. */
async function axe(page, label) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, {
    runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] },
  }));
  const problems = result.violations.map((v) =>
    `${v.id} (${v.impact}): ${v.help}\n    ${v.nodes.slice(0, 5).map((n) => n.target.join(' ')).join('\n    ')}`);
  assert.deepEqual(problems, [], `axe-core on ${label}:\n  ${problems.join('\n  ')}`);
  checked.push(label);
}

/**
 * Goes to `path`, expects `status`, checks the page with axe and the absence of browser
 * errors, and saves a screenshot when `shot` is given.
 */
async function visit(page, path, { status = 200, shot } = {}) {
  const response = await page.goto(BASE + path, { waitUntil: 'load' });
  assert.equal(response.status(), status, `status of ${path}`);
  assert.match(response.headers()['content-type'], /^text\/html/);
  assert.match(response.headers()['content-security-policy'], /default-src 'self'/);
  await settle(page);
  await axe(page, `${path} (${await page.getAttribute('html', 'lang')})`);
  const errors = page.errors.filter((e) => !(status >= 400 && /Failed to load resource/.test(e)));
  assert.deepEqual(errors, [], `browser errors on ${path}`);
  page.errors.length = 0;
  if (shot) await page.screenshot({ path: join(SHOTS, shot), fullPage: true });
  return response;
}

/** Waits for the fonts, so that screenshots and contrast checks see the final page. */
async function settle(page) {
  await page.evaluate(() => document.fonts.ready.then(() => true));
}

async function submitCervia() {
  const res = await fetch(`${BASE}/api/v1/calls/${CALL}/applications`, {
    method: 'POST',
    headers: { Authorization: `Bearer ${TOKEN}`, 'Content-Type': 'application/json' },
    body: JSON.stringify({
      title: 'Smart working a Cervia',
      summary: 'x',
      lines: [{ category: 'training', description: 'Formazione', amount_cents: 7500000 }],
      indicators: { staff_total: 180, agile_workers_before: 4, agile_workers_target: 90 },
    }),
  });
  const body = await res.json();
  assert.equal(res.status, 201, JSON.stringify(body));
  return body;
}

async function text(page, selector) {
  return (await page.textContent(selector)).trim();
}

describe('public pages', () => {
  let receipt;

  test('the home page lists the calls, in Italian', async () => {
    const ctx = await context();
    const page = await open(ctx);
    await visit(page, '/', { shot: 'home.png' });
    assert.equal(await page.getAttribute('html', 'lang'), 'it');
    assert.equal(await text(page, 'main h1'), 'Bandi');
    const titles = await page.locator('.call-card h2').allTextContents();
    assert.ok(titles.some((t) => t.includes('smart working negli enti locali')), titles.join(' | '));
    assert.ok(await page.locator('header').getByText('Regione Emilia-Romagna').first().isVisible());
    assert.ok(await page.locator('footer a[href="/accessibilita"]').isVisible());
    assert.ok(await page.locator('footer a[href="/privacy"]').isVisible());
    await ctx.close();
  });

  test('the call page shows the budget, and its live counters follow a submission', async () => {
    const ctx = await context();
    const page = await open(ctx);
    await visit(page, `/bandi/${CALL}`);
    assert.equal(await text(page, '#fact-budget'), '2.000.000,00 €');
    assert.equal(await text(page, '#live-remaining'), '2.000.000,00 €');
    assert.equal(await text(page, '#live-applications'), '0');
    assert.equal(await text(page, '#call-state'), 'Aperto');
    assert.equal(await page.getAttribute('[aria-live="polite"]', 'aria-live'), 'polite');
    // Wait for the event stream to be connected: its first message arrives at once.
    await page.waitForFunction(() => document.documentElement.classList.contains('js'));
    await new Promise((r) => setTimeout(r, 1000));

    receipt = await submitCervia();
    await page.waitForFunction(
      () => document.getElementById('live-applications').textContent.trim() === '1',
      null, { timeout: 10_000 });
    // 70% of 75,000.00 is 52,500.00.
    assert.equal(await text(page, '#live-remaining'), '1.947.500,00 €');
    assert.equal(await text(page, '#live-reserved'), '52.500,00 €');
    assert.equal(await page.evaluate(() => document.getElementById('live-progress').value), 5_250_000);
    await axe(page, `/bandi/${CALL} after the update`);
    await page.screenshot({ path: join(SHOTS, 'call-page.png') });
    assert.deepEqual(page.errors, []);
    await ctx.close();
  });

  test('the ranking shows Cervia and its status', async () => {
    assert.ok(receipt, 'needs the submission of the previous test');
    const ctx = await context();
    const page = await open(ctx);
    await visit(page, `/bandi/${CALL}/graduatoria`, { shot: 'ranking.png' });
    const row = page.locator('table.ranking tbody tr').first();
    assert.match(await row.textContent(), /Cervia/);
    assert.match(await row.textContent(), new RegExp(receipt.protocol.replace('/', '\\/')));
    assert.match(await row.textContent(), /Finanziabile: fondi riservati/);
    assert.match(await row.textContent(), /52\.500,00 €/);
    assert.ok(await page.locator('table.ranking caption').isVisible());
    assert.equal(await page.locator('table.ranking thead th[scope="col"]').count(), 7);
    await ctx.close();
  });

  test('the ledger explorer finds the protocol number, its entry and hash', async () => {
    assert.ok(receipt, 'needs the submission of an earlier test');
    const ctx = await context();
    const page = await open(ctx);
    await visit(page, '/registro');
    await page.fill('#protocollo', receipt.protocol);
    await Promise.all([page.waitForURL(/protocollo=/), page.click('form.lookup button[type="submit"]')]);
    await settle(page);
    await axe(page, '/registro?protocollo=…');
    assert.equal(await text(page, '#found-protocol'), receipt.protocol);
    assert.equal(await text(page, '#entry-seq'), String(receipt.ledger_seq));
    assert.equal(await text(page, '#entry-hash'), receipt.ledger_hash);
    assert.match(await text(page, 'main'), /Cervia/);
    // The entry in words (ledger_words.rs): «La domanda n. … (protocollo …) di Comune di
    // Cervia è ricevuta e sigillata; …», and the raw JSON beside it, in the same card.
    const card = page.locator('section[aria-labelledby="entry-title"]');
    const sentence = await text(page, '#entry-sentence');
    assert.ok(sentence.includes(`(protocollo ${receipt.protocol})`), sentence);
    assert.match(sentence, /di Comune di Cervia è ricevuta e sigillata/);
    assert.ok(await card.locator('#entry-sentence').isVisible());
    const raw = card.locator('pre.payload');
    assert.ok(await raw.isVisible());
    const payload = (await raw.textContent()).trim();
    assert.doesNotThrow(() => JSON.parse(payload), `the payload is JSON: ${payload}`);
    assert.ok(payload.includes(receipt.protocol), payload);
    await page.screenshot({ path: join(SHOTS, 'ledger.png'), fullPage: true });

    // Something that is not a protocol number gets a clear message, not an error page.
    await visit(page, '/registro?protocollo=garbage', { status: 400 });
    assert.match(await text(page, '.alert-danger'), /non è un numero di protocollo/);
    await visit(page, '/registro?protocollo=ER-SW-2020/9999999', { status: 404 });
    assert.match(await text(page, '.alert-danger'), /Nessuna domanda/);
    await visit(page, `/registro?voce=${receipt.ledger_seq}`);
    assert.equal(await text(page, '#entry-hash'), receipt.ledger_hash);
    await ctx.close();
  });

  test('an unknown page shows the Italian 404 page, and the API keeps JSON', async () => {
    const ctx = await context();
    const page = await open(ctx);
    await visit(page, '/pagina-che-non-esiste', { status: 404, shot: '404.png' });
    assert.equal(await text(page, 'main h1'), 'Pagina non trovata');
    assert.match(await text(page, '#error-code'), /^404/);
    await visit(page, '/bandi/bando-che-non-esiste', { status: 404 });
    assert.equal(await text(page, '#error-message'), 'Bando inesistente.');
    const body = await text(page, 'body');
    assert.doesNotMatch(body, /panicked|backtrace|src\/|\.rs:/);

    const api = await fetch(`${BASE}/api/v1/non-esiste`);
    assert.equal(api.status, 404);
    assert.match(api.headers.get('content-type'), /application\/json/);
    assert.equal((await api.json()).error.code, 'not_found');
    const post = await fetch(`${BASE}/`, { method: 'POST' });
    assert.equal(post.status, 405);
    assert.match(post.headers.get('content-type'), /text\/html/);
    assert.match(await post.text(), /Operazione non consentita/);
    await ctx.close();
  });

  test('Italian by default, whatever the browser asks; the English switch works and is remembered', async () => {
    const ctx = await context();
    const page = await open(ctx);
    await visit(page, '/');
    await Promise.all([page.waitForURL(/lang=en/), page.click('a[hreflang="en"]')]);
    await settle(page);
    await axe(page, '/?lang=en');
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await text(page, 'main h1'), 'Calls');
    // The choice is kept in a cookie for the next pages.
    await visit(page, `/bandi/${CALL}`, { shot: 'call-page-en.png' });
    assert.equal(await page.getAttribute('html', 'lang'), 'en');
    assert.equal(await text(page, '#call-state'), 'Open');
    // Amounts the English way, also once the live counters have updated them.
    await page.waitForTimeout(1500);
    assert.equal(await text(page, '#fact-budget'), '€2,000,000.00');
    assert.match(await text(page, '#live-remaining'), /^€\d{1,3}(,\d{3})*\.\d{2}$/);
    assert.match(await text(page, '#live-reserved'), /^€\d{1,3}(,\d{3})*\.\d{2}$/);
    await visit(page, '/no-such-page', { status: 404 });
    assert.equal(await text(page, 'main h1'), 'Page not found');
    await visit(page, '/accessibilita');
    assert.equal(await text(page, 'main h1'), 'Accessibility statement');
    await Promise.all([page.waitForURL(/lang=it/), page.click('a[hreflang="it"]')]);
    assert.equal(await text(page, 'main h1'), 'Dichiarazione di accessibilità');
    await ctx.close();

    // A browser that prefers English gets Italian until the person chooses English.
    const english = await context({ locale: 'en-GB', extraHTTPHeaders: { 'Accept-Language': 'en-GB,en;q=0.9' } });
    const p2 = await open(english);
    await visit(p2, '/privacy');
    assert.equal(await p2.getAttribute('html', 'lang'), 'it');
    assert.notEqual(await text(p2, 'main h1'), 'Privacy notice');
    await Promise.all([p2.waitForURL(/lang=en/), p2.click('a[hreflang="en"]')]);
    assert.equal(await text(p2, 'main h1'), 'Privacy notice');
    await english.close();
  });

  test('the information pages pass axe', async () => {
    const ctx = await context();
    const page = await open(ctx);
    await visit(page, '/accessibilita', { shot: 'accessibilita.png' });
    assert.match(await text(page, 'main'), /Legge 9 gennaio 2004, n\. 4/);
    await visit(page, '/privacy');
    assert.match(await text(page, 'main'), /Regolamento \(UE\) 2016\/679/);
    await ctx.close();
  });

  test('on a phone the menu opens and closes', async () => {
    const ctx = await context({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const page = await open(ctx);
    await visit(page, '/');
    const link = page.locator('#main-menu a[href="/registro"]');
    assert.equal(await link.isVisible(), false);
    await page.click('.custom-navbar-toggler');
    await link.waitFor({ state: 'visible' });
    assert.equal(await page.getAttribute('.custom-navbar-toggler', 'aria-expanded'), 'true');
    await page.waitForTimeout(400);
    await axe(page, '/ (phone, menu open)');
    await page.screenshot({ path: join(SHOTS, 'phone-menu.png') });
    await page.keyboard.press('Escape');
    await link.waitFor({ state: 'hidden' });
    assert.equal(await page.getAttribute('.custom-navbar-toggler', 'aria-expanded'), 'false');
    await ctx.close();
  });

  test('a call opening later shows the countdown and the server time', async () => {
    const ctx = await context();
    const page = await open(ctx);
    await visit(page, `/bandi/${FUTURE}`, { shot: 'countdown.png' });
    assert.equal(await text(page, '#call-state'), 'Di prossima apertura');
    assert.equal(await text(page, '#countdown-label'), 'Il bando apre tra');
    assert.match(await text(page, '#server-time'), /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/);
    const first = await text(page, '#countdown');
    assert.match(first, /minut/);
    await page.waitForFunction((t) => document.getElementById('countdown').textContent.trim() !== t,
      first, { timeout: 5_000 });
    assert.equal(await page.getAttribute('#countdown', 'role'), 'timer');
    await ctx.close();
  });

  test('without JavaScript the call page still shows the figures and the time left', async () => {
    const ctx = await context({ javaScriptEnabled: false });
    const page = await ctx.newPage();
    const res = await page.goto(`${BASE}/bandi/${FUTURE}`);
    assert.equal(res.status(), 200);
    assert.match(await text(page, '#countdown'), /minut/);
    assert.match(await text(page, '#server-time'), /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2}$/);
    assert.equal(await text(page, '#live-remaining'), '2.000.000,00 €');
    assert.ok(await page.locator('.no-js-only').first().isVisible());
    await ctx.close();
  });

  test('static files come from bandi itself, with long cache lifetimes', async () => {
    const html = await (await fetch(`${BASE}/`)).text();
    const links = [...html.matchAll(/(?:href|src)="(\/static\/[^"#]+)"/g)].map((m) => m[1]);
    assert.ok(links.length >= 5, links.join(' '));
    assert.doesNotMatch(html, /https?:\/\/(?!www\.regione\.emilia-romagna\.it)[^"]*\.(css|js|woff2)/);
    const types = { css: /^text\/css/, js: /^text\/javascript/, svg: /^image\/svg\+xml/ };
    for (const link of links) {
      const res = await fetch(BASE + link);
      assert.equal(res.status, 200, link);
      const ext = link.split('?')[0].split('.').pop();
      if (types[ext]) assert.match(res.headers.get('content-type'), types[ext], link);
      assert.match(res.headers.get('cache-control'), /max-age=31536000/, link);
      await res.arrayBuffer();
    }
    const font = await fetch(`${BASE}/static/bootstrap-italia/fonts/Titillium_Web/titillium-web-v10-latin-ext_latin-regular.woff2`);
    assert.equal(font.headers.get('content-type'), 'font/woff2');
    await font.arrayBuffer();
    const missing = await fetch(`${BASE}/static/nope.css`);
    assert.equal(missing.status, 404);
    await missing.arrayBuffer();
  });
});
