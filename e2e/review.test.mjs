// The review after the click day in a real browser against the real server, as officials and
// an applicant walk it. e2e/run.sh seeds a call of its own (budget 160.000,00 €) and, once
// the other tests are done, sends it five applications of 52.500,00 € each through the JSON
// API, in this order: Cervia, Bologna, Modena (funded), Ravenna, Faenza (waiting for funds).
// Then, through the pages only: a reviewer takes Cervia's application, ticks its checklist
// and asks for an integration; Cervia answers with a PDF; the reviewer reduces a line and
// admits it, then rejects Bologna's, and Ravenna's gets the funds freed; an admin adds money
// (Faenza's is funded), is refused a cut below what is reserved, publishes the list with its
// act; Cervia records its CUP and reads its notices; officials read the call's notices.
// After the award: Cervia reports its expenses (an amount over its budget line refused first),
// the reviewer verifies them (one in part) and closes with the final grant, the admin pays it
// (a cent more refused), and the public transparency page, its CSV and the statistics show it.
// Every page passes axe-core.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE, SHOTS, check, checked, context, launch, open, press, text, visit } from './browser.mjs';

const CALL = process.env.BANDI_REVIEW_CALL;
const PASSWORD = process.env.BANDI_PASSWORD;
assert.ok(BASE && CALL && PASSWORD, 'run through e2e/run.sh');

const REVIEWER = 'istruttore@e2e.example';
const REVIEWER_NAME = 'Istruttoria, Settore innovazione della Regione';
const ADMIN = 'regione@e2e.example';
const CERVIA = 'cervia@e2e.example';
const CALL_PAGE = `/amministrazione/bandi/${CALL}`;
const RANKING = `/bandi/${CALL}/graduatoria`;
const REQUEST = "Trasmettere l'atto di Giunta che approva il progetto.";
const ANSWER = 'In allegato la delibera di Giunta n. 57 del 2 aprile 2020.';
const FUNDED = 'Finanziabile: fondi riservati';
const WAITING = 'In attesa di fondi';

/** A small PDF, told by its first bytes. */
const pdf = (name) => ({
  name,
  mimeType: 'application/pdf',
  buffer: Buffer.from(`%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\n% ${name}\n%%EOF\n`),
});

let browser;
/** One signed-in page per person, kept across the steps. */
const pages = {};

before(async () => {
  browser = await launch();
});

after(async () => {
  for (const p of Object.values(pages)) await p.context().close();
  await browser?.close();
  console.log(`axe-core: ${checked.length} pages of the review checked, no violations`);
});

/** Signs in on the sign-in page, in a fresh context; returns the page it leads to. */
async function signIn(email) {
  const ctx = await context(browser);
  // What is there shows at once: a missing element fails in seconds, not in 30.
  ctx.setDefaultTimeout(10_000);
  const page = await open(ctx);
  await visit(page, '/accedi');
  await page.fill('#email', email);
  await page.fill('#password', PASSWORD);
  const res = await press(page, '.sign-in-form button[type="submit"]');
  assert.equal(res.status(), 200, `sign-in of ${email}`);
  return page;
}

const path = (page) => new URL(page.url()).pathname;
const escape = (s) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** The row of `table` that names `entity`. */
function row(page, table, entity) {
  return page.locator(`${table} tbody tr`).filter({ hasText: entity });
}

/** The value of a fact (`dl.facts`) by its label. */
async function fact(page, label) {
  const dd = page.locator('dl.facts > div').filter({ has: page.locator('dt', { hasText: new RegExp(`^${label}$`) }) })
    .locator('dd');
  return (await dd.textContent()).trim();
}

/** The status the public ranking shows for each entity. */
async function ranking(page) {
  await visit(page, RANKING);
  const out = {};
  for (const entity of ['Cervia', 'Bologna', 'Modena', 'Ravenna', 'Faenza']) {
    out[entity] = (await row(page, 'table.ranking', entity).textContent()).replace(/\s+/g, ' ');
  }
  return out;
}

/** The outcome of an action, as the page shows it. */
async function outcome(page) {
  return text(page, '#action-outcome');
}

describe('review after the click day', () => {
  let cervia; // Cervia's protocol number
  let cerviaHref; // its page for officials
  let receipt; // its receipt, for Cervia
  let reportHref; // its expense report, for Cervia

  test('a reviewer opens the call and Cervia\'s application from the list', async () => {
    const page = pages.reviewer = await signIn(REVIEWER);
    assert.equal(path(page), '/amministrazione');
    await check(page, '/amministrazione (reviewer)');
    const link = `table.admin-calls a[href="${CALL_PAGE}"]`;
    assert.match(await text(page, link), /^Istruttoria: /);
    await press(page, link);
    assert.equal(path(page), CALL_PAGE);
    await check(page, 'call page (reviewer)', { shot: 'review-call.png' });

    const headers = await page.locator('table.admin-applications thead th').allTextContents();
    assert.ok(headers.map((h) => h.trim()).includes('Istruttoria'), headers.join(' | '));
    assert.equal(await page.locator('table.admin-applications tbody tr').count(), 5);
    for (const [entity, status] of [['Cervia', FUNDED], ['Bologna', FUNDED], ['Modena', FUNDED],
      ['Ravenna', WAITING], ['Faenza', WAITING]]) {
      const r = row(page, 'table.admin-applications', entity);
      assert.match(await r.textContent(), new RegExp(`Da istruire[\\s\\S]*${status}`), entity);
    }
    // The budget's and the list's forms are for admins only.
    assert.equal(await page.locator('#budget-form').count(), 0);
    assert.equal(await page.locator('#publish-form').count(), 0);

    const protocol = row(page, 'table.admin-applications', 'Cervia').locator('th a');
    cervia = (await protocol.textContent()).trim();
    assert.match(cervia, /^ER-RV-\d{4}\/0000001$/);
    await press(page, `table.admin-applications a:text-is("${cervia}")`);
    cerviaHref = path(page);
    assert.equal(cerviaHref, `${CALL_PAGE}/domande/1`);
    await check(page, 'application page (to review)', { shot: 'review-application.png' });
    assert.equal(await text(page, '#app-protocol'), cervia);
    assert.equal(await text(page, '#review-state'), 'Da istruire');
    assert.equal(await text(page, '#review-holder'), 'nessuno');
    assert.equal(await text(page, '#review-requested'), '52.500,00 €');
    assert.equal(await text(page, '#review-reserved'), '52.500,00 €');
  });

  test('the reviewer takes it, ticks the checklist and asks Cervia for an integration', async () => {
    const page = pages.reviewer;
    assert.ok(cerviaHref, 'needs the previous step');
    let res = await press(page, '#take');
    assert.equal(res.status(), 200);
    assert.equal(await outcome(page), 'Domanda presa in carico.');
    assert.equal(await text(page, '#review-state'), 'In istruttoria');
    assert.match(await text(page, '#review-holder'), new RegExp(`^${escape(REVIEWER_NAME)}`));
    assert.equal(await page.locator('#take').count(), 0);
    await check(page, 'application page (in review)');

    // Admitting before the checklist is complete is refused.
    await page.fill('#decision-reason', 'Prova');
    res = await press(page, '#admit');
    assert.ok(res.status() >= 400, `admit with the checklist empty: ${res.status()}`);
    assert.equal(await page.getAttribute('#action-outcome', 'role'), 'alert');
    assert.match(await outcome(page), /^Per ammettere la domanda tutte le voci della lista di controllo devono essere verificate/);
    assert.equal(await text(page, '#review-state'), 'In istruttoria');
    await check(page, 'application page (checklist incomplete)', { status: res.status() });

    const items = await page.locator('.checklist-item input[name="item"]').evaluateAll((els) => els.map((e) => e.value));
    assert.deepEqual(items, ['eligible_body', 'three_parts', 'costs_eligible', 'approving_act']);
    for (const item of items) {
      // Bootstrap Italia draws the radio on its label, which takes the click.
      await page.click(`label[for="check-${item}-yes"]`);
      assert.ok(await page.isChecked(`#check-${item}-yes`), item);
      res = await press(page, `#check-${item}-save`);
      assert.equal(res.status(), 200, item);
      assert.equal(await outcome(page), 'Verifica registrata.');
      assert.equal(await text(page, `#check-${item}-result`), 'verificato');
    }
    for (const item of items) assert.ok(await page.isChecked(`#check-${item}-yes`), item);

    await page.fill('#request-text', REQUEST);
    assert.match(await page.inputValue('#request-date'), /^\d{4}-\d{2}-\d{2}$/);
    res = await press(page, '#request-send');
    assert.equal(res.status(), 200);
    assert.equal(await outcome(page), "Richiesta di integrazione inviata all'ente.");
    assert.match(await text(page, '#request-1'), new RegExp(`${escape(REQUEST)}[\\s\\S]*In attesa di risposta`));
    assert.equal(await page.locator('#request-text').count(), 0, 'one request open at a time');
    await check(page, 'application page (checklist done, request sent)', { shot: 'review-checklist.png' });

    // The call's list says who holds it and that an integration is asked.
    await press(page, `.lead a[href="${CALL_PAGE}"]`);
    const r = await row(page, 'table.admin-applications', 'Cervia').textContent();
    assert.match(r, /In istruttoria/);
    assert.match(r, new RegExp(escape(REVIEWER_NAME)));
    assert.match(r, /integrazione richiesta/);
    await check(page, 'call page (one in review)');
  });

  test('Cervia sees what to do, answers with a PDF and is told it is recorded', async () => {
    assert.ok(cervia, 'needs the previous steps');
    const page = pages.cervia = await signIn(CERVIA);
    assert.equal(path(page), '/area-riservata');
    await check(page, '/area-riservata (a request to answer)', { shot: 'review-todos.png' });
    assert.match(await text(page, '#todos .callout-title'), /Da fare/);
    const todo = page.locator('#todos a').filter({ hasText: cervia });
    assert.match(await todo.textContent(), /Rispondere alla richiesta di integrazione sulla domanda .* entro il/);
    await Promise.all([page.waitForURL(/\/area-riservata\/ricevuta\//), todo.click()]);
    await page.waitForLoadState('load');
    receipt = path(page);
    await check(page, 'receipt (answer form)');
    assert.equal(await text(page, '#receipt-protocol'), cervia);
    assert.equal(await text(page, '#receipt-review'), 'In istruttoria');
    assert.match(await text(page, '#request-1'), new RegExp(escape(REQUEST)));

    await page.fill('#answer-text', ANSWER);
    await page.setInputFiles('#answer-files', pdf('delibera-57.pdf'));
    const res = await press(page, '#answer-send');
    assert.equal(res.status(), 200);
    assert.equal(path(page), receipt);
    assert.equal(await outcome(page), "Risposta inviata e registrata: l'ufficio ne riceve notizia.");
    const answered = await text(page, '#request-1');
    assert.match(answered, new RegExp(`Risposta inviata:\\s*${escape(ANSWER)}`));
    assert.match(answered, /delibera-57\.pdf/);
    assert.equal(await page.locator('#answer-form').count(), 0);
    await check(page, 'receipt (answer sent)', { shot: 'review-answer.png' });
  });

  test('the reviewer reads the answer, reduces a line and admits the application', async () => {
    assert.ok(receipt, 'needs the answer');
    const page = pages.reviewer;
    await visit(page, cerviaHref);
    const answered = await text(page, '#request-1');
    assert.match(answered, new RegExp(`Risposta dell'ente:\\s*${escape(ANSWER)}`));
    assert.match(answered, /SHA-256 [0-9a-f]{64}/);
    const doc = page.locator('#request-1 a').filter({ hasText: 'delibera-57.pdf' });
    const file = await page.request.get(BASE + await doc.getAttribute('href'));
    assert.equal(file.status(), 200);
    assert.equal(file.headers()['content-type'], 'application/pdf');
    assert.match((await file.body()).toString(), /^%PDF-1\.7/);

    // The technology line, 35.000,00 asked, is admitted for 30.000,00: 70% of 70.000,00.
    assert.equal(await page.getAttribute('#cut-2', 'placeholder'), '35.000,00');
    await page.fill('#cut-2', '30.000,00');
    await page.fill('#reduce-reason', 'Licenze cloud oltre il fabbisogno dichiarato.');
    let res = await press(page, '#reduce');
    assert.equal(res.status(), 200);
    assert.equal(await outcome(page), 'Spesa ammissibile ridotta e contributo ricalcolato.');
    assert.equal(await text(page, '#review-eligible'), '70.000,00 €');
    assert.equal(await text(page, '#review-requested'), '49.000,00 €');
    assert.equal(await text(page, '#review-reserved'), '49.000,00 €');
    await check(page, 'application page (reduced)');

    await page.fill('#decision-reason', 'Requisiti verificati; integrazione ricevuta.');
    res = await press(page, '#admit');
    assert.equal(res.status(), 200);
    assert.equal(await outcome(page), "Domanda ammessa: l'ente ne riceve comunicazione.");
    assert.equal(await text(page, '#review-state'), 'Ammessa');
    assert.equal(await text(page, '#review-holder'), 'nessuno');
    assert.equal(await page.locator('#admit').count(), 0);
    assert.match(await text(page, '#history'), /Domanda ammessa|ammessa/i);
    await check(page, 'application page (admitted)', { shot: 'review-admitted.png' });
  });

  test('rejecting a funded application passes its funds to the first one waiting', async () => {
    const page = pages.reviewer;
    await visit(page, CALL_PAGE);
    const bologna = (await row(page, 'table.admin-applications', 'Bologna').locator('th a').textContent()).trim();
    await press(page, `table.admin-applications a:text-is("${bologna}")`);
    assert.equal(path(page), `${CALL_PAGE}/domande/2`);
    await press(page, '#take');
    assert.equal(await text(page, '#review-state'), 'In istruttoria');

    // Without a reason: refused, in Italian, nothing changed.
    let res = await press(page, '#reject');
    assert.ok(res.status() >= 400, `reject without a reason: ${res.status()}`);
    assert.equal(await page.getAttribute('#action-outcome', 'role'), 'alert');
    assert.match(await outcome(page), /^Scrivere la motivazione/);
    assert.equal(await text(page, '#review-state'), 'In istruttoria');
    await check(page, 'application page (reason missing)', { status: res.status() });

    await page.fill('#decision-reason', "L'ente non ha trasmesso il piano formativo.");
    res = await press(page, '#reject');
    assert.equal(res.status(), 200);
    assert.match(await outcome(page), /Domanda non ammessa: le risorse liberate passano alle domande in attesa/);
    assert.equal(await text(page, '#review-state'), 'Non ammessa');
    assert.equal(await text(page, '#review-reserved'), '0,00 €');
    await check(page, 'application page (rejected)');

    // Cervia's reduction freed 3.500,00 and Bologna's rejection 52.500,00: Ravenna's, the
    // first waiting, is funded; Faenza's still waits (6.000,00 left).
    const now = await ranking(page);
    assert.match(now.Bologna, /Non ammessa/);
    assert.match(now.Cervia, new RegExp(`49\\.000,00 € ${FUNDED}`));
    assert.match(now.Ravenna, new RegExp(FUNDED));
    assert.match(now.Faenza, new RegExp(WAITING));
    assert.match(await text(page, '#first-come'), /ordine cronologico di arrivo/);
    assert.equal(await fact(page, 'Risorse disponibili'), '6.000,00 €');
    await page.screenshot({ path: join(SHOTS, 'review-ranking.png'), fullPage: true });
  });

  test('an admin adds money to the budget and the last one waiting is funded; a cut below what is reserved is refused', async () => {
    const page = pages.admin = await signIn(ADMIN);
    await press(page, `table.admin-calls a[href="${CALL_PAGE}"]`);
    await check(page, 'call page (admin)', { shot: 'review-call-admin.png' });
    assert.equal(await fact(page, 'Dotazione'), '160.000,00 €');

    await page.fill('#budget-amount', '50.000,00');
    await page.fill('#budget-number', 'DGR 1450/2020');
    assert.match(await page.inputValue('#budget-date'), /^\d{4}-\d{2}-\d{2}$/);
    let res = await press(page, '#budget-save');
    assert.equal(res.status(), 200);
    assert.match(page.url(), /\?esito=stanziamento$/);
    assert.match(await outcome(page), /^Dotazione modificata/);
    assert.equal(await fact(page, 'Dotazione'), '210.000,00 €');
    assert.equal(await fact(page, 'Risorse disponibili'), '3.500,00 €');
    await check(page, 'call page (budget changed)');
    const before = await ranking(page);
    assert.match(before.Faenza, new RegExp(FUNDED));
    assert.match(before.Ravenna, new RegExp(FUNDED));

    await visit(page, CALL_PAGE);
    await page.fill('#budget-amount', '-99999999');
    await page.fill('#budget-number', 'DGR 9999/2020');
    res = await press(page, '#budget-save');
    assert.ok(res.status() >= 400, `a cut below what is reserved: ${res.status()}`);
    assert.equal(await page.getAttribute('#action-outcome', 'role'), 'alert');
    assert.match(await outcome(page), /La dotazione non può scendere sotto quanto è già riservato.*Nessun dato è stato modificato/);
    assert.equal(await fact(page, 'Dotazione'), '210.000,00 €');
    await check(page, 'call page (budget cut refused)', { status: res.status(), shot: 'review-budget-refused.png' });
    assert.deepEqual(await ranking(page), before);
  });

  test('the admin publishes the list with its act, and the public page shows it', async () => {
    const page = pages.admin;
    assert.ok(page, 'needs the admin of the previous step');
    await visit(page, CALL_PAGE);
    await page.fill('#publish-number', 'DD 6789/2020');
    assert.match(await page.inputValue('#publish-date'), /^\d{4}-\d{2}-\d{2}$/);
    await page.setInputFiles('#publish-file', pdf('determina-6789.pdf'));
    const res = await press(page, '#publish');
    assert.equal(res.status(), 200);
    assert.match(await outcome(page), /^Elenco pubblicato/);
    assert.match(await text(page, '#list-versions'), /Versione 1 · DD 6789\/2020/);
    await check(page, 'call page (list published)');

    await visit(page, `/bandi/${CALL}/elenco`, { shot: 'review-list.png' });
    const titles = (await page.locator('main h2').allTextContents()).map((t) => t.replace(/\s+\d+$/, '').trim());
    assert.deepEqual(titles.slice(0, 3), ['Ammessa e finanziata', 'In istruttoria', 'Non ammessa']);
    assert.match(await text(page, '#list-funded'), /Cervia[\s\S]*49\.000,00 €/);
    assert.match(await text(page, '#list-not_admitted'), /Bologna/);
    const inReview = await text(page, '#list-in_review');
    for (const entity of ['Modena', 'Ravenna', 'Faenza']) assert.match(inReview, new RegExp(entity));
    assert.match(await text(page, '#list-act'), /Approvato con DD 6789\/2020/);
    assert.ok(await page.locator('#first-come').isVisible());
    const act = await page.request.get(BASE + await page.getAttribute('#act-download', 'href'));
    assert.equal(act.status(), 200);
    assert.equal(act.headers()['content-type'], 'application/pdf');
    assert.match((await act.body()).toString(), /^%PDF-1\.7/);
  });

  test('Cervia records its CUP on the receipt, a wrong one first', async () => {
    const page = pages.cervia;
    assert.ok(page && receipt, 'needs Cervia of an earlier step');
    await visit(page, '/area-riservata');
    const todo = page.locator('#todos a').filter({ hasText: cervia });
    assert.match(await todo.textContent(), /Registrare il CUP della domanda .*, finanziata/);
    await Promise.all([page.waitForURL(new RegExp(`${escape(receipt)}$`)), todo.click()]);
    await page.waitForLoadState('load');
    await check(page, 'receipt (admitted, CUP to record)');
    assert.equal(await text(page, '#receipt-review'), 'Ammessa');
    assert.equal(await text(page, '#receipt-status'), FUNDED);
    assert.equal(await text(page, '#receipt-reserved'), '49.000,00 €');
    assert.match(await text(page, '#receipt-reduced'), /70\.000,00 €.*49\.000,00 €/);

    await page.fill('#cup', 'E41B2000015000');
    let res = await press(page, '#cup-save');
    assert.ok(res.status() >= 400, `a wrong CUP: ${res.status()}`);
    assert.equal(await page.getAttribute('#action-outcome', 'role'), 'alert');
    assert.match(await outcome(page), /^CUP non valido/);
    assert.equal(await page.locator('#receipt-cup').count(), 0);
    await check(page, 'receipt (wrong CUP)', { status: res.status() });

    await page.fill('#cup', 'E41B20000150002');
    res = await press(page, '#cup-save');
    assert.equal(res.status(), 200);
    assert.equal(await outcome(page), 'CUP registrato.');
    assert.equal(await text(page, '#receipt-cup'), 'E41B20000150002');
    assert.equal(await page.locator('#cup').count(), 0);
    await check(page, 'receipt (CUP recorded)', { shot: 'review-receipt.png' });
  });

  test('Cervia reads its notices, newest first', async () => {
    const page = pages.cervia;
    assert.ok(page && cervia, 'needs Cervia of an earlier step');
    await visit(page, '/area-riservata');
    const todos = (await page.locator('#todos a').filter({ hasText: cervia }).allTextContents()).map((t) => t.trim());
    assert.equal(todos.length, 1, `only the expense report is left to do: ${todos.join(' | ')}`);
    assert.match(todos[0], /^Presentare il rendiconto delle spese della domanda/);
    assert.match(await text(page, '#recent-notices'), new RegExp(`CUP registrato`));
    await press(page, '#notices-link');
    assert.equal(path(page), '/area-riservata/comunicazioni');
    await page.screenshot({ path: join(SHOTS, 'review-notices.png'), fullPage: true });
    const subjects = (await page.locator('#notices h2').allTextContents()).map((s) => s.trim());
    for (const s of [`Ricevuta della domanda ${cervia}`, `Richiesta di integrazione per la domanda ${cervia}`,
      `Domanda ${cervia}: spesa ammissibile ridotta`, `Domanda ${cervia} ammessa`,
      `Domanda ${cervia}: pubblicato l'elenco delle domande`, `Domanda ${cervia}: CUP registrato`]) {
      assert.ok(subjects.includes(s), `${s} in\n  ${subjects.join('\n  ')}`);
    }
    assert.equal(subjects.indexOf(`Domanda ${cervia}: CUP registrato`), 0, 'newest first');
    const all = await text(page, '#notices');
    assert.match(all, new RegExp(escape(REQUEST)));
    assert.match(all, /la spesa ammissibile è ridotta a 70\.000,00 €; il contributo è ricalcolato in 49\.000,00 €/);
    await check(page, 'notices (applicant)');
  });

  test('Cervia saves the contacts for its notices', async () => {
    const page = pages.cervia;
    assert.ok(page, 'needs Cervia of an earlier step');
    await visit(page, '/area-riservata');
    await press(page, '#contacts-link');
    assert.equal(path(page), '/area-riservata/contatti');
    await check(page, 'contacts');
    await page.fill('#contact-email', 'innovazione@comune.cervia.example');
    const saved = await press(page, '#contacts-save');
    assert.equal(saved.status(), 200);
    assert.equal(await outcome(page), 'Recapiti salvati.');
    assert.equal(await page.inputValue('#contact-email'), 'innovazione@comune.cervia.example');
    await check(page, 'contacts (saved)', { shot: 'review-contacts.png' });
  });

  test('officials read the notices the call sent', async () => {
    const page = pages.reviewer;
    await visit(page, CALL_PAGE);
    await press(page, '#notices-link');
    assert.equal(path(page), `${CALL_PAGE}/comunicazioni`);
    await check(page, 'notices (officials)', { shot: 'review-notices-admin.png' });
    // The subject is the cell's first child: a link to the application, or its text.
    const subjects = await page.locator('#notices tbody td:nth-child(3)')
      .evaluateAll((cells) => cells.map((c) => c.firstChild.textContent.trim()));
    assert.equal(await text(page, `#notices tbody tr:has(a:text-is("Domanda ${cervia} ammessa")) td:nth-child(2)`), 'Comune di Cervia (codice ISTAT 039007)');
    for (const s of [`Ricevuta della domanda ${cervia}`, `Domanda ${cervia} ammessa`,
      `Domanda ${cervia}: CUP registrato`, `Richiesta di integrazione per la domanda ${cervia}`,
      `Domanda ${cervia}: pubblicato l'elenco delle domande`]) {
      assert.ok(subjects.includes(s), `${s} in\n  ${subjects.join('\n  ')}`);
    }
    assert.ok(subjects.some((s) => /^Domanda ER-RV-\d{4}\/0000002 non ammessa$/.test(s)), subjects.join('\n'));
    assert.equal(subjects.filter((s) => /risorse assegnate$/.test(s)).length, 2, 'Ravenna and Faenza funded');
    assert.equal(subjects.filter((s) => /^Ricevuta della domanda ER-RV-/.test(s)).length, 5);
    // Each subject of an application leads to its page.
    const link = page.locator('#notices a').filter({ hasText: `Domanda ${cervia} ammessa` });
    assert.equal(await link.getAttribute('href'), cerviaHref);
    // The text of a notice, opened.
    const cell = page.locator(`#notices tbody td:has(a:text-is("Domanda ${cervia} ammessa"))`);
    await cell.locator('summary').click();
    assert.match(await cell.locator('pre').textContent(), /la domanda è ammessa\.\s+Motivazione: Requisiti verificati/);
    await check(page, 'notices (officials, a text open)', { shot: 'review-notices-admin-open.png' });
  });


  // After the award: Cervia reports what it spent, the reviewer verifies it, the admin pays
  // the final grant, and the public transparency page and statistics show it.
  test('Cervia reports its expenses from its to-do, an amount over its budget line first', async () => {
    const page = pages.cervia;
    assert.ok(page && cervia, 'needs Cervia funded with its CUP');
    await visit(page, '/area-riservata');
    await press(page, `#todos a:has-text("${cervia}")`);
    assert.match(path(page), /^\/area-riservata\/rendiconto\//);
    reportHref = path(page);
    await check(page, 'expense report (empty)', { shot: 'report-empty.png' });
    assert.equal(await text(page, '#report-award'), '49.000,00 €');
    const today = new Date().toLocaleDateString('sv-SE', { timeZone: 'Europe/Rome' });
    const fill = async (i, supplier, number, category, amount) => {
      await page.fill(`#exp-${i}-supplier`, supplier);
      await page.fill(`#exp-${i}-tax`, '02770891204');
      await page.fill(`#exp-${i}-number`, number);
      await page.fill(`#exp-${i}-invoice_date`, today);
      await page.fill(`#exp-${i}-paid_on`, today);
      await page.fill(`#exp-${i}-amount`, amount);
      await page.selectOption(`#exp-${i}-category`, category);
      await page.fill(`#exp-${i}-description`, `Spesa ${i + 1} del progetto`);
      await page.setInputFiles(`#att-expense-${i}-invoice`, pdf(`fattura-${number}.pdf`));
      await page.setInputFiles(`#att-expense-${i}-payment`, pdf(`bonifico-${number}.pdf`));
    };
    // Two cards on an empty report: saved as a draft, two more come.
    await fill(0, 'Formazione Emilia Srl', 'FT-101', 'training', '25.000,00');
    await fill(1, 'Lepida ScpA', 'FT-102', 'technology', '30.000,00');
    let res = await press(page, '#report-save');
    assert.equal(res.status(), 200);
    assert.equal(await outcome(page), 'Bozza del rendiconto salvata.');
    assert.equal(await text(page, '#report-claimed'), '55.000,00 €');
    assert.equal(await text(page, '#report-grant'), '38.500,00 €');
    assert.equal(await page.inputValue('#exp-1-supplier'), 'Lepida ScpA');
    await check(page, 'expense report (draft)');
    // Planning was admitted for 15.000,00: 20.000,00 is refused next to its field, nothing sent.
    await fill(2, 'Studio Agile Sas', 'FT-103', 'planning', '20.000,00');
    res = await press(page, '#report-submit');
    assert.equal(res.status(), 422);
    assert.match(await outcome(page), /^Il rendiconto non è stato presentato/);
    assert.equal(await page.getAttribute('#exp-2-amount', 'aria-invalid'), 'true');
    assert.ok((await text(page, '#exp-2-amount-error')).length > 0);
    await check(page, 'expense report (a mistake)', { status: 422, shot: 'report-mistake.png' });
    await page.fill('#exp-2-amount', '15.000,00');
    await page.setInputFiles('#att-expense-2-invoice', pdf('fattura-FT-103.pdf'));
    await page.setInputFiles('#att-expense-2-payment', pdf('bonifico-FT-103.pdf'));
    await page.fill('#ind-agile_workers_target', '95');
    res = await press(page, '#report-submit');
    assert.equal(res.status(), 200);
    assert.equal(await outcome(page), 'Rendiconto presentato: è sigillato nel registro e passa alla verifica della Regione.');
    assert.equal(await text(page, '#report-claimed'), '70.000,00 €');
    assert.equal(await text(page, '#report-grant'), '49.000,00 €');
    assert.equal(await page.locator('#report-form').count(), 0, 'a submitted report is read-only');
    assert.equal(await page.locator('#report-expenses tbody tr').count(), 3);
    await check(page, 'expense report (submitted)', { shot: 'report-submitted.png' });
  });

  test('the reviewer verifies each expense, one in part, and closes with the final grant', async () => {
    assert.ok(reportHref, 'needs the submitted report');
    const page = pages.reviewer;
    await visit(page, cerviaHref);
    await press(page, '#report-link');
    assert.equal(path(page), `${cerviaHref}/rendiconto`);
    await check(page, 'verification (to do)', { shot: 'verification.png' });
    // The documents are the ones Cervia sent.
    const doc = page.locator('#check-0 a').filter({ hasText: 'fattura-FT-101.pdf' });
    const file = await page.request.get(BASE + await doc.getAttribute('href'));
    assert.equal(file.status(), 200);
    assert.match((await file.body()).toString(), /^%PDF-1\.7/);
    for (const line of [0, 2]) {
      await page.selectOption(`#outcome-${line}`, 'accepted');
      const res = await press(page, `#check-${line}-save`);
      assert.equal(res.status(), 200);
      assert.equal(await outcome(page), 'Esito della spesa registrato.');
    }
    await page.selectOption('#outcome-1', 'partial');
    await page.fill('#accepted-1', '28.000,00');
    await page.fill('#reason-1', 'Canone cloud oltre la durata del progetto.');
    let res = await press(page, '#check-1-save');
    assert.equal(res.status(), 200);
    assert.match(await text(page, '#check-1'), /28\.000,00 €/);
    await check(page, 'verification (checked)');
    res = await press(page, '#close-verification');
    assert.equal(res.status(), 200);
    assert.match(await outcome(page), /^Verifica chiusa/);
    // 70% of 68.000,00 verified, below the 49.000,00 awarded.
    assert.equal(await text(page, '#report-final'), '47.600,00 €');
    assert.equal(await page.locator('#close-verification').count(), 0);
    await check(page, 'verification (closed)', { shot: 'verification-closed.png' });
  });

  test('the admin pays the final grant, and no cent more', async () => {
    const page = pages.admin;
    assert.ok(page, 'needs the admin of an earlier step');
    await visit(page, `${cerviaHref}/rendiconto`);
    await page.fill('#payment-amount', '47.600,01');
    await page.fill('#payment-act', 'DD 3000/2021');
    let res = await press(page, '#payment-save');
    assert.ok(res.status() >= 400, `a payment above the final grant is refused: ${res.status()}`);
    assert.match(await outcome(page), /./);
    assert.equal(await text(page, '#report-paid'), '0,00 €');
    await check(page, 'payment (refused)', { status: res.status() });
    await page.fill('#payment-amount', '47.600,00');
    await page.fill('#payment-act', 'DD 3000/2021');
    res = await press(page, '#payment-save');
    assert.equal(res.status(), 200);
    assert.equal(await outcome(page), 'Pagamento registrato.');
    assert.equal(await text(page, '#report-paid'), '47.600,00 €');
    assert.match(await text(page, '#payments'), /47\.600,00 €.*DD 3000\/2021/s);
    await check(page, 'payment (recorded)', { shot: 'payment.png' });
    // Cervia sees it on its report.
    await visit(pages.cervia, reportHref);
    assert.equal(await text(pages.cervia, '#report-final'), '47.600,00 €');
    assert.equal(await text(pages.cervia, '#report-paid'), '47.600,00 €');
  });

  test('the public transparency page, its open data and the statistics show the grant paid', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    try {
      await visit(page, `/bandi/${CALL}`);
      await press(page, `a[href="/bandi/${CALL}/trasparenza"]`);
      await check(page, 'transparency', { shot: 'transparency.png' });
      const grant = page.locator('tr[id^="grant-"]').filter({ hasText: 'Cervia' });
      assert.equal(await grant.getAttribute('data-stage'), 'paid');
      const cells = (await grant.textContent()).replace(/\s+/g, ' ');
      assert.match(cells, /47\.600,00 €/);
      assert.match(cells, new RegExp(escape(cervia)));
      const csv = await page.request.get(`${BASE}/bandi/${CALL}/open-data.csv`);
      assert.equal(csv.status(), 200);
      const body = await csv.body();
      assert.deepEqual([...body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'BOM');
      assert.match(body.toString(), /;Comune di Cervia;.*;49000,00;.*;47600,00;47600,00;.*;Erogato;/);
      await visit(page, `/bandi/${CALL}/statistiche`);
      assert.ok(await page.locator('svg[role="img"]').count() > 0, 'charts');
      await check(page, 'statistics', { shot: 'statistics.png' });
    } finally {
      await ctx.close();
    }
  });
});
