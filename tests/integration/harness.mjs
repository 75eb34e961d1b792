// Test harness: spawns the real binaries (launcher, frontend, broker,
// workers, mock-qwen) from $QP_BIN_DIR, each stack in its own temp runtime
// dir, ports chosen by the kernel (port 0). Waits on events (output lines,
// health state) with deadlines, never on fixed sleeps.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import assert from 'node:assert/strict';

export const BIN = process.env.QP_BIN_DIR || new URL('../../build-test/bin/', import.meta.url).pathname;

const DEFAULT_TIMEOUT_MS = 20_000;

// Collects a child's output lines and lets tests wait for a matching line.
export class Lines {
  constructor(stream, echoPrefix) {
    this.lines = [];
    this.waiters = [];
    let buf = '';
    stream.setEncoding('utf8');
    stream.on('data', (d) => {
      buf += d;
      let i;
      while ((i = buf.indexOf('\n')) >= 0) {
        const line = buf.slice(0, i);
        buf = buf.slice(i + 1);
        this.lines.push(line);
        if (process.env.QP_TEST_VERBOSE) process.stderr.write(`${echoPrefix}${line}\n`);
        this.waiters = this.waiters.filter((w) => {
          const m = line.match(w.re);
          if (m && w.from <= this.lines.length - 1) { w.resolve(m); return false; }
          return true;
        });
      }
    });
  }
  // Resolves with the first line matching `re` at index >= `from`.
  waitFor(re, { from = 0, timeoutMs = DEFAULT_TIMEOUT_MS } = {}) {
    for (let i = from; i < this.lines.length; i++) {
      const m = this.lines[i].match(re);
      if (m) return Promise.resolve(m);
    }
    return new Promise((resolve, reject) => {
      const w = { re, from, resolve };
      this.waiters.push(w);
      setTimeout(() => {
        if (this.waiters.includes(w)) {
          this.waiters = this.waiters.filter((x) => x !== w);
          reject(new Error(`timed out waiting for ${re}; last lines:\n${this.lines.slice(-20).join('\n')}`));
        }
      }, timeoutMs).unref();
    });
  }
  count() { return this.lines.length; }
}

function exited(proc) {
  return new Promise((resolve) => {
    if (proc.exitCode !== null || proc.signalCode !== null) resolve({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => resolve({ code, signal }));
  });
}

export function tempDir(prefix = 'qp-test-') {
  return mkdtempSync(join(tmpdir(), prefix));
}

export function mintToken(secret, user = 'alice', ttlS = 7 * 24 * 3600) {
  return execFileSync(join(BIN, 'mock-qwen'), ['mint-token', '--user', user, '--secret', secret, '--ttl-s', String(ttlS)], { encoding: 'utf8' }).trim();
}

export async function startMock(args = []) {
  const secret = randomBytes(8).toString('hex');
  const proc = spawn(join(BIN, 'mock-qwen'), ['--port', '0', '--jwt-secret', secret, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, LOG_LEVEL: process.env.QP_TEST_LOG_LEVEL || 'warn' },
  });
  const out = new Lines(proc.stdout, '[mock] ');
  const err = new Lines(proc.stderr, '[mock!] ');
  const m = await out.waitFor(/^mock-qwen listening on (http:\/\/\S+?:(\d+))/);
  const url = m[1];
  const admin = async (method, path, body) => {
    const r = await fetch(`${url}/__mock/${path}`, {
      method,
      headers: body !== undefined ? { 'content-type': 'application/json' } : {},
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
    const text = await r.text();
    if (!r.ok) throw new Error(`mock admin ${path}: ${r.status} ${text}`);
    return text ? JSON.parse(text) : null;
  };
  return {
    proc, url, port: Number(m[2]), secret, out, err,
    token: (user = 'alice', ttlS) => mintToken(secret, user, ttlS),
    state: () => admin('GET', 'state'),
    config: (c) => admin('POST', 'config', c),
    rules: (r) => admin('POST', 'rules', r),
    hold: () => admin('POST', 'hold', {}),
    release: () => admin('POST', 'release', {}),
    reset: () => admin('POST', 'reset', {}),
    async stop() {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      return exited(proc);
    },
  };
}

// Starts `qwenproxy up` against `mock` (or in demo mode when mock is null).
// accounts: [{name, user}] → a config file with one [[accounts]] per entry,
// each with a token minted for `user`. upstream: extra keys of the
// [upstream] table (e.g. { first_byte_timeout_ms: 300 }), written with it.
// worker: keys of the [worker] table; pre-warming is off unless a test turns
// it on (it adds chats/new requests that tests counting requests would see).
// frontend: extra keys of the [frontend] table; with api_key, /health is
// polled with the key (only a client with the key sees the accounts).
// dir: reuse the directory of an earlier stack (its state: a whole-stack restart).
export async function startStack({ mock = null, accounts = [{ name: 'alice', user: 'alice' }], env = {}, extraConfig = '', upstream = {}, worker = {}, frontend = {}, dir = null } = {}) {
  dir = dir ?? tempDir();
  const workerTable = { prewarm_chats: 0, ...worker };
  const lines = [`runtime_dir = "${dir}/run"`, `state_dir = "${dir}/state"`, '[worker]'];
  for (const [k, v] of Object.entries(workerTable)) lines.push(`${k} = ${JSON.stringify(v)}`);
  lines.push('[frontend]', 'port = 0');
  for (const [k, v] of Object.entries(frontend)) lines.push(`${k} = ${JSON.stringify(v)}`);
  lines.push('[broker]', 'heartbeat_ms = 200', extraConfig);
  if (mock) {
    lines.push('[upstream]', `base_url = "${mock.url}"`);
    for (const [k, v] of Object.entries(upstream)) lines.push(`${k} = ${JSON.stringify(v)}`);
    for (const a of accounts) {
      lines.push('[[accounts]]', `name = "${a.name}"`, `cookies = "token=${mock.token(a.user ?? a.name)}; ssxmod_itna=1"`, `capacity = ${a.capacity ?? 4}`);
    }
  }
  const configPath = join(dir, 'qwenproxy.toml');
  writeFileSync(configPath, lines.join('\n') + '\n', { mode: 0o600 });
  const cleanEnv = { ...process.env };
  for (const k of Object.keys(cleanEnv)) if (k.startsWith('QWEN_') || k.startsWith('QP_')) delete cleanEnv[k];
  const proc = spawn(join(BIN, 'qwenproxy'), ['up', '--config', configPath], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...cleanEnv, LOG_LEVEL: process.env.QP_TEST_LOG_LEVEL || 'warn', ...env },
  });
  const out = new Lines(proc.stdout, '[up] ');
  const err = new Lines(proc.stderr, '[up!] ');
  const ready = await out.waitFor(/^qwenproxy: ready .* at (http:\/\/\S+?:(\d+))\/v1/).catch(async (e) => {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\nstderr:\n${err.lines.slice(-30).join('\n')}`);
  });
  const stack = {
    proc, dir, configPath, out, err,
    baseUrl: ready[1],
    port: Number(ready[2]),
    // Latest pid printed for a child name (broker, frontend, worker:<account>, mock).
    pid(name) {
      let pid = null;
      for (const l of out.lines) {
        const m = l.match(/^qwenproxy: started (\S+) pid=(\d+)/);
        if (m && m[1] === name) pid = Number(m[2]);
      }
      return pid;
    },
    // keepDir: leave the state for a later startStack({ dir }).
    async stop({ keepDir = false } = {}) {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGTERM');
      const r = await exited(proc);
      if (!keepDir) rmSync(dir, { recursive: true, force: true });
      return r;
    },
  };
  await waitHealthy(stack.baseUrl, { accounts: mock ? accounts.length : 1, apiKey: frontend.api_key ?? env.QP_API_KEY });
  return stack;
}

// Polls /health until the service reports `accounts` registered and healthy.
export async function waitHealthy(baseUrl, { accounts = 1, timeoutMs = DEFAULT_TIMEOUT_MS, apiKey = '' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last = '';
  while (Date.now() < deadline) {
    try {
      const r = await fetch(`${baseUrl}/health`, { headers: apiKey ? { authorization: `Bearer ${apiKey}` } : {} });
      last = await r.text();
      if (r.status === 200) {
        const h = JSON.parse(last);
        if (h.accounts.filter((a) => a.health === 'ok').length >= accounts) return h;
      }
    } catch (e) {
      last = String(e);
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`service not healthy after ${timeoutMs} ms: ${last}`);
}

// Polls fn() until it returns a truthy value (deadline-bounded).
export async function until(fn, { timeoutMs = DEFAULT_TIMEOUT_MS, what = 'condition' } = {}) {
  const deadline = Date.now() + timeoutMs;
  let last;
  while (Date.now() < deadline) {
    last = await fn();
    if (last) return last;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`timed out waiting for ${what}; last value: ${JSON.stringify(last)}`);
}

// Reads an SSE response body and yields each `data:` payload as it arrives.
export async function* sseEvents(response) {
  const reader = response.body.getReader();
  const dec = new TextDecoder();
  let buf = '';
  for (;;) {
    const { value, done } = await reader.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let i;
    while ((i = buf.indexOf('\n\n')) >= 0) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const data = block.split('\n').filter((l) => l.startsWith('data: ')).map((l) => l.slice(6)).join('\n');
      if (data) yield data;
    }
  }
  if (buf.trim()) throw new Error(`stream ended with a partial event: ${JSON.stringify(buf)}`);
}

export function chat(baseUrl, body, init = {}) {
  return fetch(`${baseUrl}/v1/chat/completions`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(init.headers || {}) },
    body: JSON.stringify(body),
    signal: init.signal,
  });
}

// Starts a streaming request and returns once its first content arrived
// (the mock holds it there), with a function that reads the rest.
export async function openStream(stack, content, model = 'qwen3-max') {
  const r = await chat(stack.baseUrl, { model, stream: true, messages: [{ role: 'user', content }] });
  assert.equal(r.status, 200, `stream ${content}`);
  const it = sseEvents(r)[Symbol.asyncIterator]();
  let text = '';
  while (!text) {
    const { value, done } = await it.next();
    assert.ok(!done, 'the stream ended before any content');
    text += JSON.parse(value).choices?.[0]?.delta?.content ?? '';
  }
  return {
    content,
    async rest() {
      let last = null;
      for (;;) {
        const { value, done } = await it.next();
        if (done) break;
        last = value;
        if (value === '[DONE]') continue;
        const j = JSON.parse(value);
        assert.ok(!j.error, `no error event: ${value}`);
        text += j.choices?.[0]?.delta?.content ?? '';
      }
      assert.equal(last, '[DONE]', 'the stream ends normally');
      return text;
    },
  };
}

export async function ask(stack, content, model = 'qwen3-max') {
  const r = await chat(stack.baseUrl, { model, messages: [{ role: 'user', content }] });
  const text = await r.text();
  assert.equal(r.status, 200, `request ${content}: ${text}`);
  return JSON.parse(text).choices[0].message.content;
}
