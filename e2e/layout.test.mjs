// The main pages at a phone's width (390 px) and at an office screen's (1366 px): nothing
// scrolls sideways, signed out and signed in (a long name in the header included), each
// saved as a screenshot; the officials' list of applications fits an office screen without
// scrolling; on a phone without JavaScript the main menu is there; and no internal link of
// the public pages leads to an error. Every page passes axe-core.

import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { BASE, SHOTS, checked, context, launch, open, press, visit } from './browser.mjs';

const CALL = process.env.BANDI_CALL;
const FUTURE = process.env.BANDI_FUTURE_CALL;
// Its applications come from accounts.test.mjs and keyboard.test.mjs, which run before.
const CLICK = process.env.BANDI_CLICK_CALL;
const PASSWORD = process.env.BANDI_PASSWORD;
assert.ok(BASE && CALL && FUTURE && PASSWORD, 'run through e2e/run.sh');

const WIDTHS = [
  { name: 'phone', viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true },
  { name: 'desktop', viewport: { width: 1366, height: 768 } },
];
const PUBLIC = ['/', `/bandi/${CALL}`, `/bandi/${CALL}/graduatoria`, `/bandi/${CALL}/trasparenza`,
  `/bandi/${CALL}/statistiche`, '/registro', '/registro?voce=1', '/dati-aperti', '/accedi',
  '/accessibilita', '/privacy'];

let browser;

before(async () => {
  browser = await launch();
});

after(async () => {
  await browser?.close();
  console.log(`axe-core: ${checked.length} pages of the layout checks, no violations`);
});

/** How far the page reaches past the viewport's right edge, and what reaches it. */
async function overflow(page) {
  return page.evaluate(() => {
    const width = document.documentElement.clientWidth;
    const past = document.documentElement.scrollWidth - width;
    const culprits = past <= 0 ? [] : [...document.querySelectorAll('body *')]
      .filter((el) => {
        const r = el.getBoundingClientRect();
        if (r.right <= width + 1 || r.width === 0) return false;
        // Inside something that scrolls by itself (a table's wrapper) is fine.
        for (let p = el.parentElement; p; p = p.parentElement) {
          const s = getComputedStyle(p);
          if (['auto', 'scroll', 'hidden'].includes(s.overflowX) && p !== document.body && p !== document.documentElement) return false;
        }
        return true;
      })
      .slice(0, 5)
      .map((el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className && typeof el.className === 'string' ? '.' + el.className.trim().split(/\s+/).join('.') : ''}`);
    return { past, culprits };
  });
}

async function noSideways(page, path, width) {
  const { past, culprits } = await overflow(page);
  assert.ok(past <= 0, `${path} at ${width}: ${past} px past the right edge (${culprits.join(', ')})`);
}

/**
 * The officials' list of applications, if the page has one (a call with applications),
 * fits its `.table-responsive` wrapper: nothing to scroll inside it. Whether there was one.
 */
async function listFits(page, path) {
  const fit = await page.evaluate(() => {
    const wrap = document.querySelector('table.admin-applications')?.closest('.table-responsive');
    return wrap ? { scroll: wrap.scrollWidth, client: wrap.clientWidth } : null;
  });
  if (fit) {
    assert.ok(fit.scroll <= fit.client + 1,
      `${path}: the list of applications scrolls inside its wrapper (${fit.scroll} px in ${fit.client} px)`);
  }
  return fit !== null;
}

const shotName = (path, width) => `layout-${width}-${path.replace(/[^a-z0-9]+/gi, '-').replace(/^-|-$/g, '') || 'home'}.png`;

for (const w of WIDTHS) {
  test(`the public pages fit at ${w.viewport.width} px`, async () => {
    const ctx = await context(browser, { viewport: w.viewport, isMobile: w.isMobile, hasTouch: w.hasTouch });
    const page = await open(ctx);
    try {
      for (const path of PUBLIC) {
        await visit(page, path, { shot: shotName(path, w.viewport.width) });
        await noSideways(page, path, w.viewport.width);
      }
    } finally {
      await ctx.close();
    }
  });

  test(`the reserved area fits at ${w.viewport.width} px, with a long name in the header`, async () => {
    const ctx = await context(browser, { viewport: w.viewport, isMobile: w.isMobile, hasTouch: w.hasTouch });
    const page = await open(ctx);
    try {
      // The longest name of the accounts e2e/run.sh makes: the Distretto Ceramico's staff.
      await visit(page, '/accedi');
      await page.fill('#email', 'ucdc@e2e.example');
      await page.fill('#password', PASSWORD);
      const res = await press(page, '.sign-in-form button[type="submit"]');
      assert.equal(res.status(), 200);
      for (const path of ['/area-riservata', `/area-riservata/domanda/ucdc/${FUTURE}`, '/profilo/password']) {
        await visit(page, path, { shot: shotName(path, w.viewport.width) });
        await noSideways(page, path, w.viewport.width);
      }
      await visit(page, '/accedi');
    } finally {
      await ctx.close();
    }
    const officials = await context(browser, { viewport: w.viewport, isMobile: w.isMobile, hasTouch: w.hasTouch });
    const admin = await open(officials);
    try {
      await visit(admin, '/accedi');
      await admin.fill('#email', 'regione@e2e.example');
      await admin.fill('#password', PASSWORD);
      await press(admin, '.sign-in-form button[type="submit"]');
      const paths = ['/amministrazione', `/amministrazione/bandi/${CALL}`];
      if (CLICK) paths.push(`/amministrazione/bandi/${CLICK}`);
      let lists = 0;
      for (const path of paths) {
        await visit(admin, path, { shot: shotName(path, w.viewport.width) });
        await noSideways(admin, path, w.viewport.width);
        if (w.viewport.width === 1366 && await listFits(admin, path)) lists++;
      }
      if (w.viewport.width === 1366 && lists === 0) {
        console.log('layout: no call with applications yet, the list of applications was not measured');
      }
    } finally {
      await officials.close();
    }
  });
}

test('without JavaScript, on a phone, the main menu shows its links', async () => {
  const ctx = await context(browser, {
    javaScriptEnabled: false, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true,
  });
  const page = await open(ctx);
  try {
    // Not `visit`: axe runs as a script of the page, which this context does not run (the
    // same page with JavaScript passes axe in the tests above).
    const res = await page.goto(BASE + '/', { waitUntil: 'load' });
    assert.equal(res.status(), 200);
    await page.screenshot({ path: join(SHOTS, 'layout-390-home-no-js.png'), fullPage: true });
    assert.equal(await page.evaluate(() => document.documentElement.classList.contains('js')), false,
      'app.js did not run');
    const menu = page.locator('#main-menu');
    for (const name of ['Bandi', 'Registro pubblico']) {
      assert.ok(await menu.getByRole('link', { name, exact: true }).isVisible(), `${name} in the menu, visible`);
    }
    // No burger that could not open anything.
    assert.equal(await page.locator('.custom-navbar-toggler').isVisible(), false);
    await noSideways(page, '/ (no JavaScript)', 390);
  } finally {
    await ctx.close();
  }
});

test('no internal link of the public pages leads to an error', async () => {
  const ctx = await context(browser);
  const seen = new Set();
  const queue = ['/'];
  const broken = [];
  // Pages, not files nor live streams nor other sites: those are checked where they are used.
  const skip = (p) => p.startsWith('/static/') || p.startsWith('/api/') || /\/eventi$/.test(p)
    || /\.(csv|json|xlsx|pdf)(\?|$)/.test(p) || p.startsWith('/esci')
    // The way out to the identity provider (e2e/identity.test.mjs follows it).
    || /^\/accedi\/(spid|cie)(\?|$)/.test(p);
  try {
    while (queue.length && seen.size < 250) {
      const path = queue.shift();
      if (seen.has(path)) continue;
      seen.add(path);
      const res = await ctx.request.get(BASE + path, { maxRedirects: 0 });
      if (res.status() >= 400) {
        broken.push(`${path} → ${res.status()}`);
        continue;
      }
      if (!(res.headers()['content-type'] || '').startsWith('text/html')) continue;
      const html = await res.text();
      for (const [, href] of html.matchAll(/href="([^"]+)"/g)) {
        const url = new URL(href.replaceAll('&amp;', '&'), BASE + path);
        if (url.origin !== new URL(BASE).origin) continue;
        const next = url.pathname + url.search;
        if (!skip(url.pathname) && !seen.has(next)) queue.push(next);
      }
    }
  } finally {
    await ctx.close();
  }
  assert.deepEqual(broken, [], `dead links (of ${seen.size} pages crawled)`);
  assert.ok(seen.size > 20, `crawled ${seen.size} pages`);
});
