// Recording and replay of upstream sessions (docs/recording.md):
//  - a real stack records a session against the mock; no secret of the
//    account file (nor any 8-byte piece of one, nor the JWT's user id) is in
//    the recording, which is private (0600) and well-formed;
//  - the same session, replayed by `mock-qwen --replay`, gives the client
//    the same answers (fresh recording, and the committed one in
//    tests/testdata/recordings/session.jsonl with its expected answers);
//  - the captured upstream shapes (tests/testdata/recordings/captures.jsonl)
//    replay through the real stack;
//  - an unmatched request gets a JSON 500 from the replay at once.
// QP_RECORD_REGEN=1 rewrites session.jsonl and session.expected.json.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { BIN, chat, sseEvents, startMock, startStack, tempDir, until, waitHealthy } from './harness.mjs';

const RECORDINGS = new URL('../testdata/recordings/', import.meta.url).pathname;

function readRecording(path) {
  return readFileSync(path, 'utf8').split('\n').filter((l) => l.trim()).map((l) => JSON.parse(l));
}

async function json(r) {
  const text = await r.text();
  try {
    return JSON.parse(text);
  } catch {
    throw new Error(`not JSON (${r.status}): ${text}`);
  }
}

async function streamed(r) {
  assert.equal(r.status, 200);
  let content = '';
  let reasoning = '';
  for await (const d of sseEvents(r)) {
    if (d === '[DONE]') continue;
    const e = JSON.parse(d);
    assert.ok(!e.error, `no error event: ${d}`);
    content += e.choices?.[0]?.delta?.content ?? '';
    reasoning += e.choices?.[0]?.delta?.reasoning_content ?? '';
  }
  return { content, reasoning };
}

// The scripted session: a plain chat, a streamed chat with thinking, a
// two-turn conversation (the second turn continues the upstream chat), and
// an upstream error. `beforeError` injects the error when recording.
async function session(stack, beforeError = async (kind) => kind) {
  const url = stack.baseUrl;
  const out = {};
  let r = await chat(url, { model: 'qwen3-max', messages: [{ role: 'user', content: 'Say hello in one line.' }] });
  let j = await json(r);
  out.plain = { status: r.status, content: j.choices?.[0]?.message?.content };

  r = await chat(url, { model: 'qwen3-vl-plus-thinking', stream: true, messages: [{ role: 'user', content: 'Think first, then answer: what is 2+2?' }] });
  out.thinking = await streamed(r);
  assert.ok(out.thinking.reasoning.length > 0, 'the thinking model streamed its reasoning');

  const turn1 = [{ role: 'user', content: 'Remember the word apple.' }];
  r = await chat(url, { model: 'qwen3-max', messages: turn1 });
  j = await json(r);
  const first = j.choices?.[0]?.message?.content;
  r = await chat(url, { model: 'qwen3-max', messages: [...turn1, { role: 'assistant', content: first }, { role: 'user', content: 'Which word was it?' }] });
  j = await json(r);
  out.multi = { first, second: j.choices?.[0]?.message?.content, status: r.status };

  await beforeError('moderation');
  r = await chat(url, { model: 'qwen3-max', messages: [{ role: 'user', content: 'This question meets an upstream error.' }] });
  j = await json(r);
  out.error = { status: r.status, code: j.error?.code ?? null, message: j.error?.message ?? null };
  assert.ok(r.status >= 400, `the error reached the client: ${JSON.stringify(j)}`);

  // A WAF answer (its punish URL carries x5secdata); it marks the account
  // for verification, so it comes last.
  await beforeError('waf_json');
  r = await chat(url, { model: 'qwen3-max', messages: [{ role: 'user', content: 'This one meets the WAF.' }] });
  j = await json(r);
  out.waf = { status: r.status, code: j.error?.code ?? null, message: j.error?.message ?? null };
  assert.ok(r.status >= 400, `the WAF answer reached the client: ${JSON.stringify(j)}`);
  return out;
}

// A stack of one account (from an account file) against `mock`, recording to `file`.
async function recordingStack(mock, file, accountToml) {
  const dir = tempDir();
  const accounts = join(dir, 'accounts');
  mkdirSync(accounts);
  writeFileSync(join(accounts, 'alice.toml'), accountToml, { mode: 0o600 });
  const stack = await startStack({ mock, accounts: [], dir, env: { QP_ACCOUNTS_DIR: accounts }, upstream: file ? { record_file: file } : {} });
  await waitHealthy(stack.baseUrl, { accounts: 1 });
  return stack;
}

async function replayStack(recording) {
  const mock = await startMock(['--replay', recording]);
  const stack = await recordingStack(mock, null, `token = "${mock.token('alice')}"\n`);
  return { mock, stack };
}

// Every substring of `s` of length n.
function pieces(s, n = 8) {
  const out = new Set();
  for (let i = 0; i + n <= s.length; i++) out.add(s.slice(i, i + n));
  return out;
}

test('a recorded session holds no secret of the account file, and replays to the same answers', async () => {
  const mock = await startMock();
  const dir = tempDir('qp-rec-');
  const file = join(dir, 'session.jsonl');
  const userId = `${randomBytes(4).toString('hex')}-${randomBytes(2).toString('hex')}-4${randomBytes(2).toString('hex').slice(1)}-${randomBytes(6).toString('hex')}`;
  const jwt = mock.token(userId);
  const secrets = {
    jwt,
    userId,
    itna: randomBytes(18).toString('base64url'),
    acw: randomBytes(16).toString('hex'),
    umid: `T2gA${randomBytes(24).toString('base64url')}=`,
    bxua: `231!${randomBytes(40).toString('base64url')}`,
    email: `rec-${randomBytes(5).toString('hex')}@example.com`,
    password: `pw-${randomBytes(10).toString('hex')}`,
  };
  const toml = [
    `cookies = "token=${jwt}; ssxmod_itna=${secrets.itna}; acw_tc=${secrets.acw}; aui=${userId}"`,
    `bx_umidtoken = "${secrets.umid}"`,
    `bx_ua = "${secrets.bxua}"`,
    'bx_v = "2.5.36"',
    `email = "${secrets.email}"`,
    `password = "${secrets.password}"`,
  ].join('\n') + '\n';
  let stack = await recordingStack(mock, file, toml);
  let recorded;
  try {
    recorded = await session(stack, (kind) => mock.config({ add_faults: [{ kind, scope: 'next' }] }));
  } finally {
    await stack.stop();
    await mock.stop();
  }

  assert.equal(statSync(file).mode & 0o777, 0o600, 'the recording is private');
  const text = readFileSync(file, 'utf8');
  for (const [name, secret] of Object.entries(secrets)) {
    assert.ok(!text.includes(secret), `secret ${name} is not in the recording`);
    for (const p of pieces(secret)) {
      if (name === 'jwt' && p.startsWith('eyJ')) continue; // every JWT's header; redacted as a whole below
      assert.ok(!text.includes(p), `no 8-byte piece of ${name} (${p}) is in the recording`);
    }
  }
  assert.ok(!/eyJ[\w-]{4,}\.[\w-]{4,}\./.test(text), 'no JWT-shaped string');
  assert.ok(!/cookie|authorization|bx-ua|bx-umidtoken|set-cookie/i.test(text.replace(/"content":"[^"]*"/g, '')), 'no credential header names');
  assert.ok(text.includes('x5secdata=[redacted]'), 'the WAF URL was recorded, redacted');

  const lines = readRecording(file);
  const paths = lines.map((l) => `${l.method} ${l.path.split('?')[0]}`);
  assert.ok(paths.includes('POST /api/v2/chats/new'));
  const completions = lines.filter((l) => l.path.startsWith('/api/v2/chat/completions?'));
  assert.ok(completions.length >= 5, `five completions recorded: ${paths.join(', ')}`);
  const chatIds = completions.map((l) => l.request.body.chat_id);
  assert.ok(chatIds.some((id, i) => chatIds.indexOf(id) !== i), 'the second turn continued its chat');
  const ok = completions.find((l) => l.response.events?.length > 2);
  assert.ok(ok, 'a streamed completion with its events');
  assert.ok(ok.response.events.every((e, i, a) => i === 0 || e.t_ms >= a[i - 1].t_ms), 'event times do not go back');
  assert.match(ok.response.headers['content-type'], /text\/event-stream/);
  assert.equal(ok.request.body.stream, true);
  for (const l of lines) {
    assert.equal(l.v, 1);
    assert.ok(['complete', 'stopped', 'failed'].includes(l.outcome), l.outcome);
    for (const h of Object.keys(l.request.headers)) assert.ok(['accept', 'content-type', 'source', 'version', 'x-accel-buffering'].includes(h), h);
  }

  // The fresh recording, replayed, gives the client the same answers.
  const { mock: replay, stack: again } = await replayStack(file);
  try {
    const replayed = await session(again);
    assert.deepEqual(replayed, recorded);
  } finally {
    await again.stop();
    await replay.stop();
  }

  if (process.env.QP_RECORD_REGEN) {
    copyFileSync(file, join(RECORDINGS, 'session.jsonl'));
    writeFileSync(join(RECORDINGS, 'session.expected.json'), JSON.stringify(recorded, null, 2) + '\n');
  }
  rmSync(dir, { recursive: true, force: true });
});

test('the committed session recording replays to its expected answers', async () => {
  const expected = JSON.parse(readFileSync(join(RECORDINGS, 'session.expected.json'), 'utf8'));
  const { mock, stack } = await replayStack(join(RECORDINGS, 'session.jsonl'));
  try {
    const got = await session(stack);
    assert.deepEqual(got, expected);
    const state = await (await fetch(`${mock.url}/__mock/replay`)).json();
    assert.ok(state.served > 0);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('the captured upstream shapes replay through the real stack', async () => {
  const file = join(RECORDINGS, 'captures.jsonl');
  const lines = readRecording(file);
  const stream = lines.find((l) => l.response.events);
  const answer = stream.response.events
    .map((e) => (e.data.choices?.[0]?.delta?.phase === 'answer' ? e.data.choices[0].delta.content ?? '' : ''))
    .join('');
  assert.ok(answer.startsWith('Greetings'), 'the capture holds the answer');

  const { mock, stack } = await replayStack(file);
  try {
    const models = await json(await fetch(`${stack.baseUrl}/v1/models`));
    assert.ok(models.data.some((m) => m.id === 'qwen3-max'), 'the captured model list is served');
    let r = await chat(stack.baseUrl, { model: 'qwen3-max', stream: true, messages: [{ role: 'user', content: 'Explain religion to an alien.' }] });
    const got = await streamed(r);
    assert.equal(got.content, answer);
    // The captured stream:false body answers a completion the gateway asked
    // to stream: a clear upstream error, not an empty success nor a hang.
    r = await chat(stack.baseUrl, { model: 'qwen3-max', messages: [{ role: 'user', content: 'Again, not streamed upstream.' }] });
    const j = await json(r);
    assert.ok(r.status >= 500, `status ${r.status}: ${JSON.stringify(j)}`);
    assert.ok(j.error?.message);
  } finally {
    await stack.stop();
    await mock.stop();
  }
});

test('a request the recording does not hold gets a JSON 500 at once', async () => {
  const mock = await startMock(['--replay', join(RECORDINGS, 'captures.jsonl')]);
  try {
    const r = await fetch(`${mock.url}/api/v2/chats/abc`, { method: 'DELETE' });
    assert.equal(r.status, 500);
    const j = await r.json();
    assert.equal(j.success, false);
    assert.equal(j.data.code, 'ReplayMismatch');
    assert.match(j.data.details, /DELETE \/api\/v2\/chats\/abc/);
    const state = await (await fetch(`${mock.url}/__mock/replay`)).json();
    assert.equal(state.unmatched, 1);
  } finally {
    await mock.stop();
  }
});

test('qwenproxy record --out FILE runs the stack with every worker recording', async () => {
  const dir = tempDir('qp-rec-cli-');
  const file = join(dir, 'out.jsonl');
  const config = join(dir, 'qwenproxy.toml');
  writeFileSync(config, [`runtime_dir = "${dir}/run"`, `state_dir = "${dir}/state"`, '[worker]', 'prewarm_chats = 0', '[frontend]', 'port = 0'].join('\n') + '\n');
  const env = { ...process.env, LOG_LEVEL: 'warn' };
  for (const k of Object.keys(env)) if (k.startsWith('QWEN_') || k.startsWith('QP_')) delete env[k];
  const proc = spawn(join(BIN, 'qwenproxy'), ['record', '--demo', '--out', file, '--config', config], { stdio: ['ignore', 'pipe', 'pipe'], env });
  let out = '';
  let err = '';
  proc.stdout.on('data', (d) => { out += d; });
  proc.stderr.on('data', (d) => { err += d; });
  try {
    const ready = await until(() => out.match(/qwenproxy: ready .* at (http:\/\/\S+?:\d+)\/v1/), { what: 'the stack to be ready' });
    assert.match(err, /recording upstream exchanges to \S*out\.jsonl/);
    const base = ready[1];
    await waitHealthy(base, { accounts: 1 });
    const r = await chat(base, { model: 'qwen3-max', messages: [{ role: 'user', content: 'Recorded through the CLI.' }] });
    assert.equal(r.status, 200, await r.clone().text());
    await r.json();
    const lines = await until(() => {
      try {
        const l = readRecording(file);
        return l.some((x) => x.path.startsWith('/api/v2/chat/completions')) && l;
      } catch {
        return false;
      }
    }, { what: 'the completion in the recording' });
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.ok(lines.every((l) => l.v === 1));
  } finally {
    proc.kill('SIGTERM');
    if (proc.exitCode === null) await once(proc, 'exit');
    rmSync(dir, { recursive: true, force: true });
  }
});

test('--replay-speed keeps the recorded gaps between events (scaled)', async () => {
  const dir = tempDir('qp-rec-speed-');
  const file = join(dir, 'timed.jsonl');
  const line = (id) => JSON.stringify({
    v: 1, method: 'POST', path: `/api/v2/chat/completions?chat_id=${id}`, request: { headers: {} },
    response: { status: 200, headers: { 'content-type': 'text/event-stream' }, events: [{ t_ms: 0, data: { n: 1 } }, { t_ms: 400, data: { n: 2 } }] },
    outcome: 'complete',
  });
  writeFileSync(file, `${line('a')}\n${line('b')}\n`);
  const gaps = {};
  for (const speed of ['1', '0']) {
    const mock = await startMock(['--replay', file, '--replay-speed', speed]);
    try {
      const r = await fetch(`${mock.url}/api/v2/chat/completions?chat_id=x`, { method: 'POST', body: '{}' });
      assert.equal(r.status, 200);
      const times = [];
      for await (const d of sseEvents(r)) times.push([JSON.parse(d).n, Date.now()]);
      assert.deepEqual(times.map((t) => t[0]), [1, 2]);
      gaps[speed] = times[1][1] - times[0][1];
    } finally {
      await mock.stop();
    }
  }
  assert.ok(gaps['1'] >= 350, `speed 1 waits the recorded 400 ms (${gaps['1']} ms)`);
  assert.ok(gaps['0'] < 350, `speed 0 does not wait (${gaps['0']} ms)`);
  rmSync(dir, { recursive: true, force: true });
});
