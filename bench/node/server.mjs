// The Node.js peer of `make bench`: the authenticated Hello as a Node team
// would write it from the libraries' READMEs, with express for routing and
// jose for the token (createRemoteJWKSet on the tenant's jwks_uri, and
// jwtVerify with the issuer, audience and algorithm pinned), plus the tid
// and scp checks the handler makes. One JSON request line per request on
// stdout, as the handler and the Go peer write.
//
// Configuration (environment): PORT, JWKS_URL, ISSUER, AUDIENCES
// (comma-separated), TENANT_ID.
import express from 'express';
import { createRemoteJWKSet, jwtVerify } from 'jose';

const JWKS = createRemoteJWKSet(new URL(process.env.JWKS_URL));
const ISSUER = process.env.ISSUER;
const AUDIENCES = process.env.AUDIENCES.split(',');
const TENANT = process.env.TENANT_ID;

const app = express();
app.disable('x-powered-by');

app.use((req, res, next) => {
  const began = process.hrtime.bigint();
  res.on('finish', () => {
    const line = {
      time: new Date().toISOString(), level: 'INFO', msg: 'request',
      method: req.method, path: req.path, status: res.statusCode,
      duration: Number(process.hrtime.bigint() - began),
    };
    if (res.locals.claims) {
      line.oid = res.locals.claims.oid;
      line.tid = res.locals.claims.tid;
    }
    process.stdout.write(JSON.stringify(line) + '\n');
  });
  next();
});

async function bearer(req, res, next) {
  const h = req.get('authorization') || '';
  if (!h.startsWith('Bearer ')) {
    res.status(401).set('WWW-Authenticate', 'Bearer').type('text/plain').send('missing bearer token');
    return;
  }
  let payload;
  try {
    ({ payload } = await jwtVerify(h.slice(7), JWKS, {
      algorithms: ['RS256'], issuer: ISSUER, audience: AUDIENCES,
      requiredClaims: ['exp'], clockTolerance: 300,
    }));
  } catch {
    payload = undefined;
  }
  if (!payload || payload.tid !== TENANT) {
    res.status(401).set('WWW-Authenticate', 'Bearer error="invalid_token"').type('text/plain').send('invalid token');
    return;
  }
  if (typeof payload.scp !== 'string' || !payload.scp.split(' ').includes('user_impersonation')) {
    res.status(403).set('WWW-Authenticate', 'Bearer error="insufficient_scope", scope="user_impersonation"').type('text/plain').send('insufficient scope');
    return;
  }
  res.locals.claims = payload;
  next();
}

function hello(req, res) {
  const name = req.query.name || (req.body && req.body.name);
  res.type('text/plain');
  if (!name) {
    res.send('This HTTP triggered function executed successfully. Pass a name in the query string or in the request body for a personalized response.');
    return;
  }
  res.send(`Hello, ${name}. This HTTP triggered function executed successfully.`);
}

app.get('/api/Hello', bearer, hello);
app.post('/api/Hello', bearer, express.json({ limit: '64kb' }), hello);

const server = app.listen(Number(process.env.PORT), '127.0.0.1');
process.on('SIGTERM', () => server.close(() => process.exit(0)));
