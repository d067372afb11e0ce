// A real OpenID provider (node-oidc-provider, OpenID certified) for Nexiom's
// login tests. It listens on loopback only; tests start and stop it.
//
// Configuration comes from the environment:
//   OIDC_PORT            port to listen on (127.0.0.1)
//   OIDC_CLIENTS         JSON list of client metadata (client_id, client_secret,
//                        redirect_uris, post_logout_redirect_uris)
//   OIDC_USERS_FILE      JSON file of accounts, re-read at every login, so a
//                        test can add users while the provider runs:
//                        [{sub, password, email, email_verified, name, roles}]
// The roles claim is shaped like Zitadel's project-roles claim.
import http from 'node:http';
import { readFileSync } from 'node:fs';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

const ROLES_CLAIM = 'urn:zitadel:iam:org:project:roles';
const ROLES_SCOPE = 'urn:zitadel:iam:org:projects:roles';
const port = Number(process.env.OIDC_PORT || 9400);
const issuer = `http://127.0.0.1:${port}`;
const clients = JSON.parse(process.env.OIDC_CLIENTS || '[]');
const usersFile = process.env.OIDC_USERS_FILE;

function loadUsers() {
  return JSON.parse(readFileSync(usersFile, 'utf8'));
}

function findUser(sub) {
  return loadUsers().find((user) => user.sub === sub);
}

const signingKey = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'jwk' });
signingKey.kid = `test-${randomBytes(4).toString('hex')}`;
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

const escape = (text) => String(text).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function loginPage(uid, error) {
  return `<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Sign in · Test IdP</title></head>
<body><h1>Sign in</h1>${error ? `<p role="alert" id="error">${escape(error)}</p>` : ''}
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
      const user = findUser(form.get('login'));
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
