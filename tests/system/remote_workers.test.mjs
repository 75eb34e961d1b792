// Remote workers over CurveZMQ (docs/deployment.md, "Remote workers"), run by
// remote_workers.sh in the hub namespace of a network it built: the broker, a
// frontend and two workers each in their own network namespace, on distinct
// addresses, every link to the broker a tcp:// CurveZMQ link; the mock upstream
// runs here in the hub, reachable from the workers.
//
// One stack, steps in order (each needs the state the previous one left):
//  1. streams are served by both remote workers;
//  2. a worker whose key is not authorised is refused, the refusal logged
//     with its key's fingerprint, and it never registers;
//  3. a job accepted by a worker that has not sent its first chunk when its
//     link goes down runs again on the other worker (no lost job);
//  4. a link cut mid-stream (`ip link set down`) is detected within 3
//     heartbeats, the client gets a clear error event, new requests go to
//     the other worker, and the worker rejoins when the link comes back;
//  5. replay and failover work across hosts: a conversation continues its
//     upstream chat natively, a rate-limited account's job moves to the other;
//  6. the capture of the broker's link (tcpdump on its veth) shows the
//     CurveZMQ handshake and none of the prompts, answers or upstream
//     tokens in clear.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync, readFileSync, copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { BIN, Lines, startMock, waitHealthy, until } from '../integration/harness.mjs';
import { call } from '../integration/checker.mjs';

const PREFIX = process.env.QP_RW_PREFIX;
const DIR = process.env.QP_RW_DIR;
const HB = 200;  // broker.heartbeat_ms: short, so the link tests are quick
const IP = { b: '10.199.0.1', f: '10.199.0.2', w1: '10.199.0.3', w2: '10.199.0.4', w3: '10.199.0.5' };
const MODEL = 'qwen3-max';
const SECRET = randomBytes(6).toString('hex');  // in every prompt: must never be on the wire in clear

assert.ok(PREFIX && DIR, 'run through tests/system/remote_workers.sh (it builds the namespaces)');

const procs = [];
let mock;
let broker;
let frontend;
let baseUrl;
const workers = {};  // account -> process
let capture;
let fingerprints = {};
let endpoints = {};
const tokens = {};
const answers = [];  // streamed answer texts seen by clients

function cleanEnv() {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('QWEN_') || k.startsWith('QP_')) delete env[k];
  return env;
}

// Runs `args` in the namespace of `role` (ip netns exec execs it: the pid is the program's).
function inNs(role, args, name) {
  const proc = spawn('ip', ['netns', 'exec', PREFIX + role, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...cleanEnv(), LOG_LEVEL: 'info' },
  });
  const p = { proc, name, out: new Lines(proc.stdout, `[${name}] `), err: new Lines(proc.stderr, `[${name}!] `) };
  procs.push(p);
  return p;
}

function stop(p) {
  if (p.proc.exitCode !== null || p.proc.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => { p.proc.once('exit', resolve); p.proc.kill('SIGTERM'); });
}

function writeConfig(name, lines) {
  const path = join(DIR, `${name}.toml`);
  writeFileSync(path, lines.join('\n') + '\n', { mode: 0o600 });
  return path;
}

function baseLines(name) {
  return [`runtime_dir = "${DIR}/${name}/run"`, `state_dir = "${DIR}/${name}/state"`];
}

function peerBroker() {
  return ['[broker]', `frontend_endpoint = "${endpoints.frontend}"`, `worker_endpoint = "${endpoints.worker}"`,
    `heartbeat_ms = ${HB}`, `curve_public_key_file = "${DIR}/keys/broker.pub"`];
}

function startWorker(role, account, keyName) {
  const config = writeConfig(`worker-${account}`, [
    ...baseLines(`worker-${account}`),
    ...peerBroker(),
    '[worker]', 'prewarm_chats = 0', `curve_secret_key_file = "${DIR}/keys/${keyName}.key"`,
    '[upstream]', `base_url = "${mock.url}"`,
    '[[accounts]]', `name = "${account}"`, `cookies = "token=${tokens[account]}; ssxmod_itna=1"`, 'capacity = 4',
  ]);
  return inNs(role, [join(BIN, 'qp-worker'), '--config', config, '--account', account], `worker:${account}`);
}

const ask = (content, stream) => ({ model: MODEL, stream, messages: [{ role: 'user', content: `${content} ${SECRET}` }] });

// Which account the mock saw for a prompt (its latest attempt), or undefined.
async function servedBy(content) {
  const recs = (await mock.state()).records.filter((r) => r.content === `${content} ${SECRET}`);
  return recs.at(-1)?.user_id;
}

function linkDown(role) { execFileSync('ip', ['-n', PREFIX + role, 'link', 'set', 'eth0', 'down']); }
function linkUp(role) { execFileSync('ip', ['-n', PREFIX + role, 'link', 'set', 'eth0', 'up']); }

before(async () => {
  // Keys: one pair per host, made by the operator's command.
  mkdirSync(join(DIR, 'keys'), { mode: 0o700 });
  mkdirSync(join(DIR, 'authorized'), { mode: 0o700 });
  for (const name of ['broker', 'frontend', 'alice', 'bob', 'rogue']) {
    const out = execFileSync(join(BIN, 'qwenproxy'), ['curve-keys', 'generate', name, '--dir', join(DIR, 'keys')], { encoding: 'utf8' });
    fingerprints[name] = out.match(/^fingerprint: (SHA256:[0-9a-f]{16})$/m)[1];
  }
  for (const name of ['frontend', 'alice', 'bob']) {
    copyFileSync(join(DIR, 'keys', `${name}.pub`), join(DIR, 'authorized', `${name}.pub`));
  }

  mock = await startMock(['--host', '10.199.0.254']);
  tokens.alice = mock.token('alice');
  tokens.bob = mock.token('bob');
  tokens.mallory = mock.token('mallory');

  // The capture starts before anything connects, so it holds the handshakes too. Only the
  // broker's packets: the bridge floods frames it has not learnt (the workers' plain HTTP to
  // the mock, which stands for Qwen's HTTPS) to every port, the broker's too.
  capture = spawn('tcpdump', ['-Z', 'root', '-i', 'veth-b', '-U', '-n', '-s', '0', '-w', join(DIR, 'broker-link.pcap'), 'host', IP.b], { stdio: ['ignore', 'ignore', 'pipe'] });
  await new Lines(capture.stderr, '[tcpdump] ').waitFor(/listening on veth-b/);

  const brokerConfig = writeConfig('broker', [
    ...baseLines('broker'),
    '[broker]', `frontend_endpoint = "tcp://${IP.b}:*"`, `worker_endpoint = "tcp://${IP.b}:*"`, `heartbeat_ms = ${HB}`,
    `curve_secret_key_file = "${DIR}/keys/broker.key"`, `authorized_keys_dir = "${DIR}/authorized"`,
    '[sessions]', 'db_path = ":memory:"',
  ]);
  broker = inNs('b', [join(BIN, 'qp-broker'), '--config', brokerConfig], 'broker');
  const started = await broker.err.waitFor(/event=broker\.started .*frontend_endpoint=(tcp:\/\/\S+) worker_endpoint=(tcp:\/\/\S+) frontend_security=curve worker_security=curve/);
  endpoints = { frontend: started[1], worker: started[2] };

  const frontendConfig = writeConfig('frontend', [
    ...baseLines('frontend'), ...peerBroker(),
    '[frontend]', `host = "${IP.f}"`, 'port = 0', `curve_secret_key_file = "${DIR}/keys/frontend.key"`,
    '[responses]', 'db_path = ":memory:"',
  ]);
  frontend = inNs('f', [join(BIN, 'qp-frontend'), '--config', frontendConfig], 'frontend');
  const listening = await frontend.err.waitFor(/event=frontend\.listening port=(\d+)/);
  baseUrl = `http://${IP.f}:${listening[1]}`;

  workers.alice = startWorker('w1', 'alice', 'alice');
  workers.bob = startWorker('w2', 'bob', 'bob');
  await waitHealthy(baseUrl, { accounts: 2 });
});

after(async () => {
  for (const p of procs.reverse()) await stop(p);
  if (capture && capture.exitCode === null) capture.kill('SIGTERM');
  await mock?.stop();
});

test('1. streams are served by both remote workers over CurveZMQ', async () => {
  for (const name of ['frontend', 'alice', 'bob']) {
    await broker.err.waitFor(new RegExp(`event=broker\\.peer_authenticated peer=${name} .*fingerprint=${fingerprints[name]}`));
  }
  await mock.hold();  // each stream parks after its first token: both are in flight at once
  const streams = [0, 1].map((i) => ({ prompt: `remote stream ${i}`, ...call(baseUrl, ask(`remote stream ${i}`, true)) }));
  await Promise.all(streams.map((s) => s.started));
  await until(async () => (await mock.state()).parked === 2, { what: 'two streams parked' });
  await mock.release();
  const users = [];
  for (const s of streams) {
    const r = await s.result;
    assert.equal(r.kind, 'complete', `${s.prompt}: ${r.why}`);
    answers.push(r.content);
    users.push(await servedBy(s.prompt));
  }
  assert.deepEqual(users.sort(), ['alice', 'bob'], 'one stream on each remote worker');
});

test('2. a worker with an unknown key is refused, and the refusal is logged with its fingerprint', async () => {
  const from = broker.err.count();
  const rogue = startWorker('w3', 'mallory', 'rogue');
  await broker.err.waitFor(new RegExp(`event=broker\\.peer_refused endpoint=workers address=${IP.w3.replace(/\./g, '\\.')} mechanism=CURVE fingerprint=${fingerprints.rogue} reason="?key not authorised`), { from });
  // It keeps trying; it never registers, and no secret key is in the log.
  await new Promise((r) => setTimeout(r, 3 * HB));
  const health = await (await fetch(`${baseUrl}/health`)).json();
  assert.ok(!health.accounts.some((a) => a.account === 'mallory' || a.name === 'mallory'), 'mallory is not served');
  assert.ok(!broker.err.lines.slice(from).some((l) => /worker\.registered .*account=mallory/.test(l)));
  const rogueSecret = readFileSync(join(DIR, 'keys', 'rogue.key'), 'utf8').split('\n').find((l) => l && !l.startsWith('#'));
  assert.ok(!broker.err.lines.join('\n').includes(rogueSecret));
  await stop(rogue);
});

test('3. a job whose worker loses its link before the first chunk runs on the other worker', async () => {
  // The next completion on each account waits 60 s for its first byte: the job sits on a worker, silent.
  await mock.config({ add_faults: [
    { kind: 'slow_first_byte', scope: 'user', user: 'alice', count: 1, delay_ms: 60_000 },
    { kind: 'slow_first_byte', scope: 'user', user: 'bob', count: 1, delay_ms: 60_000 },
  ] });
  const job = call(baseUrl, ask('flap before first chunk', true));
  const first = await until(() => servedBy('flap before first chunk'), { what: 'the job reached a worker' });
  const other = first === 'alice' ? 'bob' : 'alice';
  await mock.config({ clear_faults: true });
  const role = first === 'alice' ? 'w1' : 'w2';
  const from = broker.err.count();
  linkDown(role);
  try {
    await broker.err.waitFor(new RegExp(`event=job\\.requeued .*from_account=${first} reason="worker lost before any output"`), { from });
    const r = await job.result;
    assert.equal(r.kind, 'complete', `the job completes elsewhere: ${r.why}`);
    assert.equal(await servedBy('flap before first chunk'), other);
  } finally {
    linkUp(role);
  }
  await waitHealthy(baseUrl, { accounts: 2, timeoutMs: 40_000 });
});

test('4. a link cut mid-stream: detected within 3 heartbeats, a clear error, failover, rejoin', async () => {
  await mock.hold();
  const s = call(baseUrl, ask('cut mid-stream', true));
  await s.started;
  const victim = await servedBy('cut mid-stream');
  const other = victim === 'alice' ? 'bob' : 'alice';
  const role = victim === 'alice' ? 'w1' : 'w2';
  const from = broker.err.count();
  const t0 = Date.now();
  linkDown(role);
  await broker.err.waitFor(new RegExp(`event=worker\\.(unreachable|expired) .*account=${victim}\\b`), { from, timeoutMs: 10 * HB });
  const detectMs = Date.now() - t0;
  const r = await s.result;
  const errorMs = Date.now() - t0;
  assert.equal(r.kind, 'error', `the client gets an error event: ${r.why}`);
  assert.ok(r.content.length > 0, 'after the content it had streamed');
  assert.ok(detectMs <= 3 * HB, `detected within 3 heartbeats (${detectMs} ms, heartbeat ${HB} ms)`);
  await mock.release();

  // New requests go to the other worker while the link is down.
  for (let i = 0; i < 3; i++) {
    const q = await call(baseUrl, ask(`while cut ${i}`, i % 2 === 0)).result;
    assert.equal(q.kind, 'complete', `while cut ${i}: ${q.why}`);
    assert.equal(await servedBy(`while cut ${i}`), other);
  }

  const upFrom = broker.err.count();
  const tUp = Date.now();
  linkUp(role);
  await broker.err.waitFor(new RegExp(`event=worker\\.registered .*account=${victim}\\b`), { from: upFrom, timeoutMs: 40_000 });
  const rejoinMs = Date.now() - tUp;
  await waitHealthy(baseUrl, { accounts: 2 });
  // And it serves again: two parallel streams take one worker each.
  await mock.hold();
  const two = [0, 1].map((i) => ({ prompt: `after rejoin ${i}`, ...call(baseUrl, ask(`after rejoin ${i}`, true)) }));
  await Promise.all(two.map((x) => x.started));
  await mock.release();
  const users = [];
  for (const x of two) {
    assert.equal((await x.result).kind, 'complete');
    users.push(await servedBy(x.prompt));
  }
  assert.deepEqual(users.sort(), ['alice', 'bob']);
  console.log(`# link cut: broker detected it after ${detectMs} ms, client error after ${errorMs} ms (heartbeat ${HB} ms); rejoined ${rejoinMs} ms after the link came back`);
});

test('5. replay and failover across hosts: a conversation continues natively, a rate-limited account fails over', async () => {
  // Three turns of one conversation, each sent with the whole history: the broker continues the
  // upstream chat on whichever remote worker holds it.
  const history = [];
  for (let i = 1; i <= 3; i++) {
    history.push({ role: 'user', content: `conversation turn ${i} ${SECRET}` });
    const r = await fetch(`${baseUrl}/v1/chat/completions`, {
      method: 'POST', headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ model: MODEL, messages: history }),
    });
    const text = await r.text();
    assert.equal(r.status, 200, text);
    history.push(JSON.parse(text).choices[0].message);
  }
  const recs = (await mock.state()).records.filter((r) => r.content.startsWith('conversation turn'));
  assert.equal(recs.length, 3);
  for (let i = 1; i < 3; i++) {
    assert.equal(recs[i].chat_id, recs[0].chat_id, `turn ${i + 1} continues the same upstream chat`);
    assert.equal(recs[i].parent_id, recs[i - 1].response_id, `turn ${i + 1} chains to the previous reply`);
  }

  // Alice is rate limited: a request that lands on her moves to bob before any output.
  await mock.config({ add_faults: [{ kind: 'rate_limited', scope: 'user', user: 'alice', count: 10, num: 2 }] });
  const from = broker.err.count();
  let failedOver = false;
  for (let i = 0; i < 6 && !failedOver; i++) {
    const r = await call(baseUrl, ask(`failover ${i}`, i % 2 === 0)).result;
    assert.equal(r.kind, 'complete', `failover ${i}: ${r.why}`);
    assert.equal(await servedBy(`failover ${i}`), 'bob');
    failedOver = broker.err.lines.slice(from).some((l) => /event=job\.failover .*from_account=alice/.test(l));
  }
  assert.ok(failedOver, 'a job moved from alice to bob');
  await mock.config({ clear_faults: true });
});

test('6. nothing in clear on the broker link: no prompt, answer or upstream token', async () => {
  // Let tcpdump flush (-U writes each packet), then stop it.
  await new Promise((resolve) => { capture.once('exit', resolve); capture.kill('SIGINT'); });
  const pcap = readFileSync(join(DIR, 'broker-link.pcap'));
  assert.ok(pcap.length > 20_000, `the capture holds the traffic (${pcap.length} bytes)`);
  // The ZMTP greeting names the mechanism in clear: proof that the capture saw the links.
  assert.ok(pcap.includes(Buffer.from('CURVE')), 'the capture shows the CurveZMQ greeting');
  const texts = answers.filter((t) => t.length >= 12).map((t) => t.slice(0, 24));
  assert.ok(texts.length >= 2, 'answers to look for');
  for (const needle of [SECRET, 'remote stream', 'cut mid-stream', tokens.alice, tokens.bob, ...texts]) {
    assert.ok(!pcap.includes(Buffer.from(needle)), `not in clear on the wire: ${needle.slice(0, 30)}`);
  }
  console.log(`# capture of the broker link: ${pcap.length} bytes, no prompt, answer or token in clear`);
});
