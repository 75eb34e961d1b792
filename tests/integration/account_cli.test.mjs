// `qwenproxy account import|list|status` as an operator runs them: real
// binary, temp directories, a real stack for `status`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, rmSync, statSync, writeFileSync, appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, startMock, startStack, tempDir } from './harness.mjs';

const QWENPROXY = join(BIN, 'qwenproxy');

const b64url = (s) => Buffer.from(s).toString('base64url');
// A JWT shaped like chat.qwen.ai's; only `exp` matters to the importer.
function jwt(expUnixS, id = 'user-1') {
  return `${b64url('{"alg":"HS256","typ":"JWT"}')}.${b64url(JSON.stringify({ id, last_password_change: 1, exp: expUnixS }))}.${b64url('not-a-real-signature')}`;
}
const now = () => Math.floor(Date.now() / 1000);

function qp(args, { input, env = {} } = {}) {
  const clean = { ...process.env };
  for (const k of Object.keys(clean)) if (k.startsWith('QWEN_') || k.startsWith('QP_')) delete clean[k];
  const r = spawnSync(QWENPROXY, args, {
    input, encoding: 'utf8', env: { ...clean, ...env }, maxBuffer: 1 << 20,
  });
  // EPIPE: the command stopped reading a huge stdin early, which is the point.
  if (r.error && r.error.code !== 'EPIPE') throw r.error;
  return r;
}

function curlFor(token, { umid = 'T2gAumidSECRET==' } = {}) {
  return `curl 'https://chat.qwen.ai/api/v2/chat/completions?chat_id=c1' \\\n` +
    `  -H 'authorization: Bearer ${token}' \\\n` +
    `  -H 'bx-umidtoken: ${umid}' \\\n` +
    `  -H 'bx-v: 2.5.31' \\\n` +
    `  -b 'acw_tc=ACWSECRET; token=${token}; ssxmod_itna=ITNASECRET' \\\n` +
    `  -H 'user-agent: Mozilla/5.0 Test' \\\n` +
    `  --data-raw $'{"stream":true}'\n`;
}

function assertNoSecrets(text, token) {
  for (const s of [token, 'T2gAumidSECRET', 'ACWSECRET', 'ITNASECRET']) {
    assert.ok(!text.includes(s), `output shows a secret:\n${text}`);
  }
}

test('import a cURL copy, then list it; the output never shows a secret', () => {
  const dir = tempDir('qp-acct-');
  try {
    const token = jwt(now() + 7 * 86400 - 600);
    const from = join(dir, 'alice.curl');
    writeFileSync(from, curlFor(token));
    const accounts = join(dir, 'accounts');
    const r = qp(['account', 'import', 'alice', '--from', from, '--dir', accounts]);
    assert.equal(r.status, 0, r.stderr);
    assertNoSecrets(r.stdout + r.stderr, token);
    assert.match(r.stdout, /account 'alice' written to .*alice\.toml \(mode 0600\)/);
    assert.match(r.stdout, /token: +from the Authorization header, expires .* \(in 6 d 23 h\)/);
    assert.match(r.stdout, /cookies: +2 besides the token \(acw_tc, ssxmod_itna\)/);
    const file = join(accounts, 'alice.toml');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.equal(statSync(accounts).mode & 0o777, 0o700);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.includes(`token = "${token}"`));
    assert.ok(text.includes('cookies = "acw_tc=ACWSECRET; ssxmod_itna=ITNASECRET"'));

    const list = qp(['account', 'list', '--dir', accounts]);
    assert.equal(list.status, 0, list.stdout + list.stderr);
    assert.match(list.stdout, /^alice +ok +expires .*\(in 6 d 23 h\) +.*alice\.toml$/m);
    assertNoSecrets(list.stdout, token);

    // A config file's accounts/ directory is the default.
    const config = join(dir, 'qwenproxy.toml');
    writeFileSync(config, '[frontend]\nport = 0\n');
    const viaConfig = qp(['account', 'list'], { env: { QP_CONFIG: config } });
    assert.equal(viaConfig.status, 0, viaConfig.stderr);
    assert.match(viaConfig.stdout, /^alice +ok/m);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('re-import needs --force and keeps email, password, proxy and capacity', () => {
  const dir = tempDir('qp-acct-');
  try {
    const first = jwt(now() + 86400 * 3);
    const r1 = qp(['account', 'import', 'bob', '--dir', dir], { input: curlFor(first) });
    assert.equal(r1.status, 0, r1.stderr);
    const file = join(dir, 'bob.toml');
    appendFileSync(file, 'email = "bob@example.com"\npassword = "pw"\nproxy = "socks5h://127.0.0.1:1080"\n');
    writeFileSync(file, readFileSync(file, 'utf8').replace('capacity = 4', 'capacity = 7'));
    const second = jwt(now() + 86400 * 6, 'user-2');
    const cookieHeader = `Cookie: a=1; token=${second}\n`;
    const again = qp(['account', 'import', 'bob', '--dir', dir], { input: cookieHeader });
    assert.equal(again.status, 1);
    assert.match(again.stderr, /already exists: add --force/);
    assert.ok(readFileSync(file, 'utf8').includes(first), 'the old file is untouched');

    const forced = qp(['account', 'import', 'bob', '--dir', dir, '--force'], { input: cookieHeader });
    assert.equal(forced.status, 0, forced.stderr);
    assert.match(forced.stdout, /kept from the previous file: email password proxy capacity/);
    const text = readFileSync(file, 'utf8');
    assert.ok(text.includes(`token = "${second}"`));
    assert.ok(!text.includes(first));
    assert.match(text, /^email = "bob@example.com"$/m);
    assert.match(text, /^proxy = "socks5h:\/\/127.0.0.1:1080"$/m);
    assert.match(text, /^capacity = 7$/m);
    assert.equal(statSync(file).mode & 0o777, 0o600);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('hostile input: clear errors, exit 1, nothing written', () => {
  const dir = tempDir('qp-acct-');
  try {
    const bad = (input, re, { args = [], code = 1 } = {}) => {
      const r = qp(['account', 'import', 'eve', '--dir', dir, ...args], { input });
      assert.equal(r.status, code, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stderr, re);
      assert.ok(!existsSync(join(dir, 'eve.toml')), 'no file written');
      return r;
    };
    bad("curl 'https://chat.qwen.ai/api/v2/chats/new' -b 'acw_tc=1' -H 'bx-umidtoken: u'\n", /has no session token/);
    const expired = jwt(now() - 3600);
    const r = bad(curlFor(expired), /expired .*ago\): log in to chat.qwen.ai again/);
    assertNoSecrets(r.stderr, expired);
    bad(Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 97 + 13) % 256)), /not a Cookie header or cookie string/);
    bad('{"log": {"entries": [', /not a valid HAR file/);
    bad(`a=${'x'.repeat(2 << 20)}`, /too large for a cURL command or headers/);
    bad(Buffer.alloc(65 << 20, 0x61), /larger than 64 MiB/);
    bad('', /the input is empty/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid names and options are usage errors (exit 2)', () => {
  const dir = tempDir('qp-acct-');
  try {
    const r = qp(['account', 'import', '../evil', '--dir', dir], { input: curlFor(jwt(now() + 999)) });
    assert.equal(r.status, 2);
    assert.match(r.stderr, /invalid account name/);
    const f = qp(['account', 'import', 'x', '--dir', dir, '--format', 'xml'], { input: 'a=1' });
    assert.equal(f.status, 2);
    const noDir = qp(['account', 'import', 'x'], { input: 'a=1', env: { HOME: dir } });
    assert.equal(noDir.status, 2);
    assert.match(noDir.stderr, /no accounts directory: pass --dir DIR/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('list: a file others can read is invalid (with the fix), the others stay usable', () => {
  const dir = tempDir('qp-acct-');
  try {
    const token = jwt(now() + 86400 * 2);
    assert.equal(qp(['account', 'import', 'good', '--dir', dir], { input: curlFor(token) }).status, 0);
    assert.equal(qp(['account', 'import', 'open', '--dir', dir], { input: curlFor(token) }).status, 0);
    chmodSync(join(dir, 'open.toml'), 0o644);
    writeFileSync(join(dir, 'soon.toml'), `token = "${jwt(now() + 3600)}"\n`, { mode: 0o600 });
    const r = qp(['account', 'list', '--dir', dir]);
    assert.equal(r.status, 1, r.stdout);
    assert.match(r.stdout, /^good +ok /m);
    assert.match(r.stdout, /^open +invalid /m);
    assert.match(r.stdout, /^soon +expiring +expires .*\(in (59 min|1 h 0 min)\)/m);
    assert.ok(r.stdout.includes(`run \`chmod 600 ${join(dir, 'open.toml')}\``), r.stdout);
    assertNoSecrets(r.stdout, token);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('status asks the running service and finds it through frontend.url', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock, accounts: [{ name: 'alice', user: 'alice' }, { name: 'bob', user: 'bob' }] });
  try {
    assert.ok(existsSync(join(stack.dir, 'run', 'frontend.url')), 'qwenproxy up recorded its URL');
    // The config says port = 0: only frontend.url can lead status to the service.
    const r = qp(['account', 'status', '--config', stack.configPath]);
    assert.equal(r.status, 0, r.stdout + r.stderr);
    assert.ok(r.stdout.startsWith(`qwenproxy: service ok at ${stack.baseUrl}: broker connected, 2 worker(s)`), r.stdout);
    assert.match(r.stdout, /^alice +ok +0\/4 +expires in (6 d 23 h|7 d 0 h)/m);
    assert.match(r.stdout, /^bob +ok +0\/4 /m);
    const byUrl = qp(['account', 'status', '--url', stack.baseUrl]);
    assert.equal(byUrl.status, 0, byUrl.stderr);
  } finally {
    assert.equal((await stack.stop()).code, 0);
    await mock.stop();
  }
  const down = qp(['account', 'status', '--url', stack.baseUrl, '--timeout-ms', '2000']);
  assert.equal(down.status, 3, down.stdout);
  assert.match(down.stderr, /cannot reach the service/);
});
