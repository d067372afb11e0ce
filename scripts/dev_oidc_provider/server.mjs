// A real OpenID provider (node-oidc-provider, OpenID certified) on loopback.
// `make up` runs it as the `idp` process, seeded by scripts/dev_idp_seed.py
// with demo users; the login tests start the same server on a free port.
// Production signs in with Zitadel instead.
//
// Configuration comes from the environment:
//   OIDC_PORT            port to listen on (127.0.0.1; default 9400)
//   OIDC_CLIENTS_FILE    JSON file of client metadata (client_id, client_secret,
//                        redirect_uris, post_logout_redirect_uris), read at start;
//                        or OIDC_CLIENTS, the same JSON inline
//   OIDC_USERS_FILE      JSON file of accounts, re-read at every login, so a
//                        test can add users while the provider runs:
//                        [{sub, password, email, email_verified, name, roles}]
// The login form takes a user's sub or email. The roles claim is shaped like
// Zitadel's project-roles claim.
//
// Redirect URIs are exact, as the spec wants, except for a client registered
// with `"nexiom_tenant_hosts": "localhost"`: it also accepts
// http://<one DNS label>.localhost[:port]/oidc/callback/ (and /admin/login/
// after logout), so that a tenant provisioned while `make up` runs can sign in
// without restarting the provider. Only loopback names are allowed there.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider, { errors } from 'oidc-provider';

const ROLES_CLAIM = 'urn:zitadel:iam:org:project:roles';
const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
const TENANT_HOSTS = 'nexiom_tenant_hosts';
const port = Number(process.env.OIDC_PORT || 9400);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(
  process.env.OIDC_CLIENTS_FILE
    ? readFileSync(process.env.OIDC_CLIENTS_FILE, 'utf8')
    : process.env.OIDC_CLIENTS || '[]',
);
const usersFile = process.env.OIDC_USERS_FILE;

function loadUsers() {
  return JSON.parse(readFileSync(usersFile, 'utf8'));
}

function findUser(sub) {
  return loadUsers().find((user) => user.sub === sub);
}

// The login form's "Login": a sub, or else an email that exactly one user has.
function findLogin(login) {
  const users = loadUsers();
  const bySub = users.find((user) => user.sub === login);
  if (bySub) return bySub;
  const wanted = String(login || '').toLowerCase();
  const byEmail = users.filter((user) => String(user.email || '').toLowerCase() === wanted);
  return byEmail.length === 1 ? byEmail[0] : undefined;
}

// "localhost" or a name under it (RFC 6761: always loopback).
const loopbackName = (name) => name === 'localhost' || String(name).endsWith('.localhost');

function tenantUrlAllowed(client, value, path) {
  const base = client[TENANT_HOSTS]; // extra metadata keeps its snake_case name
  if (!base) return false;
  let url;
  try {
    url = new URL(value);
  } catch {
    return false;
  }
  const label = url.hostname.slice(0, -(base.length + 1));
  return url.href === value && url.protocol === 'http:'
    && url.hostname === `${label}.${base}`
    && /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(label)
    && url.username === '' && url.password === ''
    && url.pathname === path && url.search === '' && url.hash === '';
}

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
signingKey.kid = `dev-${randomBytes(4).toString('hex')}`;
signingKey.use = 'sig';
signingKey.alg = 'RS256';

const provider = new Provider(issuer, {
  clients,
  jwks: { keys: [signingKey] },
  cookies: { keys: [randomBytes(32).toString('hex')] },
  scopes: ['openid', 'offline_access', 'email', 'profile', ROLES_SCOPE],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name', 'preferred_username'],
    [ROLES_SCOPE]: [ROLES_CLAIM],
  },
  extraClientMetadata: {
    properties: [TENANT_HOSTS],
    validator(ctx, key, value) {
      if (key === TENANT_HOSTS && value !== undefined && !loopbackName(value)) {
        throw new errors.InvalidClientMetadata(`${TENANT_HOSTS} must be localhost or a name under it`);
      }
    },
  },
  features: {
    devInteractions: { enabled: false },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => false },
  ttl: { Session: 3600, Interaction: 600, Grant: 3600, AccessToken: 600, IdToken: 600 },
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  async findAccount(ctx, sub) {
    const user = findUser(sub);
    if (!user) return undefined;
    return {
      accountId: sub,
      async claims() {
        const claims = {
          sub,
          email: user.email,
          email_verified: Boolean(user.email_verified),
          name: user.name || user.email,
          preferred_username: user.email,
        };
        if (user.roles) claims[ROLES_CLAIM] = user.roles;
        return claims;
      },
    };
  },
  // First-party client: grant the requested scopes without a consent screen.
  async loadExistingGrant(ctx) {
    const grantId = ctx.oidc.result?.consent?.grantId
      || ctx.oidc.session.grantIdFor(ctx.oidc.client.clientId);
    if (grantId) return ctx.oidc.provider.Grant.find(grantId);
    const grant = new ctx.oidc.provider.Grant({
      clientId: ctx.oidc.client.clientId,
      accountId: ctx.oidc.session.accountId,
    });
    grant.addOIDCScope(ctx.oidc.params.scope);
    await grant.save();
    return grant;
  },
});

const { redirectUriAllowed, postLogoutRedirectUriAllowed } = provider.Client.prototype;
provider.Client.prototype.redirectUriAllowed = function allowed(value) {
  return redirectUriAllowed.call(this, value) || tenantUrlAllowed(this, value, '/oidc/callback/');
};
provider.Client.prototype.postLogoutRedirectUriAllowed = function allowed(value) {
  return postLogoutRedirectUriAllowed.call(this, value)
    || tenantUrlAllowed(this, value, '/admin/login/');
};

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, error) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · Nexiom development IdP</title></head>
<body><h1>Sign in</h1><p>Nexiom's local development OpenID provider (production uses Zitadel).</p>${error ? `<p role="alert" id="error">${escape(error)}</p>` : ''}
<form method="post" action="/interaction/${escape(uid)}/login">
<label>Login <input id="login" name="login" autocomplete="username" required></label>
<label>Password <input id="password" name="password" type="password" required></label>
<button id="submit" type="submit">Sign in</button></form></body></html>`;
}

async function readForm(req) {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
}

function send(res, status, html) {
  res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'cache-control': 'no-store' });
  res.end(html);
}

const providerCallback = provider.callback();

const server = http.createServer(async (req, res) => {
  const match = req.url.match(/^\/interaction\/([\w-]+)(\/login)?$/);
  if (!match) return providerCallback(req, res);
  try {
    const details = await provider.interactionDetails(req, res);
    if (req.method === 'GET') return send(res, 200, loginPage(details.uid));
    if (req.method === 'POST' && match[2]) {
      const form = await readForm(req);
      const user = findLogin(form.get('login'));
      if (!user || user.password !== form.get('password')) {
        return send(res, 401, loginPage(details.uid, 'Wrong login or password.'));
      }
      return provider.interactionFinished(req, res, { login: { accountId: user.sub } }, {
        mergeWithLastSubmission: false,
      });
    }
    return send(res, 405, 'method not allowed');
  } catch (err) {
    return send(res, 400, `interaction failed: ${escape(err.message)}`);
  }
});

server.listen(port, '127.0.0.1', () => {
  process.stdout.write(`oidc-provider listening on ${issuer}\n`);
});
