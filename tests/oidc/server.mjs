// An OpenID provider on loopback for elearn's SSO tests: panva's oidc-provider with its own
// development login and consent pages. Started by tests/web/oidc_provider.py with a JSON file:
// {"port": n, "issuer": "...", "clients": [...], "users_file": "users.json", "id_token_ttl": s}
// It prints "listening <port>" on stdout once it answers.
import fs from 'node:fs';
import Provider from 'oidc-provider';

const cfg = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
// Read at every sign-in, so that a test can change a user's groups between two sign-ins.
const users = () => JSON.parse(fs.readFileSync(cfg.users_file, 'utf8'));

const provider = new Provider(cfg.issuer, {
  clients: cfg.clients,
  pkce: { required: () => true },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  cookies: { keys: ['elearn-test-cookie-key'] },
  scopes: ['openid', 'email', 'profile', 'groups', 'offline_access'],
  claims: {
    openid: ['sub'],
    email: ['email', 'email_verified'],
    profile: ['name'],
    groups: ['groups', 'tid'],
  },
  // email, name and groups in the ID token itself, not only at userinfo.
  conformIdTokenClaims: false,
  ttl: { IdToken: cfg.id_token_ttl || 3600, AccessToken: 3600, Interaction: 600, Session: 3600, Grant: 3600 },
  async findAccount(ctx, id) {
    const claims = users()[id];
    if (!claims) return undefined;
    return { accountId: id, async claims() { return { sub: claims.sub || id, ...claims }; } };
  },
  // The test suite's loopback issuer is plain HTTP.
  renderError(ctx, out) {
    ctx.type = 'json';
    ctx.body = out;
  },
});
provider.proxy = false;

const server = provider.listen(cfg.port, '127.0.0.1', () => {
  console.log(`listening ${server.address().port}`);
});
