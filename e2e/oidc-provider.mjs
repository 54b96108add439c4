// A real OpenID Connect provider for the sign-in tests, standing in for a region's SPID/CIE
// gateway: node-oidc-provider (certified by the OpenID Foundation), with its own RSA key,
// authorization code flow with PKCE, and a login page where the test types the fiscal code
// of a test identity (a SPID identity provider would ask for credentials there). Claims as
// SPID gives them: `fiscal_number` = "TINIT-<fiscal code>".
//
// For the refusals, `POST /__test/tamper?mode=…` makes the *next* token response carry an ID
// token altered the way an attacker (or a broken gateway) would: `nonce` (another request's
// nonce), `expired` (expired an hour ago), `other-key` (signed by a key the provider never
// published, under the published key's id). Everything else is the provider's own work.
//
// Usage: node e2e/oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI...
// Prints "ready <issuer>" on standard output once it listens.

import { createServer } from 'node:http';
import { URLSearchParams } from 'node:url';
import Provider from 'oidc-provider';
import { SignJWT, decodeJwt, decodeProtectedHeader, exportJWK, generateKeyPair, importJWK } from 'jose';

const [port, clientId, clientSecret, ...redirectUris] = process.argv.slice(2);
if (!port || !clientId || !clientSecret || redirectUris.length === 0) {
  console.error('usage: oidc-provider.mjs PORT CLIENT_ID CLIENT_SECRET REDIRECT_URI...');
  process.exit(2);
}
const issuer = `http://127.0.0.1:${port}`;

const { privateKey } = await generateKeyPair('RS256', { extractable: true });
const signing = { ...(await exportJWK(privateKey)), kid: 'gateway-1', alg: 'RS256', use: 'sig' };
const other = await generateKeyPair('RS256', { extractable: true });

let tamper = null;

const provider = new Provider(issuer, {
  clients: [
    {
      client_id: clientId,
      client_secret: clientSecret,
      redirect_uris: redirectUris,
      grant_types: ['authorization_code'],
      response_types: ['code'],
      token_endpoint_auth_method: 'client_secret_basic',
    },
  ],
  jwks: { keys: [signing] },
  scopes: ['openid', 'profile'],
  claims: { openid: ['sub'], profile: ['fiscal_number', 'given_name', 'family_name', 'name'] },
  // The gateway puts the identity's attributes in the ID token, as SPID gateways do.
  conformIdTokenClaims: false,
  pkce: { required: () => true },
  features: { devInteractions: { enabled: false } },
  interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
  cookies: { keys: ['e2e-only-cookie-key'] },
  findAccount: async (_ctx, sub) => ({
    accountId: sub,
    claims: async () => ({
      sub,
      fiscal_number: `TINIT-${sub}`,
      given_name: 'Identità',
      family_name: 'Di Prova',
      name: 'Identità Di Prova',
    }),
  }),
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = `<!doctype html><title>Errore</title><p id="error">${out.error}: ${out.error_description ?? ''}</p>`;
  },
});

// The next token response, altered as asked (once).
provider.use(async (ctx, next) => {
  await next();
  if (ctx.oidc?.route !== 'token' || !tamper || !ctx.body?.id_token) return;
  const mode = tamper;
  tamper = null;
  const claims = decodeJwt(ctx.body.id_token);
  const header = decodeProtectedHeader(ctx.body.id_token);
  let key = await importJWK(signing, 'RS256');
  if (mode === 'nonce') claims.nonce = 'a-nonce-of-another-request';
  if (mode === 'expired') {
    claims.iat = Math.floor(Date.now() / 1000) - 7200;
    claims.exp = Math.floor(Date.now() / 1000) - 3600;
  }
  if (mode === 'other-key') key = other.privateKey;
  ctx.body = { ...ctx.body, id_token: await new SignJWT(claims).setProtectedHeader(header).sign(key) };
});

const page = (title, body) =>
  `<!doctype html><html lang="it"><head><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title></head><body><main><h1>${title}</h1>${body}</main></body></html>`;

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

async function interaction(req, res) {
  const url = new URL(req.url, issuer);
  const details = await provider.interactionDetails(req, res);
  const { prompt, params, session } = details;
  if (prompt.name === 'login' && req.method === 'GET') {
    res.setHeader('content-type', 'text/html; charset=utf-8');
    res.end(
      page(
        'Gestore delle identità di prova',
        `<form method="post" action="${url.pathname}"><label for="fiscal_code">Codice fiscale dell'identità di prova</label>
         <input id="fiscal_code" name="fiscal_code" autocomplete="off"><button type="submit" id="login">Entra</button></form>`,
      ),
    );
    return;
  }
  if (prompt.name === 'login') {
    const form = await readForm(req);
    const accountId = (form.get('fiscal_code') || '').trim().toUpperCase();
    await provider.interactionFinished(req, res, { login: { accountId } }, { mergeWithLastSubmission: false });
    return;
  }
  // Consent: the gateway's users agreed to give their attributes to the platform once.
  const grant = new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  if (prompt.details.missingOIDCScope) grant.addOIDCScope(prompt.details.missingOIDCScope.join(' '));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
}

const callback = provider.callback();
const server = createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    if (url.pathname === '/favicon.ico') {
      res.statusCode = 204;
      res.end();
    } else if (url.pathname === '/__test/tamper' && req.method === 'POST') {
      tamper = url.searchParams.get('mode');
      res.end('ok');
    } else if (url.pathname.startsWith('/interaction/')) {
      await interaction(req, res);
    } else {
      callback(req, res);
    }
  } catch (e) {
    res.statusCode = 500;
    res.end(String(e));
  }
});
server.listen(Number(port), '127.0.0.1', () => console.log(`ready ${issuer}`));
