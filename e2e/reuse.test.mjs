// Reuse in a real browser, after e2e/practices.test.mjs (whose practice the Unione del
// Distretto Ceramico declared it reuses): the Region's office meets a bad catalogue file,
// the Distretto adds a line from the services catalogue to its draft and cites the practice,
// and a citizen reads the catalogue and the impact of the calls (charts and tables, the CSV).
// axe on every page.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, check, checked, context, launch, open, press, text, visit } from './browser.mjs';

const PASSWORD = process.env.BANDI_PASSWORD;
const FUTURE = process.env.BANDI_FUTURE_CALL;
const SKIP = PASSWORD && FUTURE ? false : 'needs the accounts and calls of e2e/run.sh';
const PRACTICE = 'Percorsi per dirigenti in lavoro agile (prova e2e)';

let browser;

before(async () => {
  if (SKIP) return;
  browser = await launch();
});

after(async () => {
  await browser?.close();
  console.log(`axe-core: ${checked.length} pages of the catalogue and reuse checked, no violations`);
});

async function signIn(page, email) {
  await visit(page, '/accedi');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  return press(page, '.sign-in-form button[type="submit"]');
}

describe('catalogue, reuse and impact', { skip: SKIP }, () => {
  test('the Region is told every problem of a bad catalogue file, and nothing changes', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    await signIn(page, 'regione@e2e.example');
    await visit(page, '/amministrazione');
    await Promise.all([page.waitForURL(/\/amministrazione\/servizi$/), page.click('#services-admin')]);
    await check(page, 'services catalogue (officials)');
    await page.fill('#services-toml', 'provider = ""\n[[service]]\ncode = "vm"\nname = "VM"\nkind = "cloud"\nunit = "mese"\nunit_price = "zero"\n');
    const r = await press(page, '#import-services');
    assert.equal(r.status(), 422);
    const problems = await text(page, '#import-problem');
    assert.match(problems, /4 problemi/);
    assert.match(problems, /Manca il fornitore/);
    assert.match(problems, /tipo «cloud» sconosciuto/);
    await check(page, 'catalogue file with problems', { status: 422 });
    await visit(page, '/servizi');
    assert.match(await text(page, 'main'), /LEP-VDI/, 'the imported catalogue is still there');
    await ctx.close();
  });

  test('the Distretto adds a line from the catalogue and cites the practice it reuses', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    await signIn(page, 'ucdc@e2e.example');
    await visit(page, `/area-riservata/domanda/ucdc/${FUTURE}`);
    await page.fill('#title', 'Lavoro agile nel Distretto Ceramico');
    await page.selectOption('#add-service', 'LEP-VDI');
    await page.fill('#add-quantity', '240');
    await page.selectOption('#add-category', 'technology');
    let r = await press(page, '#add-from-catalogue');
    assert.equal(r.status(), 200);
    assert.match(await text(page, '#form-alert'), /Voce aggiunta dal catalogo/);
    assert.equal(await page.inputValue('#title'), 'Lavoro agile nel Distretto Ceramico', 'the rest is saved');
    assert.equal(await page.inputValue('#line-0-amount'), '5.280,00');
    assert.equal(await page.getAttribute('#line-0-amount', 'readonly'), '');
    assert.equal(await page.inputValue('#line-0-quantity'), '240');
    assert.match(await text(page, '#total-cost'), /5\.280,00/);
    await check(page, 'form with a catalogue line', { shot: 'form-catalogue.png' });

    // A new quantity is priced again at the save; the practice it reuses is offered.
    await page.fill('#line-0-quantity', '120');
    const box = page.locator('#practices .form-check', { hasText: PRACTICE });
    // Bootstrap Italia draws the box on the label, which takes the click.
    await box.locator('label').click();
    assert.equal(await box.locator('input[type="checkbox"]').isChecked(), true);
    r = await press(page, '#save-draft');
    assert.equal(r.status(), 200);
    assert.equal(await page.inputValue('#line-0-amount'), '2.640,00');
    assert.equal(await box.locator('input[type="checkbox"]').isChecked(), true);
    await check(page, 'draft citing a practice');
    // Enter in a field saves (the form's default button), it does not add a line.
    await page.fill('#add-quantity', '3');
    await page.focus('#title');
    await Promise.all([page.waitForNavigation(), page.keyboard.press('Enter')]);
    assert.match(await text(page, '#form-alert'), /Bozza salvata/);
    assert.equal(await page.locator('input[name="line-1-service"]').count(), 0);
    await ctx.close();
  });

  test('Cervia attaches a file to its published practice, and a citizen finds it there', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    await signIn(page, 'cervia@e2e.example');
    await visit(page, '/area-riservata/pratiche?ente=039007');
    const item = page.locator('#my-practices > li', { hasText: PRACTICE });
    await item.locator('input[type="file"]').setInputFiles({
      name: 'kit-formativo.pdf',
      mimeType: 'application/pdf',
      buffer: Buffer.from('%PDF-1.7\n1 0 obj << >> endobj\ntrailer << >>\n%%EOF\n'),
    });
    const [res] = await Promise.all([page.waitForNavigation(), item.locator('button', { hasText: 'Allega' }).click()]);
    assert.equal(res.status(), 200);
    assert.match(await text(page, '#file-outcome'), /File allegato/);
    await check(page, 'practice with a file (its body)');
    const href = await item.locator('a', { hasText: PRACTICE }).getAttribute('href');
    await ctx.close();

    const anon = await context(browser);
    const reader = await open(anon);
    await visit(reader, href);
    assert.match(await text(reader, '#practice-files'), /kit-formativo\.pdf/);
    const file = await reader.locator('#practice-files a').getAttribute('href');
    const got = await reader.request.get(BASE + file);
    assert.equal(got.status(), 200);
    assert.equal(got.headers()['content-type'], 'application/pdf');
    assert.match(got.headers()['content-disposition'], /^attachment; filename="kit-formativo\.pdf"/);
    await check(reader, 'practice page with its file');
    await anon.close();
  });

  test('a citizen reads the catalogue and the impact of the calls', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    await visit(page, '/servizi', { shot: 'services.png' });
    assert.match(await text(page, '#kind-virtual_desktop'), /Postazioni virtuali/);
    assert.match(await text(page, 'main'), /22,00 €/);
    await visit(page, '/impatto', { shot: 'impact.png' });
    assert.equal(await page.locator('#indicatori svg[role="img"], #indicatori .no-data').count(), 1);
    const csv = await page.locator('#indicatori a.csv-link').getAttribute('href');
    const res = await page.request.get(BASE + csv);
    assert.equal(res.status(), 200);
    assert.match(res.headers()['content-type'], /text\/csv/);
    assert.match(await res.text(), /Indicatore;Previsto;Progetti;Raggiunto;Rendiconti/);
    await ctx.close();
  });
});
