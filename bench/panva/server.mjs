// The reference of bench/oidc.py: panva oidc-provider configured like Trousseau's OIDC provider, in
// one node process, for the code -> token + userinfo benchmark.
//
//   node bench/panva/server.mjs CONFIG.json
//
// CONFIG.json (written by bench/oidc.py): {port, issuer, secret, jwks (private JWK set), client
// {client_id, client_secret, redirect_uri}, scopes {scope: [claims]}, accounts {login: {password,
// claims}}}.
//
// Like Trousseau (docs/oidc.md): authorization code only, PKCE S256 (required here), exact redirect
// URI, `iss` in the authorization response, client_secret_basic, RS256 ID tokens with an RSA key of
// the same size, pairwise `sub` (an HMAC-SHA256 like federation/claims.pairwise_id), the scope claims
// in the ID token as well as in userinfo (conformIdTokenClaims: false), a refresh token with every
// code exchange (as django-oauth-toolkit issues one), access tokens of 600 s, codes of 60 s.
//
// Its engine is the oidc-provider that franceconnect-standin/ pins and installs (`make standin`):
// the import is resolved from that directory (NODE_PATH does not apply to ES modules), so there is
// one version, one lock file and one install.
//
// Storage: in this process's memory, one Map, with expiry, and a set of token ids per grant for
// revocation (as panva's example Redis adapter keys it). oidc-provider's bundled MemoryAdapter is not
// used: it keeps at most 1000 entries (a round's codes would be evicted before redemption) and
// rescans every token of a grant on each write, so it slows down as a run goes on.
//
// Login (the benchmark's own interaction, no page): GET /auth answers 303 to /interaction/UID; a
// POST /interaction/UID/login with `login` and `password` checks them against CONFIG's accounts,
// grants the requested scopes (no consent screen, as Trousseau's operator-registered clients) and
// finishes the interaction; the browser then resumes at /auth/UID and gets its code. Later
// authorization requests of that browser (its `_session` cookie) get a code at once.
// GET /__bench/stats counts what the provider stored, so the benchmark can check the work was done.

import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const STANDIN = path.resolve(HERE, '..', '..', 'franceconnect-standin', 'package.json');
const ENTRY = createRequire(STANDIN).resolve('oidc-provider');
const { default: Provider } = await import(pathToFileURL(ENTRY).href);

const config = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
const { port, issuer, secret, jwks, client, scopes, accounts } = config;

// --- Storage ----------------------------------------------------------------------------------------
const store = new Map(); // key -> {payload, expiresAt}
const grants = new Map(); // grantId -> Set of keys
const stats = { upserts: {}, consumed: {} };
const now = () => Date.now();
const epoch = () => Math.floor(Date.now() / 1000);

function live(key) {
  const entry = store.get(key);
  if (entry === undefined) return undefined;
  if (entry.expiresAt !== undefined && entry.expiresAt <= now()) {
    store.delete(key);
    return undefined;
  }
  return entry;
}

class MapAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return `${this.model}:${id}`;
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const expiresAt = typeof expiresIn === 'number' ? now() + expiresIn * 1000 : undefined;
    store.set(key, { payload, expiresAt });
    if (this.model === 'Session' && payload.uid) store.set(`sessionUid:${payload.uid}`, { payload: id, expiresAt });
    if (payload.grantId) {
      let members = grants.get(payload.grantId);
      if (members === undefined) grants.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
    stats.upserts[this.model] = (stats.upserts[this.model] || 0) + 1;
  }

  async find(id) {
    return live(this.key(id))?.payload;
  }

  async findByUid(uid) {
    const id = live(`sessionUid:${uid}`)?.payload;
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode() {
    return undefined; // no device flow
  }

  async consume(id) {
    const entry = live(this.key(id));
    if (entry) entry.payload.consumed = epoch();
    stats.consumed[this.model] = (stats.consumed[this.model] || 0) + 1;
  }

  async destroy(id) {
    const key = this.key(id);
    const entry = store.get(key);
    store.delete(key);
    if (entry?.payload.grantId) grants.get(entry.payload.grantId)?.delete(key);
  }

  async revokeByGrantId(grantId) {
    for (const key of grants.get(grantId) || []) store.delete(key);
    grants.delete(grantId);
  }
}

// --- The provider -------------------------------------------------------------------------------------
const hmac = (text) => crypto.createHmac('sha256', secret).update(text).digest('hex');

const provider = new Provider(issuer, {
  adapter: MapAdapter,
  clients: [{
    client_id: client.client_id,
    client_secret: client.client_secret,
    redirect_uris: [client.redirect_uri],
    response_types: ['code'],
    grant_types: ['authorization_code', 'refresh_token'],
    token_endpoint_auth_method: 'client_secret_basic',
    id_token_signed_response_alg: 'RS256',
    subject_type: 'pairwise',
  }],
  jwks,
  cookies: { keys: [secret] },
  scopes: Object.keys(scopes),
  claims: scopes,
  subjectTypes: ['pairwise'],
  pairwiseIdentifier: async (ctx, accountId, c) => hmac(`${accountId}|${c.sectorIdentifier}`).slice(0, 32),
  findAccount: async (ctx, id) => {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, claims: async () => ({ sub: id, ...account.claims }) };
  },
  conformIdTokenClaims: false,
  issueRefreshToken: async () => true,
  pkce: { required: () => true },
  responseTypes: ['code'],
  clientAuthMethods: ['client_secret_basic', 'client_secret_post'],
  enabledJWA: { idTokenSigningAlgValues: ['RS256'] },
  features: {
    devInteractions: { enabled: false },
    revocation: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    IdToken: 600,
    RefreshToken: 8 * 3600,
    Session: 8 * 3600,
    Grant: 8 * 3600,
    Interaction: 3600,
  },
  routes: { authorization: '/auth', token: '/token', userinfo: '/userinfo', jwks: '/jwks' },
});
provider.on('server_error', (ctx, error) => console.error('server_error', error));

// --- The benchmark's login --------------------------------------------------------------------------
async function readForm(req) {
  const chunks = [];
  for await (const chunk of req) chunks.push(chunk);
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

function send(res, status, body) {
  res.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' });
  res.end(JSON.stringify(body));
}

async function login(req, res, uid) {
  const details = await provider.interactionDetails(req, res);
  const form = await readForm(req);
  const name = form.get('login') || '';
  if (details.uid !== uid || !accounts[name] || form.get('password') !== accounts[name].password) {
    return send(res, 403, { error: 'wrong interaction, login or password' });
  }
  const grant = new provider.Grant({ accountId: name, clientId: details.params.client_id });
  grant.addOIDCScope(String(details.params.scope));
  const grantId = await grant.save();
  const result = { login: { accountId: name, amr: ['pwd'] }, consent: { grantId } };
  return provider.interactionFinished(req, res, result, { mergeWithLastSubmission: false });
}

const handle = provider.callback();
const server = http.createServer(async (req, res) => {
  try {
    const url = new URL(req.url, issuer);
    const found = url.pathname.match(/^\/interaction\/([\w-]+)\/login$/);
    if (found && req.method === 'POST') return await login(req, res, found[1]);
    if (url.pathname === '/__bench/stats') return send(res, 200, { ...stats, entries: store.size });
    return handle(req, res);
  } catch (error) {
    console.error(error);
    return send(res, 500, { error: String(error.message) });
  }
});

server.listen(port, '127.0.0.1', () => console.log(`panva oidc-provider (bench): ${issuer}`));
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, () => server.close(() => process.exit(0)));
