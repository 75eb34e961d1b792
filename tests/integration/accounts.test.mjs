// Accounts through the whole stack (launcher, frontend, broker, one worker per
// account file) against mock-qwen:
//  - three accounts, one rate-limited mid-run: its streams in flight finish,
//    new requests go to the others, no client request fails;
//  - rotating the credentials of a busy worker (its account file replaced,
//    or the config edited and SIGHUP): no stream drops, later requests carry
//    the new token (the mock records a fingerprint of it);
//  - expired, malformed and world-readable accounts: the service starts, the
//    accounts show as credentials_invalid with the reason in /health, the
//    good one serves; a fixed file is picked up;
//  - sign-in renewal with email and password, the token kept across a restart;
//  - the account's outbound proxy.
// Streams are held in flight with the mock's hold/release; waits poll with
// until(), never sleep.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, renameSync, readFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { startMock, startStack, chat, sseEvents, until, tempDir, waitHealthy, openStream, ask } from './harness.mjs';

const MODEL = 'qwen3-max';
const DAY = 24 * 3600;
const fp = (token) => createHash('sha256').update(token).digest('hex').slice(0, 16);

// Writes {dir}/accounts/NAME.toml (mode 0600 unless given) by rename, like
// `qwenproxy account import --force`.
function writeAccount(dir, name, text, mode = 0o600) {
  mkdirSync(join(dir, 'accounts'), { recursive: true, mode: 0o700 });
  const tmp = join(dir, 'accounts', `.${name}.tmp`);
  writeFileSync(tmp, text, { mode });
  renameSync(tmp, join(dir, 'accounts', `${name}.toml`));
}

const accountToml = (token, extra = '') => `token = "${token}"\ncookies = "ssxmod_itna=1"\n${extra}`;

async function health(stack) {
  return (await fetch(`${stack.baseUrl}/health`)).json();
}

const account = (h, name) => h.accounts.find((a) => a.name === name);

// Starts a stack whose accounts are files in {dir}/accounts (the default
// accounts_dir next to the config file); `files` maps name → content.
async function fileStack(mock, files, { healthy = Object.keys(files).length, modes = {} } = {}) {
  const dir = tempDir();
  for (const [name, text] of Object.entries(files)) writeAccount(dir, name, text, modes[name]);
  const stack = await startStack({ mock, accounts: [], dir });
  await waitHealthy(stack.baseUrl, { accounts: healthy });
  return stack;
}

const parked = (mock, n) => until(async () => ((await mock.state()).parked >= n ? true : false), { what: `${n} parked streams` });

test('three accounts: one rate-limited mid-run; its streams finish, new requests go to the others, none fails', async () => {
  const mock = await startMock();
  const files = {};
  for (const name of ['alice', 'bob', 'carol']) files[name] = accountToml(mock.token(name), 'capacity = 6\n');
  const stack = await fileStack(mock, files);
  try {
    await mock.hold();
    const first = [];
    for (let i = 0; i < 6; i++) first.push(await openStream(stack, `first ${i}`));
    await parked(mock, 6);
    const before = (await mock.state()).records;
    const onAlice = before.filter((r) => r.user_id === 'alice');
    assert.ok(onAlice.length >= 1, `alice serves some of the first streams: ${before.map((r) => r.user_id)}`);

    // Alice runs out of quota while her streams are in flight.
    await mock.config({ add_faults: [{ kind: 'rate_limited', scope: 'user', user: 'alice', num: 1 }] });
    const second = [];
    for (let i = 0; i < 6; i++) second.push(await openStream(stack, `second ${i}`));
    await parked(mock, 12);
    await mock.release();

    const texts = await Promise.all([...first, ...second].map((s) => s.rest()));
    for (let i = 0; i < texts.length; i++) {
      assert.equal(texts[i], `You said: ${[...first, ...second][i].content}`);
    }
    const st = await mock.state();
    const recs = st.records;
    for (const r of recs.filter((x) => x.content.startsWith('first'))) assert.equal(r.outcome, 'finished', `${r.user_id} ${r.content}`);
    const secondDone = recs.filter((r) => r.content.startsWith('second') && r.outcome === 'finished');
    assert.equal(secondDone.length, 6);
    for (const r of secondDone) assert.notEqual(r.user_id, 'alice');
    const rejected = recs.filter((r) => r.user_id === 'alice' && r.content.startsWith('second'));
    // The least-loaded account gets a new request, so alice is asked once,
    // and only once: then the broker knows she is limited.
    assert.equal(rejected.length, 1, 'alice is asked exactly once after her limit');
    assert.equal(rejected[0].error_code, 'RateLimited');
    assert.equal(st.completions_aborted + st.completions_error, 0);
    // Alice's streams that finished after her limit do not make her healthy again.
    await until(async () => account(await health(stack), 'alice').health === 'rate_limited', { what: 'alice rate_limited in /health' });
    const h = await health(stack);
    assert.equal(account(h, 'bob').health, 'ok');
    assert.equal(account(h, 'carol').health, 'ok');
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('rotating a busy worker\'s account file: no stream drops, later requests use the new token', async () => {
  const mock = await startMock();
  const oldToken = mock.token('alice');
  const stack = await fileStack(mock, {
    alice: accountToml(oldToken),
    bob: accountToml(mock.token('bob')),
  });
  try {
    await mock.hold();
    const streams = [];
    for (let i = 0; i < 4; i++) streams.push(await openStream(stack, `before rotation ${i}`));
    await parked(mock, 4);
    const held = (await mock.state()).records.filter((r) => r.user_id === 'alice');
    assert.ok(held.length >= 1, 'alice has streams in flight');
    for (const r of held) {
      assert.equal(r.authorization_fp, fp(oldToken));
      assert.equal(r.token_cookie_fp, fp(oldToken));
    }
    const oldLeft = account(await health(stack), 'alice').token_expires_in_s;

    // A fresh session for the same user (a later expiry, so another token).
    const newToken = mock.token('alice', 7 * DAY + 5000);
    assert.notEqual(newToken, oldToken);
    writeAccount(stack.dir, 'alice', accountToml(newToken));
    await until(async () => account(await health(stack), 'alice').token_expires_in_s > oldLeft + 2500, { what: 'the new token in /health' });

    await mock.release();
    for (const s of streams) assert.equal(await s.rest(), `You said: ${s.content}`);
    for (let i = 0; i < 4; i++) await ask(stack, `after rotation ${i}`);
    const recs = (await mock.state()).records;
    assert.ok(recs.every((r) => r.outcome === 'finished'), 'no stream dropped, no request failed');
    const after = recs.filter((r) => r.user_id === 'alice' && r.content.startsWith('after'));
    assert.ok(after.length >= 1, 'alice serves again after the rotation');
    for (const r of after) {
      assert.equal(r.authorization_fp, fp(newToken));
      assert.equal(r.token_cookie_fp, fp(newToken));
    }
    assert.equal(account(await health(stack), 'alice').health, 'ok');
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('SIGHUP reloads credentials edited in the config file, with a stream in flight', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock });
  try {
    const config = readFileSync(stack.configPath, 'utf8');
    const oldToken = config.match(/token=([^;"]+)/)[1];
    await mock.hold();
    const s = await openStream(stack, 'held across SIGHUP');
    await parked(mock, 1);
    const oldLeft = account(await health(stack), 'alice').token_expires_in_s;
    const newToken = mock.token('alice', 7 * DAY + 5000);
    writeFileSync(stack.configPath, config.replace(oldToken, newToken), { mode: 0o600 });
    stack.proc.kill('SIGHUP');  // the launcher forwards it to the workers
    await until(async () => account(await health(stack), 'alice').token_expires_in_s > oldLeft + 2500, { what: 'the new token in /health' });
    await mock.release();
    assert.equal(await s.rest(), 'You said: held across SIGHUP');
    await ask(stack, 'after SIGHUP');
    const recs = (await mock.state()).records;
    assert.equal(recs.length, 2);
    assert.equal(recs[0].authorization_fp, fp(oldToken));
    assert.equal(recs[0].outcome, 'finished');
    assert.equal(recs[1].authorization_fp, fp(newToken));
    assert.equal(recs[1].token_cookie_fp, fp(newToken));
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('expired, malformed and world-readable accounts: the service starts, they show as unhealthy, the good one serves', async () => {
  const mock = await startMock();
  const stack = await fileStack(mock, {
    alice: accountToml(mock.token('alice')),
    bob: accountToml(mock.token('bob', -3600)),
    carol: 'token = "this is not a token"\n',
    dave: accountToml(mock.token('dave')),
  }, { healthy: 1, modes: { dave: 0o644 } });
  try {
    const h = await until(async () => {
      const x = await health(stack);
      return x.accounts.length === 4 ? x : false;
    }, { what: 'four accounts in /health' });
    assert.equal(h.status, 'degraded');
    assert.equal(account(h, 'alice').health, 'ok');
    for (const name of ['bob', 'carol', 'dave']) assert.equal(account(h, name).health, 'credentials_invalid', name);
    assert.match(account(h, 'bob').detail, /expired/);
    assert.equal(account(h, 'bob').token_expiring_soon, true);
    assert.match(account(h, 'carol').detail, /not a JWT/);
    assert.doesNotMatch(account(h, 'carol').detail, /this is not a token/, 'values are never echoed');
    assert.match(account(h, 'dave').detail, /chmod 600/);
    assert.equal(account(h, 'alice').detail, undefined);
    assert.doesNotMatch(JSON.stringify(h), /eyJ/, 'no token in /health');

    for (let i = 0; i < 6; i++) await ask(stack, `served despite bad accounts ${i}`);
    const recs = (await mock.state()).records;
    assert.equal(recs.length, 6, 'the bad accounts never reach the upstream');
    for (const r of recs) assert.equal(r.user_id, 'alice');

    // Fixing a file is picked up without a restart.
    writeAccount(stack.dir, 'carol', accountToml(mock.token('carol')));
    await until(async () => account(await health(stack), 'carol').health === 'ok', { what: 'carol fixed' });
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('email and password: the worker signs in before the token expires and keeps the new token across a restart', async () => {
  const mock = await startMock();
  const USER = '00000000-0000-4000-8000-000000000001';  // the mock's test1@example.com
  const soon = mock.token(USER, 3600);  // less than 24 h left
  const login = 'email = "test1@example.com"\npassword = "password1"\n';
  const stack = await fileStack(mock, { alice: accountToml(soon, login) });
  let restarted;
  try {
    await until(async () => account(await health(stack), 'alice').token_expires_in_s > 6 * DAY, { what: 'a renewed token' });
    const h = await health(stack);
    assert.equal(account(h, 'alice').token_expiring_soon, false);
    assert.equal((await mock.state()).signins, 1);
    const saved = join(stack.dir, 'state', 'accounts', 'alice.token');
    assert.equal(statSync(saved).mode & 0o777, 0o600);
    const savedToken = readFileSync(saved, 'utf8').match(/token = "([^"]+)"/)[1];
    assert.notEqual(savedToken, soon);
    await ask(stack, 'with the renewed token');
    const rec = (await mock.state()).records.at(-1);
    assert.equal(rec.user_id, USER);
    assert.equal(rec.authorization_fp, fp(savedToken));
    assert.equal(rec.token_cookie_fp, fp(savedToken));

    await stack.stop({ keepDir: true });
    await mock.reset();
    restarted = await startStack({ mock, accounts: [], dir: stack.dir });
    await waitHealthy(restarted.baseUrl, { accounts: 1 });
    assert.ok(account(await health(restarted), 'alice').token_expires_in_s > 6 * DAY);
    await ask(restarted, 'after a restart');
    const st = await mock.state();
    assert.equal(st.signins, 0, 'the saved token is used, no new sign-in');
    assert.equal(st.records.at(-1).authorization_fp, fp(savedToken));
  } finally {
    await (restarted ?? stack).stop();
    await mock.stop();
  }
});

test('a wrong password: the account is unhealthy with the reason, nothing else breaks', async () => {
  const mock = await startMock();
  const stack = await fileStack(mock, {
    alice: accountToml(mock.token('alice')),
    bob: 'email = "test2@example.com"\npassword = "wrong"\n',
  }, { healthy: 1 });
  try {
    const bob = await until(async () => {
      const b = account(await health(stack), 'bob');
      return b && /signing in failed/.test(b.detail ?? '') ? b : false;
    }, { what: 'bob\'s failed sign-in in /health' });
    assert.equal(bob.health, 'credentials_invalid');
    assert.match(bob.detail, /refused the email or password/);
    assert.doesNotMatch(bob.detail, /wrong/);
    await ask(stack, 'alice still serves');
    assert.equal((await mock.state()).signins, 0);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('an account\'s proxy carries its upstream requests', async () => {
  const mock = await startMock();
  const seen = [];
  const proxy = http.createServer((req, res) => {
    const u = new URL(req.url);  // absolute-form: a forward proxy request
    seen.push(`${req.method} ${u.pathname}`);
    const up = http.request({ host: u.hostname, port: u.port, path: u.pathname + u.search, method: req.method, headers: req.headers }, (ur) => {
      res.writeHead(ur.statusCode, ur.headers);
      ur.pipe(res);
    });
    up.on('error', () => res.destroy());
    req.pipe(up);
  });
  await new Promise((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  const stack = await fileStack(mock, {
    alice: accountToml(mock.token('alice'), `proxy = "http://127.0.0.1:${proxy.address().port}"\n`),
  });
  try {
    assert.equal(await ask(stack, 'through the proxy'), 'You said: through the proxy');
    assert.ok(seen.includes('POST /api/v2/chats/new'), seen.join(', '));
    assert.ok(seen.includes('POST /api/v2/chat/completions'), seen.join(', '));
    assert.equal((await mock.state()).records.at(-1).outcome, 'finished');
  } finally {
    await stack.stop();
    await mock.stop();
    proxy.closeAllConnections();
    await new Promise((resolve) => proxy.close(resolve));
  }
});
