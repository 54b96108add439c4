// Sign-in with SPID and CIE through a real OpenID Connect provider (e2e/oidc-provider.mjs,
// node-oidc-provider, started here on the port e2e/run.sh configured in the site file): an
// official binds a fiscal code to the Comune di Cervia, its person signs in with SPID and
// with CIE; a fiscal code bound to nobody is told whom to ask; a forged state, an answer
// carried to another browser, a replayed code, an ID token with another request's nonce,
// an expired one and one signed by a key the provider never published are each refused,
// and none of them opens a session. Every page of ours passes axe-core.

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BASE, check, checked, context, launch, open, press, text, visit } from './browser.mjs';

const PORT = process.env.BANDI_OIDC_PORT;
const PASSWORD = process.env.BANDI_PASSWORD;
const SKIP = PORT && PASSWORD ? false : 'needs the provider and accounts of e2e/run.sh';
const ISSUER = `http://127.0.0.1:${PORT}`;
const BOUND = 'RSSMRA80A01H501U';
const UNBOUND = 'VRDGPP70A01F205V';

let browser;
let provider;

before(async () => {
  if (SKIP) return;
  const script = join(dirname(fileURLToPath(import.meta.url)), 'oidc-provider.mjs');
  provider = spawn(process.execPath, [script, PORT, process.env.BANDI_OIDC_CLIENT, process.env.BANDI_OIDC_SECRET,
    `${BASE}/accedi/spid/ritorno`, `${BASE}/accedi/cie/ritorno`], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise((resolve, reject) => {
    provider.stdout.on('data', (d) => { if (String(d).includes('ready')) resolve(); });
    provider.on('exit', (code) => reject(new Error(`the OpenID provider exited with ${code}`)));
  });
  browser = await launch();
});

after(async () => {
  await browser?.close();
  provider?.kill();
  console.log(`axe-core: ${checked.length} pages of the SPID/CIE sign-in checked, no violations`);
});

/** From our sign-in page to the provider's login page, by the button of `kind`. */
async function toProvider(page, kind) {
  await visit(page, '/accedi');
  await Promise.all([
    page.waitForURL((u) => u.href.startsWith(`${ISSUER}/interaction/`)),
    page.click(`a.identity-button:has-text("Entra con ${kind}")`),
  ]);
}

/** Signs in at the provider as `fiscalCode`; the response of the page we come back to. */
async function signInAs(page, fiscalCode, kind = 'SPID') {
  await toProvider(page, kind);
  await page.fill('#fiscal_code', fiscalCode);
  return press(page, '#login');
}

/** Asks the provider to alter its next ID token. */
async function tamper(mode) {
  const res = await fetch(`${ISSUER}/__test/tamper?mode=${mode}`, { method: 'POST' });
  assert.equal(res.status, 200);
}

/** No session was opened: the reserved area sends to the sign-in page. */
async function assertSignedOut(page) {
  await page.goto(`${BASE}/area-riservata`);
  assert.match(page.url(), /\/accedi\?dopo=/);
}

describe('sign-in with SPID and CIE', { skip: SKIP }, () => {
  let answered;

  test('the sign-in page offers SPID and CIE beside e-mail and password', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    await visit(page, '/accedi?dopo=%2Farea-riservata%2Fcomunicazioni', { shot: 'sign-in-spid-cie.png' });
    const buttons = await page.$$eval('a.identity-button', (as) => as.map((a) => [a.textContent.trim(), a.getAttribute('href')]));
    assert.deepEqual(buttons, [
      ['Entra con SPID', '/accedi/spid?dopo=%2Farea-riservata%2Fcomunicazioni'],
      ['Entra con CIE', '/accedi/cie?dopo=%2Farea-riservata%2Fcomunicazioni'],
    ]);
    assert.equal(await page.locator('.sign-in-form #email').count(), 1);
    // A provider this deployment does not have is not found.
    const res = await page.goto(`${BASE}/accedi/eidas`);
    assert.equal(res.status(), 404);
    await ctx.close();
  });

  test('an official binds a fiscal code to the Comune di Cervia; its person signs in with SPID', async () => {
    const admin = await context(browser);
    const page = await open(admin);
    await visit(page, '/accedi');
    await page.fill('#email', 'regione@e2e.example');
    await page.fill('#password', PASSWORD);
    await press(page, '.sign-in-form button[type="submit"]');
    await visit(page, '/amministrazione/utenti');
    const fill = async (code) => {
      await page.fill('#new-email', 'mario.rossi@e2e.example');
      await page.fill('#new-name', 'Mario Rossi');
      await page.selectOption('#new-role', 'applicant');
      await page.fill('#new-fiscal-code', code);
      await page.fill('#new-entities', 'Comune di Cervia');
    };
    // A wrong check letter is said next to the field; nothing is created.
    await fill('RSSMRA80A01H501V');
    let res = await press(page, '#new-user button[type="submit"]');
    assert.equal(res.status(), 422);
    assert.match(await text(page, '#new-fiscal-code-error'), /Codice fiscale non valido/);
    await check(page, 'users page (bad fiscal code)', { status: 422 });
    // Typed in lower case, with no password: the person will sign in only with SPID/CIE.
    await fill(BOUND.toLowerCase());
    res = await press(page, '#new-user button[type="submit"]');
    assert.equal(res.status(), 200);
    assert.match(await page.textContent('main'), new RegExp(`SPID/CIE: ${BOUND}`));
    await admin.close();

    const ctx = await context(browser);
    const person = await open(ctx);
    person.on('request', (r) => { if (r.url().includes('/accedi/spid/ritorno?')) answered = r.url(); });
    res = await signInAs(person, BOUND);
    assert.equal(res.status(), 200);
    assert.equal(person.url(), `${BASE}/area-riservata`);
    assert.match(await text(person, 'main h1'), /Cervia/);
    assert.match(await text(person, '.account-name'), /Mario Rossi/);
    await check(person, '/area-riservata (signed in with SPID)');
    assert.ok(answered, 'the provider answered on the redirect URI');
    // The flow's cookie is gone with the answer.
    assert.equal((await ctx.cookies()).some((c) => c.name === 'bandi_identita' && c.value), false);
    await ctx.close();
  });

  test('the same person signs in with CIE and lands on the page asked for', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    await page.goto(`${BASE}/area-riservata/comunicazioni`);
    assert.match(page.url(), /\/accedi\?dopo=%2Farea-riservata%2Fcomunicazioni$/);
    await Promise.all([
      page.waitForURL((u) => u.href.startsWith(`${ISSUER}/interaction/`)),
      page.click('a.identity-button:has-text("Entra con CIE")'),
    ]);
    await page.fill('#fiscal_code', BOUND);
    const res = await press(page, '#login');
    assert.equal(res.status(), 200);
    assert.equal(page.url(), `${BASE}/area-riservata/comunicazioni`);
    await check(page, '/area-riservata/comunicazioni (signed in with CIE)');
    await ctx.close();
  });

  test('a fiscal code bound to nobody is told whom to ask', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    const res = await signInAs(page, UNBOUND);
    assert.equal(res.status(), 403);
    const body = await page.textContent('main');
    assert.match(body, new RegExp(`codice fiscale ${UNBOUND} non è abilitato`));
    assert.match(body, /Chiedere all'ufficio della Regione/);
    assert.match(await page.textContent('footer'), /urp@postacert\.regione\.emilia-romagna\.it/);
    await check(page, 'sign-in refused: fiscal code not bound', { status: 403, shot: 'sign-in-not-bound.png' });
    await assertSignedOut(page);
    await ctx.close();
  });

  test('a forged state is refused, and the flow it tried is spent', async () => {
    const ctx = await context(browser);
    const page = await open(ctx);
    await toProvider(page, 'SPID');
    let res = await page.goto(`${BASE}/accedi/spid/ritorno?code=forged-code&state=forged-state`);
    assert.equal(res.status(), 401);
    assert.match(await page.textContent('main'), /non corrisponde alla richiesta partita da questo browser/);
    await check(page, 'sign-in refused: forged state', { status: 401 });
    res = await page.goto(`${BASE}/accedi/spid/ritorno?code=forged-code&state=forged-state`);
    assert.equal(res.status(), 401);
    assert.match(await page.textContent('main'), /scaduta o non è partita da questo browser/);
    await assertSignedOut(page);
    await ctx.close();
  });

  test("an answer carried to another browser, and a replayed code, are refused", async () => {
    assert.ok(answered, 'the SPID sign-in above ran');
    // Another browser, with the first one's answer: no flow of its own.
    const ctx = await context(browser);
    const page = await open(ctx);
    let res = await page.goto(answered);
    assert.equal(res.status(), 401);
    assert.match(await page.textContent('main'), /scaduta o non è partita da questo browser/);
    await check(page, 'sign-in refused: no flow in this browser', { status: 401 });
    // Its own flow, and the spent code under its own state: the provider refuses the code.
    let state;
    page.on('request', (r) => {
      const u = new URL(r.url());
      if (u.origin === ISSUER && u.pathname === '/auth' && u.searchParams.get('state')) state = u.searchParams.get('state');
    });
    await toProvider(page, 'SPID');
    assert.ok(state);
    // Its own state, but an answer that names another provider (RFC 9207 mix-up).
    const mixedUp = new URL(answered);
    mixedUp.searchParams.set('state', state);
    mixedUp.searchParams.set('iss', 'https://evil.example');
    res = await page.goto(mixedUp.href);
    assert.equal(res.status(), 401);
    assert.match(await page.textContent('main'), /diverso da quello scelto/);
    await check(page, 'sign-in refused: another provider', { status: 401 });
    state = undefined;
    await toProvider(page, 'SPID');
    assert.ok(state);
    const replay = new URL(answered);
    replay.searchParams.set('state', state);
    res = await page.goto(replay.href);
    assert.equal(res.status(), 401);
    assert.match(await page.textContent('main'), /codice di autorizzazione non è stato accettato/);
    await check(page, 'sign-in refused: replayed code', { status: 401 });
    await assertSignedOut(page);
    await ctx.close();
  });

  for (const [mode, words] of [
    ['nonce', /non appartiene a questa richiesta di accesso/],
    ['expired', /identità ricevuta è scaduta/],
    ['other-key', /firma dell'identità ricevuta non è verificabile/],
  ]) {
    test(`an ID token altered (${mode}) is refused`, async () => {
      const ctx = await context(browser);
      const page = await open(ctx);
      await tamper(mode);
      const res = await signInAs(page, BOUND);
      assert.equal(res.status(), 401);
      assert.match(page.url(), /\/accedi\/spid\/ritorno\?/);
      assert.match(await page.textContent('main'), words);
      await check(page, `sign-in refused: ${mode}`, { status: 401 });
      await assertSignedOut(page);
      await ctx.close();
    });
  }
});
