// The community's practices in a real browser: Cervia proposes a practice whose Markdown
// carries the usual XSS payloads, the Region's office publishes it, a citizen finds it by
// another form of its words («formazione» for «formativi») and reads it with no script
// run, and the Unione del Distretto Ceramico says it reuses it. axe on every page.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { check, checked, context, launch, open, press, text, visit } from './browser.mjs';

const PASSWORD = process.env.BANDI_PASSWORD;
const SKIP = PASSWORD ? false : 'needs the accounts of e2e/run.sh';
const TITLE = 'Percorsi per dirigenti in lavoro agile (prova e2e)';
const BODY = [
  'Tre percorsi **formativi** per chi guida una squadra a distanza.',
  '',
  '<script>window.__xss = 1; alert("xss")</script>',
  '',
  '<img src=x onerror="window.__xss = 2">',
  '',
  '[apri](javascript:window.__xss=3) e [la guida](https://example.it/guida)',
].join('\n');

let browser;

before(async () => {
  if (SKIP) return;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  console.log(`axe-core: ${checked.length} pages of the practices checked, no violations`);
});

async function signIn(page, email) {
  await visit(page, '/accedi');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  return press(page, '.sign-in-form button[type="submit"]');
}

describe('good practices', { skip: SKIP }, () => {
  let href;

  test('Cervia proposes a practice from its reserved area', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    await signIn(page, 'cervia@e2e.example');
    await visit(page, '/area-riservata?ente=039007');
    await Promise.all([page.waitForURL(/\/area-riservata\/pratiche/), page.click('#practices-link')]);
    await check(page, 'practices of the body (empty form)');
    // Nothing chosen: every problem beside its field.
    let r = await press(page, '#practice-form button[type="submit"]');
    assert.equal(r.status(), 422);
    assert.equal(await page.isVisible('#e-title'), true);
    assert.equal(await page.isVisible('#e-levers'), true);
    await check(page, 'practice form with problems', { status: 422 });
    await page.fill('#p-title', TITLE);
    await page.fill('#p-summary', 'Tre percorsi brevi in aula virtuale, con materiali riusabili e questionari.');
    await page.fill('#p-body', BODY);
    await page.click('label[for="leva-training"]');
    await page.click('label[for="leva-change_management"]');
    await page.selectOption('#p-licence', 'CC-BY-SA-4.0');
    r = await press(page, '#practice-form button[type="submit"]');
    assert.equal(r.status(), 200);
    assert.match(await text(page, '#practice-proposed'), /la pubblica un ufficio della Regione/);
    assert.match(await text(page, '#my-practices'), /In attesa di pubblicazione/);
    await check(page, 'practice proposed');
    await ctx.close();
  });

  test('the Region publishes it after reading it', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    page.on('dialog', (d) => assert.fail(`a dialog opened: ${d.message()}`));
    await signIn(page, 'regione@e2e.example');
    await Promise.all([page.waitForURL(/\/amministrazione\/pratiche$/), page.click('#practices-to-decide')]);
    await check(page, 'practices to publish', { shot: 'practices-to-publish.png' });
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no script ran');
    const card = page.locator('article', { hasText: TITLE });
    await Promise.all([page.waitForURL(/esito=pubblicata/), card.locator('button[value="pubblica"]').click()]);
    assert.match(await text(page, '#decided'), /Pratica pubblicata/);
    await check(page, 'practice published');
    await ctx.close();
  });

  test('a citizen finds it by another form of its words and reads it with no script run', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    page.on('dialog', (d) => assert.fail(`a dialog opened: ${d.message()}`));
    await visit(page, '/pratiche');
    await page.fill('#q', 'formazione');
    await page.selectOption('#leva', 'training');
    await press(page, 'form[role="search"] button[type="submit"]');
    assert.match(page.url(), /q=formazione/);
    await check(page, 'practices found', { shot: 'practices-search.png' });
    const link = page.locator('.practice-results a', { hasText: TITLE });
    href = await link.getAttribute('href');
    await Promise.all([page.waitForURL(new RegExp(`${href}$`)), link.click()]);
    await check(page, 'practice page', { shot: 'practice.png' });
    assert.equal(await page.evaluate(() => window.__xss), undefined, 'no script ran');
    const body = await page.innerHTML('#practice-body');
    assert.match(body, /<strong>formativi<\/strong>/);
    assert.match(await text(page, '#practice-body'), /<script>window\.__xss = 1/, 'the payload is shown as text');
    assert.equal(await page.locator('#practice-body img, #practice-body script').count(), 0);
    assert.equal(await page.getAttribute('#practice-body a:has-text("apri")', 'href'), '#');
    assert.equal(await text(page, '#practice-licence'), 'CC-BY-SA-4.0');
    assert.equal(await page.isVisible('#reuse-form'), false, 'signed out: nothing to declare');
    await ctx.close();
  });

  test('the Unione del Distretto Ceramico says it reuses it', async () => {
    assert.ok(href, 'the search above found it');
    const ctx = await context(browser);
    const page = await open(ctx);
    await signIn(page, 'ucdc@e2e.example');
    await visit(page, href);
    assert.equal(await text(page, '#no-reusers'), 'Nessun ente, finora.');
    await press(page, '#reuse-form button[type="submit"]');
    assert.match(await text(page, '#reuse-done'), /Riuso registrato/);
    assert.match(await text(page, '#reusers'), /Unione dei Comuni del Distretto Ceramico/);
    assert.equal(await page.isVisible('#reuse-form'), false, 'declared once');
    await check(page, 'practice reused');
    await ctx.close();
  });
});
