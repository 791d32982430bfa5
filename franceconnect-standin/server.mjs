// A local FranceConnect v2 stand-in: panva oidc-provider (the engine FranceConnect itself runs)
// configured like "fcp-low" (../shared/research/franceconnect.md §2.4): endpoints under /api/v2,
// authorization code only, acr eidas1, ES256 (or RS256) ID token and JWT-signed userinfo, pairwise
// `sub` ending in "v1", the pivot identity claims, TTLs of 30 s / 60 s, RP-initiated logout at
// /session/end with an auto-submitted form, and FranceConnect's own checks of the authorize request
// (nonce of 22 characters or more, state, acr_values, prompt).
//
// Configuration by environment (defaults suit `make run`):
//   FC_STANDIN_HOST / FC_STANDIN_PORT      where to listen (127.0.0.1:9100)
//   FC_STANDIN_ISSUER                      public issuer (http://HOST:PORT/api/v2)
//   FC_CLIENT_ID / FC_CLIENT_SECRET        the one registered client (Trousseau)
//   FC_REDIRECT_URIS                       comma-separated redirect_uris of that client
//   FC_POST_LOGOUT_REDIRECT_URIS           comma-separated post_logout_redirect_uris
//   FC_SIGNING_ALG                         ES256 (default, FranceConnect's recommendation) or RS256
//   FC_STANDIN_KEYS                        file keeping the signing keys across restarts
//   FC_STANDIN_SECRET                      secret of the pairwise `sub` and of the cookies
// The login page lists the test identities (identities.mjs): one click signs in as one of them.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

import Provider from 'oidc-provider';

import { IDENTITIES, PASSWORD } from './identities.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const HOST = process.env.FC_STANDIN_HOST || '127.0.0.1';
const PORT = Number(process.env.FC_STANDIN_PORT || 9100);
const PREFIX = '/api/v2';
const ISSUER = process.env.FC_STANDIN_ISSUER || `http://${HOST}:${PORT}${PREFIX}`;
const ALG = process.env.FC_SIGNING_ALG || 'ES256';
const SECRET = process.env.FC_STANDIN_SECRET || 'franceconnect-standin-dev-secret';
const KEYS_FILE = process.env.FC_STANDIN_KEYS || path.join(HERE, 'var', 'keys.json');
const list = (value, fallback) => (value || fallback).split(',').map((s) => s.trim()).filter(Boolean);

if (!['ES256', 'RS256'].includes(ALG)) throw new Error('FC_SIGNING_ALG must be ES256 or RS256');

// --- Keys: one EC P-256 and one RSA key, with FranceConnect's key ids ------------------------------
function signingKeys() {
  if (fs.existsSync(KEYS_FILE)) return JSON.parse(fs.readFileSync(KEYS_FILE, 'utf8'));
  const ec = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
  const rsa = crypto.generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
  const keys = [
    { ...ec, kid: 'pkcs11:ES256:hsm', alg: 'ES256', use: 'sig' },
    { ...rsa, kid: 'pkcs11:RS256:hsm', alg: 'RS256', use: 'sig' },
  ];
  fs.mkdirSync(path.dirname(KEYS_FILE), { recursive: true });
  fs.writeFileSync(KEYS_FILE, JSON.stringify(keys), { mode: 0o600 });
  return keys;
}

// --- Identities and the pairwise sub (FranceConnect: sha256(entity + identityHash + secret) + "v1") ---
const byLogin = new Map(IDENTITIES.map((identity) => [identity.login, identity]));
const sha256 = (text, encoding) => crypto.createHash('sha256').update(text).digest(encoding);

function identityHash(p) {
  const birthplace = p.birthcountry === '99100' ? p.birthplace : '';
  return sha256(`${p.given_name}${p.family_name}${p.birthdate}${p.gender}${birthplace}${p.birthcountry}`, 'base64');
}

function pivotClaims(p) {
  const claims = {
    given_name: p.given_name,
    given_name_array: p.given_name.split(' '),
    family_name: p.family_name,
    birthdate: p.birthdate,
    gender: p.gender,
    birthplace: p.birthplace,
    birthcountry: p.birthcountry,
    preferred_username: p.preferred_username,
  };
  if (p.email) claims.email = p.email;
  return claims;
}

// --- HTML of the stand-in's own pages --------------------------------------------------------------
const esc = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const page = (title, body) => `<!DOCTYPE html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(title)} — FranceConnect (démonstration locale)</title>
<style>body{font-family:Marianne,Arial,sans-serif;max-width:40rem;margin:2rem auto;padding:0 1rem;color:#161616}
h1{font-size:1.5rem}button{font:inherit;padding:.5rem 1rem;margin:.25rem 0;cursor:pointer;background:#000091;color:#fff;border:0}
button.secondary{background:#fff;color:#000091;border:1px solid #000091}ul{list-style:none;padding:0}li{margin:.5rem 0}
small{color:#666;display:block}label{display:block;margin-top:.5rem}.banner{background:#fee9e6;padding:.5rem 1rem}</style>
</head><body><p class="banner">FranceConnect — démonstration locale (stand-in de test, aucune donnée réelle)</p>
${body}</body></html>`;

function loginPage(uid, clientId, error = '') {
  const buttons = IDENTITIES.map((p) => `<li><button type="submit" name="login" value="${esc(p.login)}">${esc(p.given_name.split(' ')[0])} ${esc(p.preferred_username || p.family_name)}</button>
    <small>${esc(p.note)}</small></li>`).join('\n');
  return page('Choisissez une identité', `<h1>Identifiez-vous sur ${esc(clientId)}</h1>
<p>Choisissez une identité de test (mot de passe de chacune : <code>${PASSWORD}</code>).</p>
${error ? `<p role="alert">${esc(error)}</p>` : ''}
<form method="post" action="/interaction/${esc(uid)}/login">
  <input type="hidden" name="password" value="${PASSWORD}">
  <ul>${buttons}</ul>
</form>
<form method="post" action="/interaction/${esc(uid)}/login">
  <label for="login">Identifiant</label><input id="login" name="login" autocomplete="off">
  <label for="password">Mot de passe</label><input id="password" name="password" type="password">
  <button type="submit">Se connecter</button>
</form>
<form method="post" action="/interaction/${esc(uid)}/abort">
  <button type="submit" class="secondary">Annuler et revenir au service</button>
</form>`);
}

// --- The provider -----------------------------------------------------------------------------------
const pivot = ['given_name', 'given_name_array', 'family_name', 'birthdate', 'gender', 'birthplace', 'birthcountry'];
const configuration = {
  clients: [{
    client_id: process.env.FC_CLIENT_ID || 'trousseau-demo',
    client_secret: process.env.FC_CLIENT_SECRET || 'trousseau-demo-secret-for-the-local-stand-in-only',
    redirect_uris: list(process.env.FC_REDIRECT_URIS, 'http://127.0.0.1:8000/franceconnect/retour/'),
    post_logout_redirect_uris: list(process.env.FC_POST_LOGOUT_REDIRECT_URIS, 'http://127.0.0.1:8000/franceconnect/deconnexion/'),
    response_types: ['code'],
    grant_types: ['authorization_code'],
    token_endpoint_auth_method: 'client_secret_post',
    id_token_signed_response_alg: ALG,
    userinfo_signed_response_alg: ALG,
    subject_type: 'pairwise',
  }],
  jwks: { keys: signingKeys() },
  cookies: { keys: [SECRET] },
  acrValues: ['eidas1'],
  subjectTypes: ['pairwise'],
  pairwiseIdentifier: async (ctx, accountId, client) => {
    const person = byLogin.get(accountId);
    return `${sha256(`${client.sectorIdentifier}${identityHash(person)}${SECRET}`, 'hex')}v1`;
  },
  // fcp-low's scopes (FCsrc back/libs/scopes/src/data/fcp-low/fcp-low.scopes.ts).
  claims: {
    openid: ['sub'],
    profile: ['given_name', 'given_name_array', 'family_name', 'birthdate', 'gender', 'preferred_username'],
    birth: ['birthplace', 'birthcountry'],
    identite_pivot: pivot,
    ...Object.fromEntries([...pivot, 'email', 'preferred_username'].map((claim) => [claim, [claim]])),
  },
  findAccount: async (ctx, id) => {
    const person = byLogin.get(id);
    if (!person) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...pivotClaims(person) }) };
  },
  conformIdTokenClaims: true,
  features: {
    devInteractions: { enabled: false },
    pushedAuthorizationRequests: { enabled: false },
    jwtUserinfo: { enabled: true },
    claimsParameter: { enabled: true },
    revocation: { enabled: true },
    rpInitiatedLogout: {
      enabled: true,
      // FranceConnect renders an auto-submitted form, ends its session, then redirects.
      logoutSource: async (ctx, form) => {
        const yes = form.replace('</form>', '<input type="hidden" name="logout" value="yes"/></form>');
        ctx.body = page('Déconnexion', `<h1>Déconnexion de FranceConnect…</h1>${yes}
<noscript><button type="submit" form="op.logoutForm">Continuer</button></noscript>
<script>document.getElementById('op.logoutForm').submit();</script>`);
      },
      postLogoutSuccessSource: async (ctx) => {
        ctx.body = page('Déconnecté', '<h1>Vous êtes déconnecté de FranceConnect.</h1>');
      },
    },
  },
  enabledJWA: {
    // FranceConnect still advertises HS256; relying parties must pin ES256 or RS256.
    idTokenSigningAlgValues: ['HS256', 'ES256', 'RS256'],
    userinfoSigningAlgValues: ['HS256', 'ES256', 'RS256'],
  },
  clientAuthMethods: ['client_secret_post', 'private_key_jwt'],
  responseTypes: ['code'],
  pkce: { required: () => false },
  ttl: { AccessToken: 60, AuthorizationCode: 30, IdToken: 60, Session: 1800, Interaction: 1800, Grant: 1800 },
  routes: {
    authorization: '/authorize',
    token: '/token',
    userinfo: '/userinfo',
    end_session: '/session/end',
    jwks: '/jwks',
    revocation: '/token/revocation',
  },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  renderError: async (ctx, out) => {
    ctx.type = 'html';
    ctx.body = page('Erreur', `<h1>Une erreur est survenue</h1><p>${esc(out.error)} : ${esc(out.error_description || '')}</p>`);
  },
};

const provider = new Provider(ISSUER, configuration);
provider.proxy = true;

// FranceConnect's checks of the authorize request (FCsrc authorize-params.dto.ts): error Y030007.
const PROMPTS = new Set(['login', 'consent', 'login consent', 'consent login']);
provider.use(async (ctx, next) => {
  if (ctx.path === '/authorize' && ctx.method === 'GET') {
    const q = ctx.query;
    const wrong = [];
    if (typeof q.nonce !== 'string' || q.nonce.length < 22) wrong.push('nonce');
    if (typeof q.state !== 'string' || !q.state) wrong.push('state');
    if (typeof q.acr_values !== 'string' || !q.acr_values) wrong.push('acr_values');
    if (q.prompt !== undefined && !PROMPTS.has(q.prompt)) wrong.push('prompt');
    if (wrong.length) {
      ctx.status = 400;
      ctx.type = 'html';
      ctx.body = page('Erreur Y030007', `<h1>Erreur Y030007</h1><p>Paramètres invalides : ${esc(wrong.join(', '))}</p>`);
      return;
    }
  }
  await next();
});

// --- Interactions: pick an identity (login + consent in one step, as for a public service) -----------
async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

async function finishLogin(req, res, details, login) {
  const { params, prompt } = details;
  const grant = new provider.Grant({ accountId: login, clientId: params.client_id });
  grant.addOIDCScope(String(params.scope));
  if (prompt.details.missingOIDCClaims) grant.addOIDCClaims(prompt.details.missingOIDCClaims);
  const grantId = await grant.save();
  const result = { login: { accountId: login, acr: 'eidas1', amr: ['pwd'] }, consent: { grantId } };
  await provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

async function interaction(req, res, uid, action) {
  const details = await provider.interactionDetails(req, res);
  if (details.uid !== uid) return send(res, 400, page('Erreur', '<h1>Session expirée</h1>'));
  if (req.method === 'GET' && !action) {
    if (details.prompt.name === 'consent' && details.session?.accountId) {
      return finishLogin(req, res, details, details.session.accountId);
    }
    return send(res, 200, loginPage(uid, details.params.client_id));
  }
  if (req.method === 'POST' && action === 'login') {
    const form = await readForm(req);
    const login = form.get('login') || '';
    if (!byLogin.has(login) || form.get('password') !== PASSWORD) {
      return send(res, 200, loginPage(uid, details.params.client_id, 'Identifiant ou mot de passe incorrect.'));
    }
    return finishLogin(req, res, details, login);
  }
  if (req.method === 'POST' && action === 'abort') {
    const result = { error: 'access_denied', error_description: 'User auth aborted' };
    return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
  }
  return send(res, 405, page('Erreur', '<h1>Méthode non permise</h1>'));
}

// --- The HTTP server: the provider under /api/v2, the interactions beside it ------------------------
const handle = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, 'http://standin');
    if (url.pathname === PREFIX || url.pathname.startsWith(`${PREFIX}/`)) {
      req.originalUrl = req.url;
      req.url = req.url.slice(PREFIX.length) || '/';
      return handle(req, res);
    }
    const found = url.pathname.match(/^\/interaction\/([\w-]+)(?:\/(login|abort))?$/);
    if (found) return await interaction(req, res, found[1], found[2]);
    if (url.pathname === '/__standin/health') return send(res, 200, 'ok');
    return send(res, 404, page('Introuvable', '<h1>Page introuvable</h1>'));
  } catch (error) {
    console.error(error);
    return send(res, 500, page('Erreur', `<h1>Erreur</h1><p>${esc(error.message)}</p>`));
  }
});

server.listen(PORT, HOST, () => {
  console.log(`FranceConnect stand-in: issuer ${ISSUER} (client ${configuration.clients[0].client_id}, ${ALG})`);
});
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
