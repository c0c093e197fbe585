// A certified OpenID Provider (npm oidc-provider) for the tests, on 127.0.0.1 only.
// Usage: node provider.js PORT REDIRECT_URI
// One static confidential client (PKCE required) and three accounts; the development
// interactions (a login form where the account id is typed, then consent) stand in for a
// mission's sign-in page. Prints "ready ISSUER" on standard output once listening.
import Provider from 'oidc-provider';

const [port, redirectUri] = process.argv.slice(2);
const issuer = `http://127.0.0.1:${port}`;

const accounts = {
  director: { email: 'KBoateng@mission.example.org', email_verified: true },
  unverified: { email: 'kboateng@mission.example.org', email_verified: false },
  outsider: { email: 'someone@elsewhere.example.net', email_verified: true },
};

const provider = new Provider(issuer, {
  clients: [{
    client_id: 'isp-lifecycle-test',
    client_secret: 'isp-lifecycle-test-secret-not-used-anywhere-else',
    redirect_uris: [redirectUri],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  pkce: { required: () => true },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  features: { devInteractions: { enabled: true } },
  cookies: { keys: ['isp-lifecycle-test-cookie-key'] },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return { accountId: id, async claims() { return { sub: id, ...account }; } };
  },
});

const server = provider.listen(Number(port), '127.0.0.1', () => {
  process.stdout.write(`ready ${issuer}\n`);
});
process.on('SIGTERM', () => server.close(() => process.exit(0)));
