// A real OpenID Connect provider for the tests: panva's certified `oidc-provider`, on loopback.
//
//   node server.mjs CONFIG.json
//
// CONFIG.json: {"port": 0, "clients": [client metadata...],
//               "accounts": {"<login>": {"password": "...", "claims": {"name": ..., "groups": [...]}}}}
// Prints one line `ready <issuer>` once it listens. The login page is the provider's own
// interaction: a form with login and password, checked against the accounts; a right password
// signs in and grants the scopes asked for (no consent screen), a wrong one shows the form again.
// Codes, sessions and grants live in the provider's default in-memory adapter.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';

import Provider from 'oidc-provider';

const config = JSON.parse(readFileSync(process.argv[2] ?? '', 'utf8'));
const accounts = config.accounts ?? {};

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };

/** @param {string} text */
function escapeHtml(text) {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** @param {import('node:http').IncomingMessage} req */
async function formBody(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

/**
 * @param {string} uid
 * @param {string} message
 */
function loginPage(uid, message) {
  return `<!doctype html><html><head><title>Test IdP</title></head><body>
<form method="post" action="/interaction/${escapeHtml(uid)}/login">
<p>${escapeHtml(message)}</p>
<input name="login" autocomplete="username"><input name="password" type="password">
<button type="submit">Sign in</button></form></body></html>`;
}

const server = createServer();
server.listen(config.port ?? 0, '127.0.0.1', () => {
  const address = server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const issuer = `http://127.0.0.1:${address.port}`;
  const provider = new Provider(issuer, {
    clients: config.clients ?? [],
    jwks: { keys: [jwk] },
    cookies: { keys: [randomBytes(32).toString('hex')] },
    claims: {
      openid: ['sub'],
      profile: ['name', 'preferred_username'],
      email: ['email'],
      groups: ['groups'],
    },
    scopes: ['openid', 'profile', 'email', 'groups'],
    // claims asked for through scopes also go into the ID token, as Keycloak and Entra ID do
    conformIdTokenClaims: false,
    features: { devInteractions: { enabled: false } },
    pkce: { methods: ['S256'], required: () => true },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    async findAccount(_ctx, id) {
      const account = accounts[id];
      if (!account) return undefined;
      return {
        accountId: id,
        async claims() {
          return { sub: id, preferred_username: id, ...account.claims };
        },
      };
    },
  });

  provider.use(async (ctx, next) => {
    const match = /^\/interaction\/([^/]+)(\/login)?$/.exec(ctx.path);
    if (!match) return next();
    const details = await provider.interactionDetails(ctx.req, ctx.res);
    if (ctx.method === 'GET') {
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, 'Sign in');
      return undefined;
    }
    if (ctx.method !== 'POST' || !match[2]) return next();
    const form = await formBody(ctx.req);
    const login = form.get('login') ?? '';
    const account = accounts[login];
    if (!account || account.password !== form.get('password')) {
      ctx.status = 401;
      ctx.type = 'html';
      ctx.body = loginPage(details.uid, 'Wrong login or password');
      return undefined;
    }
    const grant = new provider.Grant({ accountId: login, clientId: String(details.params.client_id) });
    grant.addOIDCScope(String(details.params.scope));
    const grantId = await grant.save();
    const target = await provider.interactionResult(
      ctx.req,
      ctx.res,
      { login: { accountId: login }, consent: { grantId } },
      { mergeWithLastSubmission: false },
    );
    ctx.status = 303;
    ctx.redirect(target);
    return undefined;
  });

  server.on('request', provider.callback());
  process.stdout.write(`ready ${issuer}\n`);
});

for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
