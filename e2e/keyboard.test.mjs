// The reserved area by keyboard alone: an applicant signs in, fills an application and
// submits it with Tab, Shift+Tab, arrows, typing and Enter only (no mouse, no click, no
// fill), and every control reached shows where the focus is. Runs after accounts.test.mjs
// (alphabetical order): the click-day call is open by then, and the Unione del Distretto
// Ceramico has not applied to it.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { BASE, axe, context, launch, open, text } from './browser.mjs';

const CLICK = process.env.BANDI_CLICK_CALL;
const PASSWORD = process.env.BANDI_PASSWORD;
const SKIP = process.env.BANDI_ACCOUNTS ? false : 'needs `bandi users add` (see e2e/run.sh)';

let browser;
before(async () => { browser = await launch(); });
after(async () => { await browser?.close(); });

/** What has the focus, and whether it shows it: an outline or a focus shadow. */
async function focused(page) {
  return page.evaluate(() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const cs = getComputedStyle(el);
    const outline = cs.outlineStyle !== 'none' && parseFloat(cs.outlineWidth) > 0;
    const shadow = cs.boxShadow && cs.boxShadow !== 'none';
    return { desc: `${el.tagName.toLowerCase()}#${el.id || ''}.${el.className || ''}`, visible: !!(outline || shadow) };
  });
}

/**
 * Presses Tab (or Shift+Tab) until `selector` has the focus; every element met on the way
 * must show its focus. Returns how many were met.
 */
async function tabTo(page, selector, { back = false, max = 150 } = {}) {
  for (let i = 0; i < max; i++) {
    await page.keyboard.press(back ? 'Shift+Tab' : 'Tab');
    const f = await focused(page);
    if (f) assert.ok(f.visible, `the focus is visible on ${f.desc}`);
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return i + 1;
  }
  assert.fail(`${selector} not reached with ${back ? 'Shift+Tab' : 'Tab'}`);
}

/** Presses Enter on what has the focus and waits for the page it leads to. */
async function enter(page) {
  const [response] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load' }),
    page.keyboard.press('Enter'),
  ]);
  return response;
}

/** Chooses the option `value` of the focused select with the arrow keys. */
async function choose(page, value) {
  for (let i = 0; i < 10; i++) {
    if (await page.evaluate((v) => document.activeElement.value === v, value)) return;
    await page.keyboard.press('ArrowDown');
  }
  assert.fail(`option ${value} not reached with the arrow keys`);
}

test('an applicant signs in, fills and submits an application with the keyboard alone', { skip: SKIP }, async () => {
  const ctx = await context(browser);
  const page = await open(ctx);
  await page.goto(`${BASE}/accedi`, { waitUntil: 'load' });

  // The skip link comes first and shows its focus.
  await page.keyboard.press('Tab');
  const first = await focused(page);
  assert.ok(first && first.visible, `first stop: ${first && first.desc}`);

  await tabTo(page, '#email');
  await page.keyboard.type('ucdc@e2e.example');
  await tabTo(page, '#password');
  await page.keyboard.type(PASSWORD);
  let res = await enter(page);
  assert.equal(res.status(), 200);
  assert.match(await text(page, 'main h1'), /Distretto Ceramico/);

  await tabTo(page, `a[href="/area-riservata/domanda/ucdc/${CLICK}"]`);
  res = await enter(page);
  assert.equal(res.status(), 200);
  assert.equal(await text(page, 'main .state'), 'Aperto');

  await tabTo(page, '#title');
  await page.keyboard.type('Lavoro agile nel Distretto Ceramico');
  await tabTo(page, '#summary');
  await page.keyboard.type('Avvio, formazione, migrazione al cloud.');
  await tabTo(page, '#line-0-category');
  await choose(page, 'training');
  await tabTo(page, '#line-0-amount');
  await page.keyboard.type('50.000,00');
  await tabTo(page, '#line-1-category');
  await choose(page, 'technology');
  await tabTo(page, '#line-1-amount');
  await page.keyboard.type('100.000');
  // Back to the first row's description, with Shift+Tab.
  await tabTo(page, '#line-0-description', { back: true });
  await page.keyboard.type('Formazione');
  for (const [id, value] of [['ind-staff_total', '420'], ['ind-agile_workers_before', '10'], ['ind-agile_workers_target', '300']]) {
    await tabTo(page, `#${id}`);
    await page.keyboard.type(value);
  }
  // The amounts, computed while typing, are read before submitting.
  await page.waitForFunction(() => document.getElementById('requested-grant').textContent.trim() === '105.000,00 €');
  await axe(page, 'application form (keyboard)');

  await tabTo(page, '#submit-application');
  res = await enter(page);
  assert.equal(res.status(), 200);
  assert.match(new URL(page.url()).pathname, /^\/area-riservata\/ricevuta\//);
  assert.match(await text(page, '#receipt-protocol'), /^ER-CD-\d{4}\/\d{7}$/);
  assert.equal(await text(page, '#receipt-requested'), '105.000,00 €');
  await axe(page, 'receipt (keyboard)');
  // The receipt's own controls are reachable too.
  await tabTo(page, '#print-receipt');
  await ctx.close();
});
