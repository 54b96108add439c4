// The reserved area in a real browser against the real server (started by e2e/run.sh,
// which creates the accounts with `bandi users add`): an applicant prepares a draft
// before the click day and submits it in one click at the opening, another entity gets
// 404 for everything of the first, a bad form shows every problem next to its field, an
// official imports a call and exports the applications. Every page passes axe-core.
// This file runs first (alphabetical order): the click-day call opens 50 s after the
// server starts, and the draft must be ready before that.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { BASE, SHOTS, axe, check, checked, context, launch, open, press, text, visit, waitText } from './browser.mjs';

const CLICK = process.env.BANDI_CLICK_CALL;
const FUTURE = process.env.BANDI_FUTURE_CALL;
const OPEN = process.env.BANDI_CALL;
const OPENS_AT = Date.parse(process.env.BANDI_CLICK_OPENS_AT);
const PASSWORD = process.env.BANDI_PASSWORD;
const SKIP = process.env.BANDI_ACCOUNTS ? false : 'needs `bandi users add` (see e2e/run.sh)';
assert.ok(BASE && CLICK && FUTURE && OPEN, 'run through e2e/run.sh');

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
  console.log(`axe-core: ${checked.length} pages of the reserved area checked, no violations`);
});

/** Signs in on the sign-in page; returns the response of the page it leads to. */
async function signIn(page, email, password = PASSWORD) {
  await visit(page, '/accedi');
  await page.fill('#email', email);
  await page.fill('#password', password);
  return press(page, '.sign-in-form button[type="submit"]');
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

describe('reserved area', { skip: SKIP }, () => {
  let receiptUrl;
  let protocol;
  const cerviaDraft = `/area-riservata/domanda/039007/${FUTURE}`;

  test('a wrong password is refused on the sign-in page', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    await visit(page, '/area-riservata', { shot: 'sign-in.png' });
    assert.match(page.url(), /\/accedi\?dopo=%2Farea-riservata$/);
    await page.fill('#email', 'cervia@e2e.example');
    await page.fill('#password', 'not the password');
    const res = await press(page, '.sign-in-form button[type="submit"]');
    assert.equal(res.status(), 401);
    assert.match(await text(page, '#sign-in-problem'), /non corretti/);
    assert.equal(await page.inputValue('#email'), 'cervia@e2e.example');
    await check(page, '/accedi (wrong password)', { status: 401 });
    await ctx.close();
  });

  test('an applicant prepares a draft before the opening and submits it in one click at the opening', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    const res = await signIn(page, 'cervia@e2e.example');
    assert.equal(res.status(), 200);
    assert.match(page.url(), /\/area-riservata$/);
    await check(page, '/area-riservata', { shot: 'dashboard.png' });
    assert.match(await text(page, 'main h1'), /Cervia/);
    assert.match(await text(page, '.account-name'), /Comune di Cervia/);

    // The click-day call is listed as opening soon; its form, saved as a draft.
    const link = page.locator(`a[href="/area-riservata/domanda/039007/${CLICK}"]`);
    await Promise.all([page.waitForURL(new RegExp(`${CLICK}$`)), link.click()]);
    await check(page, 'application form (empty)');
    assert.equal(await text(page, 'main .state'), 'Di prossima apertura');
    await page.fill('#title', 'Smart working a Cervia');
    await page.fill('#summary', 'Avvio del lavoro agile, piano formativo, migrazione al cloud Lepida.');
    await page.selectOption('#line-0-category', 'planning');
    await page.fill('#line-0-description', 'Avvio e gestione del cambiamento');
    await page.fill('#line-0-amount', '15.000,00');
    await page.selectOption('#line-1-category', 'training');
    await page.fill('#line-1-description', 'Formazione di dipendenti e dirigenti');
    await page.fill('#line-1-amount', '25.000');
    await page.selectOption('#line-2-category', 'technology');
    await page.fill('#line-2-description', 'Cloud e collaborazione');
    await page.fill('#line-2-amount', '35.000,00');
    await page.fill('#ind-staff_total', '180');
    await page.fill('#ind-agile_workers_before', '4');
    await page.fill('#ind-agile_workers_target', '90');
    // The amounts follow the typing, computed by the server with the call's rules
    // (the form is not complete yet: no save needed), in a polite live region.
    assert.equal(await page.getAttribute('#amounts-live', 'aria-live'), 'polite');
    await waitText(page, '#total-cost', '75.000,00 €');
    await waitText(page, '#eligible-cost', '75.000,00 €');
    await waitText(page, '#requested-grant', '52.500,00 €');
    // Devices above their share of the eligible cost: the cut is announced at once.
    await page.selectOption('#line-3-category', 'devices');
    await page.fill('#line-3-amount', '30.000,00');
    await waitText(page, '#total-cost', '105.000,00 €');
    await waitText(page, '#eligible-cost', '93.750,00 €');
    await waitText(page, '#requested-grant', '65.625,00 €');
    assert.match(await text(page, '#amounts-notices'), /dispositivi.*11\.250,00 €/);
    await check(page, 'application form (live amounts)');
    await page.fill('#line-3-amount', '');
    await page.selectOption('#line-3-category', '');
    await waitText(page, '#requested-grant', '52.500,00 €');
    await waitText(page, '#amounts-notices', '');
    // The project plan as a PDF, uploaded with the draft.
    const plan = Buffer.from('%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\n%%EOF\n');
    const planSha = createHash('sha256').update(plan).digest('hex');
    await page.setInputFiles('#att-project_plan', { name: 'piano-cervia.pdf', mimeType: 'application/pdf', buffer: plan });
    let r = await press(page, '#save-draft');
    assert.equal(r.status(), 200);
    assert.match(await text(page, '#form-alert'), /Bozza salvata/);
    const attached = await text(page, '#att-project_plan-current');
    assert.match(attached, /piano-cervia\.pdf/);
    assert.match(attached, new RegExp(planSha));
    assert.equal(await text(page, '#eligible-cost'), '75.000,00 €');
    assert.equal(await text(page, '#requested-grant'), '52.500,00 €');
    await check(page, 'application form (draft saved)', { shot: 'application-form.png' });

    // Before the opening the bar's button is off, by the server's clock; the draft is
    // complete. A browser without JavaScript could still press it: the server refuses,
    // with the opening time and the server's, the draft kept.
    assert.ok(Date.now() < OPENS_AT - 1000, 'the draft was ready before the opening');
    assert.equal(await page.isDisabled('#submit-application'), true);
    assert.match(await text(page, '#form-completeness'), /^Bozza completa/);
    assert.match(await text(page, '#countdown-label'), /^Il bando apre tra/);
    await page.evaluate(() => { document.getElementById('submit-application').disabled = false; });
    r = await press(page, '#submit-application');
    assert.equal(r.status(), 403);
    const alert = await text(page, '#form-alert');
    assert.match(alert, /Il bando non è ancora aperto/);
    assert.match(alert, /Apre il \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} \(ora italiana\)/);
    assert.match(alert, /Ora del server: \d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2} \(ora italiana\) · \d{4}-\d{2}-\d{2}T[\d:.]+Z UTC/);
    assert.equal(await page.inputValue('#line-1-amount'), '25.000,00', 'shown back as understood');
    await check(page, 'application form (not open yet)', { status: 403, shot: 'not-open-yet.png' });

    // The click day: the form opened before the opening turns active by itself at the
    // opening, without a reload; the draft is there; one double click is one application.
    await visit(page, `/area-riservata/domanda/039007/${CLICK}`);
    assert.equal(await text(page, 'main .state'), 'Di prossima apertura');
    assert.equal(await page.isDisabled('#submit-application'), true);
    await page.screenshot({ path: join(SHOTS, 'form-bar-before-opening.png') });
    const loaded = page.url();
    await page.waitForFunction(() => !document.getElementById('submit-application').disabled,
      null, { timeout: Math.max(0, OPENS_AT - Date.now()) + 5000 });
    assert.ok(Date.now() >= OPENS_AT - 1500, 'active at the opening, not before');
    assert.equal(page.url(), loaded, 'no reload');
    assert.equal(await text(page, 'main .state'), 'Aperto');
    assert.match(await text(page, '#countdown-label'), /^Il bando chiude tra/);
    await page.screenshot({ path: join(SHOTS, 'form-bar-open.png') });
    assert.equal(await page.inputValue('#title'), 'Smart working a Cervia');
    assert.equal(await page.inputValue('#line-2-amount'), '35.000,00');
    // The dashboard open in another tab, with no application yet, learns of this one.
    const dashboard = await open(ctx);
    await visit(dashboard, '/area-riservata?ente=039007');
    assert.equal(await dashboard.isVisible('#no-applications'), true);
    assert.equal(await dashboard.isVisible('#applications-new'), false);
    const card = dashboard.locator(`.call-option[data-call="${CLICK}"]`);
    assert.equal(await card.locator('.call-option-go').isVisible(), true);
    // The same form open in a third tab (a colleague's, say) learns of it too.
    const other = await open(ctx);
    await visit(other, `/area-riservata/domanda/039007/${CLICK}`);
    assert.equal(await other.isVisible('#submitted-elsewhere'), false);
    await Promise.all([page.waitForURL(/\/area-riservata\/ricevuta\//), page.dblclick('#submit-application')]);
    await dashboard.waitForSelector('#applications-new', { state: 'visible', timeout: 10_000 });
    assert.equal(await dashboard.isVisible('#no-applications'), false, 'it no longer says there is none');
    await page.waitForLoadState('load');
    receiptUrl = new URL(page.url()).pathname;
    protocol = await text(page, '#receipt-protocol');
    // Each names the protocol; the call's card offers no second application, nor the form.
    assert.equal(await text(dashboard, '#applications-new .new-protocol'), protocol);
    assert.equal(await dashboard.getAttribute('#applications-new .new-protocol', 'href'), receiptUrl);
    await card.locator('.call-submitted').waitFor({ state: 'visible', timeout: 10_000 });
    assert.equal(await card.locator('.call-submitted a').textContent(), protocol);
    assert.equal(await card.locator('.call-option-go').isVisible(), false);
    await check(dashboard, 'dashboard told of the new application');
    await other.waitForSelector('#submitted-elsewhere', { state: 'visible', timeout: 10_000 });
    assert.equal(await text(other, '#submitted-elsewhere-link'), protocol);
    assert.equal(await other.isDisabled('#submit-application'), true);
    await other.waitForTimeout(1500);
    assert.equal(await other.isDisabled('#submit-application'), true, 'the clock does not turn it on again');
    await check(other, 'form told of the submission elsewhere');
    await dashboard.close();
    await other.close();
    assert.match(protocol, /^ER-CD-\d{4}\/\d{7}$/);
    assert.match(await text(page, '#receipt-sha'), /^[0-9a-f]{64}$/);
    assert.match(await text(page, '#receipt-local'), /^\d{2}\/\d{2}\/\d{4} \d{2}:\d{2}:\d{2},\d{3}$/);
    assert.match(await text(page, '#receipt-utc'), /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z$/);
    assert.match(await text(page, '#receipt-ledger'), /Voce del registro \d+/);
    assert.equal(await text(page, '#receipt-requested'), '52.500,00 €');
    assert.match(await text(page, '#receipt-documents'), new RegExp(`piano-cervia\\.pdf.*${planSha}`));
    await check(page, 'receipt', { shot: 'receipt.png' });
    await page.emulateMedia({ media: 'print' });
    assert.equal(await page.locator('header.it-header-wrapper').isVisible(), false);
    assert.equal(await page.locator('#print-receipt').isVisible(), false);
    await page.screenshot({ path: join(SHOTS, 'receipt-print.png'), fullPage: true });
    await page.emulateMedia({ media: 'screen' });

    await visit(page, '/area-riservata');
    const rows = page.locator('table.applications tbody tr');
    assert.equal(await rows.count(), 1, 'one application, whatever the clicks');
    assert.match(await rows.first().textContent(), new RegExp(protocol.replace('/', '\\/')));

    // A draft for the call opening later, that nobody else may see.
    await visit(page, cerviaDraft);
    await page.fill('#title', 'Bozza riservata di Cervia');
    r = await press(page, '#save-draft');
    assert.equal(r.status(), 200);

    // Signing out ends the session.
    await press(page, '.sign-out button');
    assert.equal(new URL(page.url()).pathname, '/');
    await visit(page, '/area-riservata');
    assert.match(page.url(), /\/accedi/);
    await ctx.close();
  });

  test('another entity gets 404 for the application and the draft of Cervia', async () => {
    assert.ok(receiptUrl, 'needs the submission of the previous test');
    const ctx = await context(browser);
    const page = await open(ctx);
    await signIn(page, 'ucdc@e2e.example');
    assert.match(await text(page, 'main h1'), /Distretto Ceramico/);
    await visit(page, receiptUrl, { status: 404, shot: 'other-entity-404.png' });
    assert.equal(await text(page, 'main h1'), 'Pagina non trovata');
    assert.doesNotMatch(await text(page, 'main'), /Cervia/);
    await visit(page, cerviaDraft, { status: 404 });
    assert.doesNotMatch(await text(page, 'body'), /Bozza riservata/);
    await visit(page, '/area-riservata?ente=039007', { status: 404 });
    await visit(page, '/amministrazione', { status: 403 });
    assert.equal(await text(page, 'main h1'), 'Accesso non consentito');
    await ctx.close();
  });

  test('a bad submission shows every problem next to its field and keeps what was typed', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    await signIn(page, 'ucdc@e2e.example');
    // On the call that is open: the bar's button is active.
    await visit(page, `/area-riservata/domanda/ucdc/${OPEN}`);
    await page.selectOption('#line-0-category', 'training');
    await page.fill('#line-0-description', 'Formazione');
    await page.fill('#line-0-amount', 'venti euro');
    await page.fill('#line-1-amount', '1.000,00');
    await page.fill('#ind-staff_total', 'molti');
    const r = await press(page, '#submit-application');
    assert.equal(r.status(), 422);
    assert.match(await text(page, '#form-alert'), /non è stata presentata/);
    assert.equal(await page.inputValue('#line-0-amount'), 'venti euro');
    assert.equal(await page.inputValue('#line-1-amount'), '1.000,00');
    assert.equal(await page.inputValue('#ind-staff_total'), 'molti');
    assert.equal(await page.inputValue('#line-0-category'), 'training');
    for (const id of ['title', 'line-0-amount', 'line-1-category', 'ind-staff_total', 'ind-agile_workers_before']) {
      assert.equal(await page.getAttribute(`#${id}`, 'aria-invalid'), 'true', id);
      assert.equal(await page.getAttribute(`#${id}`, 'aria-describedby'), `${id}-error`, id);
      assert.ok(await page.locator(`#${id}-error`).isVisible(), `${id} shows its problem`);
      assert.equal(await page.locator(`#error-summary a[href="#${id}"]`).count(), 1, `${id} in the summary`);
    }
    assert.match(await text(page, '#line-0-amount-error'), /«venti euro» non è un importo in euro/);
    await check(page, 'application form (problems)', { status: 422, shot: 'application-errors.png' });
    await ctx.close();
  });

  test('an official publishes a call, sees the applications and downloads them', async () => {
    assert.ok(protocol, 'needs the submission of an earlier test');
    const ctx = await context(browser);
    const page = await open(ctx);
    const res = await signIn(page, 'regione@e2e.example');
    assert.equal(res.status(), 200);
    assert.equal(new URL(page.url()).pathname, '/amministrazione');
    await check(page, '/amministrazione', { shot: 'admin.png' });

    // A call file with a mistake: the key, the line, and the text kept.
    const file = readFileSync(new URL('../calls/er-2020-smart-working.toml', import.meta.url), 'utf8')
      .replace('code = "er-2020-smart-working"', 'code = "er-e2e-nuovo"')
      .replace('protocol_prefix = "ER-SW"', 'protocol_prefix = "ER-NUOVO"');
    const bad = file.replace('co_financing = "70%"', 'co_financing = "settanta"');
    await page.fill('#call-toml', bad);
    let r = await press(page, '#import-form button[type="submit"]');
    assert.equal(r.status(), 422);
    const line = bad.split('\n').findIndex((l) => l.startsWith('co_financing')) + 1;
    assert.equal(await text(page, '#import-problem-place'), `riga ${line}, chiave «co_financing»`);
    assert.match(await page.inputValue('#call-toml'), /settanta/);
    await check(page, '/amministrazione (bad call file)', { status: 422, shot: 'admin-import-error.png' });
    await page.fill('#call-toml', file);
    r = await press(page, '#import-form button[type="submit"]');
    assert.equal(r.status(), 200);
    assert.match(page.url(), /\/amministrazione\/bandi\/er-e2e-nuovo\?esito=pubblicato$/);
    assert.match(await text(page, '#action-outcome'), /Bando pubblicato/);
    await check(page, 'a new call, for officials');

    // The click-day call: its application in protocol order, and the CSV with it.
    await visit(page, `/amministrazione/bandi/${CLICK}`, { shot: 'admin-call.png' });
    const row = page.locator('table.admin-applications tbody tr').first();
    assert.match(await row.textContent(), new RegExp(protocol.replace('/', '\\/')));
    assert.match(await row.textContent(), /Cervia/);
    // Its attachment, downloadable by the official.
    const doc = row.locator('a[href^="/area-riservata/documenti/"]');
    assert.equal(await doc.textContent(), 'piano-cervia.pdf');
    const pdf = await page.request.get(BASE + await doc.getAttribute('href'));
    assert.equal(pdf.status(), 200);
    assert.equal(pdf.headers()['content-type'], 'application/pdf');
    // Served under the attachment's code and the kind its bytes are, not the uploaded name.
    assert.match(pdf.headers()['content-disposition'], /^attachment; filename="project_plan\.pdf"/);
    assert.match((await pdf.body()).toString(), /^%PDF-1\.4/);
    const [csv] = await Promise.all([page.waitForEvent('download'), page.click('#export-csv')]);
    assert.equal(csv.suggestedFilename(), `domande-${CLICK}.csv`);
    const content = readFileSync(await csv.path(), 'utf8');
    // For a spreadsheet set to Italian: the UTF-8 mark, ';', decimal commas.
    assert.match(content.split('\n')[0], /^\uFEFFseq;protocol;/);
    assert.match(content, new RegExp(`^1;${protocol.replace('/', '\\/')};.*;75000,00;75000,00;52500,00;52500,00;reserved;`, 'm'));
    // The row names the attached plan by its code and SHA-256, as the content hash covers it.
    assert.match(content, /^1;.*;project_plan:[0-9a-f]{64};[^;\n]*;to_review;/m);
    const [xlsx] = await Promise.all([page.waitForEvent('download'), page.click('#export-xlsx')]);
    assert.equal(xlsx.suggestedFilename(), `domande-${CLICK}.xlsx`);
    assert.equal(readFileSync(await xlsx.path()).subarray(0, 2).toString(), 'PK');

    await visit(page, '/amministrazione/utenti', { shot: 'admin-users.png' });
    assert.match(await text(page, 'table.users'), /cervia@e2e\.example/);
    await ctx.close();
  });
});

test('pages of the reserved area pass axe in English too', { skip: SKIP }, async () => {
  const ctx = await context(browser, { locale: 'en-GB', extraHTTPHeaders: { 'Accept-Language': 'en-GB,en;q=0.9' } });
  const page = await open(ctx);
  // English when chosen (the browser's preference alone is not enough), then remembered.
  await visit(page, '/accedi');
  assert.equal(await page.getAttribute('html', 'lang'), 'it');
  await visit(page, '/accedi?lang=en');
  await signIn(page, 'ucdc@e2e.example');
  assert.equal(await page.getAttribute('html', 'lang'), 'en');
  await axe(page, '/area-riservata (en)');
  await visit(page, `/area-riservata/domanda/ucdc/${FUTURE}`);
  assert.equal(await text(page, '#save-draft'), 'Save the draft');
  await ctx.close();
});
