// The reference of bench/oidc.py: panva oidc-provider configured like Trousseau's OIDC provider, in
// one node process, for the code -> token + userinfo benchmark.
//
//   node bench/panva/server.mjs CONFIG.json
//
// CONFIG.json (written by bench/oidc.py): {port, issuer, secret, jwks (private JWK set), client
// {client_id, client_secret, redirect_uri}, scopes {scope: [claims]}, accounts {login: {password,
// claims}}, store ("redis" or "memory"), redis_url, prefix (of the run's Redis keys)}.
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
// Storage, as CONFIG's `store` says:
// - "redis": panva's example Redis adapter (oidc-provider's example/adapters/redis.js), through
//   ioredis (bench/panva/package.json, installed by `make bench-oidc`): codes and refresh tokens as
//   hashes (so that `consume` marks them), other models as strings, each with its expiry, a list of
//   keys per grant for revocation, the session uid index. This is the shared store a deployment of
//   several node processes needs, and the goal's reference. Keys are under CONFIG's `prefix`, removed
//   when the process ends.
// - "memory": this process's memory, one Map, with expiry, keyed as the Redis adapter keys it: panva
//   at its fastest, reported beside. oidc-provider's bundled MemoryAdapter is not used: it keeps at
//   most 1000 entries (a round's codes would be evicted before redemption) and rescans every token of
//   a grant on each write, so it slows down as a run goes on.

// Login (the benchmark's own interaction, no page): GET /auth answers 303 to /interaction/UID; a
// POST /interaction/UID/login with `login` and `password` checks them against CONFIG's accounts,
// grants the requested scopes (no consent screen, as Trousseau's operator-registered clients) and
// finishes the interaction; the browser then resumes at /auth/UID and gets its code. Later
// authorization requests of that browser (its `_session` cookie) get a code at once.
// GET /__bench/stats counts what the provider stored (writes and consumptions seen by the adapter, and
// the live keys the store holds now), so the benchmark can check the work was done.

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
const { store: store_kind = 'memory', redis_url: redis_url = 'redis://127.0.0.1:6379/0', prefix = 'panva-bench:' } = config;

// --- Storage ----------------------------------------------------------------------------------------
const stats = { upserts: {}, consumed: {} };
const count = (table, model) => { table[model] = (table[model] || 0) + 1; };
const now = () => Date.now();
const epoch = () => Math.floor(Date.now() / 1000);
const grantable = new Set(['AccessToken', 'AuthorizationCode', 'RefreshToken']);
const consumable = new Set(['AuthorizationCode', 'RefreshToken']);

const store = new Map(); // key -> {payload, expiresAt}
const grants = new Map(); // grantId -> Set of keys

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
    if (payload.uid) store.set(`uid:${payload.uid}`, { payload: id, expiresAt });
    if (grantable.has(this.model) && payload.grantId) {
      let members = grants.get(payload.grantId);
      if (members === undefined) grants.set(payload.grantId, (members = new Set()));
      members.add(key);
    }
    count(stats.upserts, this.model);
  }

  async find(id) {
    return live(this.key(id))?.payload;
  }

  async findByUid(uid) {
    const id = live(`uid:${uid}`)?.payload;
    return id === undefined ? undefined : this.find(id);
  }

  async findByUserCode() {
    return undefined; // no device flow
  }

  async consume(id) {
    const entry = live(this.key(id));
    if (entry) entry.payload.consumed = epoch();
    count(stats.consumed, this.model);
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

// panva's example Redis adapter, as published, with the run's key prefix and the benchmark's counters.
let redis;
const prefixed = (key) => `${prefix}${key}`;

class RedisAdapter {
  constructor(model) {
    this.model = model;
  }

  key(id) {
    return prefixed(`${this.model}:${id}`);
  }

  async upsert(id, payload, expiresIn) {
    const key = this.key(id);
    const multi = redis.multi();
    if (consumable.has(this.model)) {
      multi.hset(key, { payload: JSON.stringify(payload) });
    } else {
      multi.set(key, JSON.stringify(payload));
    }
    if (expiresIn) multi.expire(key, expiresIn);
    if (grantable.has(this.model) && payload.grantId) {
      const grantKey = prefixed(`grant:${payload.grantId}`);
      multi.rpush(grantKey, key);
      // if you're seeing grant key lists growing out of acceptable proportions consider using LTRIM
      const ttl = await redis.ttl(grantKey);
      if (expiresIn > ttl) multi.expire(grantKey, expiresIn);
    }
    if (payload.uid) {
      const uidKey = prefixed(`uid:${payload.uid}`);
      multi.set(uidKey, id);
      multi.expire(uidKey, expiresIn);
    }
    await multi.exec();
    count(stats.upserts, this.model);
  }

  async find(id) {
    const data = consumable.has(this.model) ? await redis.hgetall(this.key(id)) : await redis.get(this.key(id));
    if (!data || (typeof data === 'object' && Object.keys(data).length === 0)) return undefined;
    if (typeof data === 'string') return JSON.parse(data);
    const { payload, ...rest } = data;
    return { ...rest, ...JSON.parse(payload) };
  }

  async findByUid(uid) {
    const id = await redis.get(prefixed(`uid:${uid}`));
    return id === null ? undefined : this.find(id);
  }

  async findByUserCode() {
    return undefined; // no device flow
  }

  async destroy(id) {
    await redis.del(this.key(id));
  }

  async revokeByGrantId(grantId) {
    const multi = redis.multi();
    const grantKey = prefixed(`grant:${grantId}`);
    const tokens = await redis.lrange(grantKey, 0, -1);
    tokens.forEach((token) => multi.del(token));
    multi.del(grantKey);
    await multi.exec();
  }

  async consume(id) {
    await redis.hset(this.key(id), 'consumed', epoch());
    count(stats.consumed, this.model);
  }
}

// What the store holds now, for the benchmark's check (untimed): live keys per model, and consumed codes.
async function holding() {
  if (store_kind !== 'redis') {
    const held = {};
    for (const [key, entry] of store) {
      const model = key.split(':')[0];
      if (live(key)) held[model] = (held[model] || 0) + (model === 'AuthorizationCode' && !entry.payload.consumed ? 0 : 1);
    }
    return held;
  }
  const held = {};
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      const model = key.slice(prefix.length).split(':')[0];
      if (model === 'AuthorizationCode' && !(await redis.hget(key, 'consumed'))) continue;
      held[model] = (held[model] || 0) + 1;
    }
  } while (cursor !== '0');
  return held;
}

async function dropKeys() {
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}*`, 'COUNT', 1000);
    cursor = next;
    if (keys.length) await redis.del(...keys);
  } while (cursor !== '0');
}

if (store_kind === 'redis') {
  const { default: Redis } = await import('ioredis');
  redis = new Redis(redis_url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
}

// --- The provider -------------------------------------------------------------------------------------
const hmac = (text) => crypto.createHmac('sha256', secret).update(text).digest('hex');

const provider = new Provider(issuer, {
  adapter: store_kind === 'redis' ? RedisAdapter : MapAdapter,
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
    if (url.pathname === '/__bench/stats') return send(res, 200, { ...stats, store: store_kind, held: await holding() });
    return handle(req, res);
  } catch (error) {
    console.error(error);
    return send(res, 500, { error: String(error.message) });
  }
});

server.listen(port, '127.0.0.1', () => console.log(`panva oidc-provider (bench, ${store_kind} store): ${issuer}`));
async function stop() {
  server.close();
  if (redis !== undefined) {
    await dropKeys().catch((error) => console.error('cannot drop the run\'s keys', error));
    redis.disconnect();
  }
  process.exit(0);
}
for (const signal of ['SIGTERM', 'SIGINT']) process.on(signal, stop);
