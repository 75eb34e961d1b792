// The operator console (docs/architecture.md, "Operator console"):
//  - `qwenproxy up` watches accounts_dir: a new NAME.toml starts worker NAME
//    (no restart of anything else), a file renamed away stops it with
//    SIGTERM, and the worker drains: its stream in flight finishes; another
//    account's stream in flight across both changes finishes too;
//  - token-expiry and health notices: a token expiring in 1 h produces
//    exactly one `token_expiring` webhook POST, an account turned unhealthy
//    (the mock's 401 fault) one `unhealthy` POST; the webhook URL's path
//    (where Slack/Discord keep their token) is never logged.
// Waits poll with until(), never sleep; the webhook is a Node server on port 0.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync, renameSync } from 'node:fs';
import http from 'node:http';
import { join } from 'node:path';
import { startMock, startStack, chat, sseEvents, until, tempDir, waitHealthy, openStream, ask } from './harness.mjs';

const MODEL = 'qwen3-max';

// {dir}/accounts/NAME.toml, mode 0600, written by rename (as the import does).
function writeAccount(dir, name, text) {
  mkdirSync(join(dir, 'accounts'), { recursive: true, mode: 0o700 });
  const tmp = join(dir, 'accounts', `.${name}.toml.tmp`);
  writeFileSync(tmp, text, { mode: 0o600 });
  renameSync(tmp, join(dir, 'accounts', `${name}.toml`));
}

const fp = (token) => createHash('sha256').update(token).digest('hex').slice(0, 16);
const accountToml = (token) => `token = "${token}"\ncookies = "ssxmod_itna=1"\n`;

async function health(stack) {
  return (await fetch(`${stack.baseUrl}/health`)).json();
}
const account = (h, name) => h.accounts.find((a) => a.name === name);
const parked = (mock, n) => until(async () => (await mock.state()).parked >= n, { what: `${n} parked streams` });

test('an account file dropped into accounts_dir starts its worker; renamed away, it drains and stops', async () => {
  const mock = await startMock();
  const dir = tempDir();
  writeAccount(dir, 'alice', accountToml(mock.token('alice')));
  const stack = await startStack({ mock, accounts: [], dir, env: { LOG_LEVEL: 'info' } });
  try {
    await waitHealthy(stack.baseUrl, { accounts: 1 });
    const pids = { broker: stack.pid('broker'), frontend: stack.pid('frontend'), alice: stack.pid('worker:alice') };
    await mock.hold();
    const a = await openStream(stack, 'alice across the changes');
    await parked(mock, 1);

    // An editor's leftovers never start anything.
    writeFileSync(join(dir, 'accounts', '.bob.toml.swp'), 'x', { mode: 0o600 });
    writeFileSync(join(dir, 'accounts', 'bob.toml~'), 'x', { mode: 0o600 });

    // A second account appears: its worker starts, nothing else restarts.
    const bobToken = mock.token('bob');
    writeAccount(dir, 'bob', accountToml(bobToken));
    await stack.err.waitFor(/event=launcher\.account_added name=bob/);
    await until(async () => account(await health(stack), 'bob')?.health === 'ok', { what: 'bob healthy in /health' });
    assert.ok(stack.pid('worker:bob'), 'the launcher started worker:bob');
    for (const [name, pid] of Object.entries(pids)) {
      assert.equal(stack.pid(name === 'alice' ? 'worker:alice' : name), pid, `${name} was not restarted`);
    }
    assert.equal(stack.out.lines.filter((l) => /started worker:/.test(l)).length, 2, stack.out.lines.join('\n'));

    // Bob serves: alice is busy, so the least-loaded account (bob) gets it.
    const b = await openStream(stack, 'bob before removal');
    await parked(mock, 2);
    const onBob = (await mock.state()).records.find((r) => r.content === 'bob before removal');
    assert.equal(onBob.user_id, 'bob', 'the mock saw bob\'s token');
    assert.equal(onBob.authorization_fp, fp(bobToken));

    // Renamed away (as the console's remove does): SIGTERM, bob drains.
    const fromOut = stack.out.count();
    renameSync(join(dir, 'accounts', 'bob.toml'), join(dir, 'accounts', `bob.toml.removed-${Math.floor(Date.now() / 1000)}`));
    await stack.err.waitFor(/event=launcher\.account_removed name=bob/);
    await stack.err.waitFor(/event=worker\.draining .*account=bob/);
    await mock.release();
    assert.equal(await b.rest(), `You said: ${b.content}`, 'bob\'s stream in flight finished');
    assert.equal(await a.rest(), `You said: ${a.content}`, 'alice\'s stream in flight finished');
    await stack.out.waitFor(/^qwenproxy: worker:bob exited \(code 0\)$/, { from: fromOut });
    await until(async () => !account(await health(stack), 'bob'), { what: 'bob gone from /health' });
    assert.ok(!stack.out.lines.slice(fromOut).some((l) => /started worker:bob/.test(l)), 'bob is not restarted');
    const recs = (await mock.state()).records;
    assert.ok(recs.every((r) => r.outcome === 'finished'), `no stream cut: ${JSON.stringify(recs.map((r) => [r.user_id, r.outcome]))}`);
    assert.equal(await ask(stack, 'after'), 'You said: after');

    // The file comes back: bob is started again.
    writeAccount(dir, 'bob', accountToml(mock.token('bob')));
    await until(async () => account(await health(stack), 'bob')?.health === 'ok', { what: 'bob back in /health' });
    assert.equal(stack.pid('worker:alice'), pids.alice);
  } finally {
    assert.equal((await stack.stop()).code, 0);
    await mock.stop();
  }
});

// A webhook receiver on port 0 that records every POST.
async function startWebhook() {
  const posts = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (c) => { body += c; });
    req.on('end', () => {
      posts.push({ path: req.url, type: req.headers['content-type'], body, json: JSON.parse(body) });
      res.writeHead(204).end();
    });
  });
  await new Promise((r) => server.listen(0, '127.0.0.1', r));
  return { posts, port: server.address().port, stop: () => new Promise((r) => server.close(r)) };
}

test('notices: a token expiring in 1 h is posted once, an account turned unhealthy once', async () => {
  const mock = await startMock();
  const hook = await startWebhook();
  const dir = tempDir();
  const soonToken = mock.token('alice', 3600);
  writeAccount(dir, 'alice', accountToml(soonToken));
  writeAccount(dir, 'bob', accountToml(mock.token('bob')));
  const url = `http://127.0.0.1:${hook.port}/hooks/T0/secret-path-token`;
  const stack = await startStack({ mock, accounts: [], dir, env: { QP_NOTIFY_WEBHOOK_URL: url } });
  try {
    await waitHealthy(stack.baseUrl, { accounts: 2 });
    const expiring = await until(() => hook.posts.find((p) => p.json.kind === 'token_expiring'), { what: 'a token_expiring POST' });
    assert.equal(expiring.path, '/hooks/T0/secret-path-token');
    assert.match(expiring.type, /application\/json/);
    assert.equal(expiring.json.account, 'alice');
    assert.equal(expiring.json.health, 'ok');
    assert.ok(Math.abs(expiring.json.expires_unix_s - (Date.now() / 1000 + 3600)) < 120, JSON.stringify(expiring.json));
    assert.match(expiring.json.text, /Qwen account alice: its session token expires in (59 min|1 h)/);
    assert.equal(expiring.json.content, expiring.json.text);

    // Bob's credentials stop working upstream (401 for his token only).
    await mock.config({ faults: [{ kind: 'unauthorized', scope: 'user', user: 'bob' }] });
    for (let i = 0; i < 10 && account(await health(stack), 'bob').health === 'ok'; i++) {
      assert.equal(await ask(stack, `probe ${i}`), `You said: probe ${i}`);  // failed over to alice
    }
    const unhealthy = await until(() => hook.posts.find((p) => p.json.kind === 'unhealthy'), { what: 'an unhealthy POST' });
    assert.equal(unhealthy.json.account, 'bob');
    assert.equal(unhealthy.json.health, 'credentials_invalid');
    assert.match(unhealthy.json.text, /^Qwen account bob is unhealthy \(credentials_invalid\)/);

    // Ten heartbeats later (2 s by alice's own expiry countdown in /health,
    // heartbeats are 200 ms): still exactly one POST per transition.
    const left = account(await health(stack), 'alice').token_expires_in_s;
    await until(async () => account(await health(stack), 'alice').token_expires_in_s <= left - 2, { what: 'ten heartbeats' });
    assert.equal(hook.posts.filter((p) => p.json.kind === 'token_expiring' && p.json.account === 'alice').length, 1, JSON.stringify(hook.posts.map((p) => p.json)));
    assert.equal(hook.posts.filter((p) => p.json.kind === 'unhealthy' && p.json.account === 'bob').length, 1);
    assert.equal(hook.posts.length, 2, JSON.stringify(hook.posts.map((p) => p.json)));
    for (const p of hook.posts) assert.doesNotMatch(p.body, /eyJ/, 'no token in a notice');
    // The log says what happened and where to, never the URL's path.
    assert.ok(stack.err.lines.some((l) => /event=account\.notice kind=token_expiring account=alice expires_in_s=\d+/.test(l)), stack.err.lines.join('\n'));
    assert.ok(stack.err.lines.some((l) => /event=account\.notice kind=unhealthy account=bob/.test(l)));
    assert.ok(!stack.err.lines.some((l) => l.includes('secret-path-token')), 'the webhook URL is never logged');
  } finally {
    await stack.stop();
    await mock.stop();
    await hook.stop();
  }
});
