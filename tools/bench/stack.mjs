// Shared by run-suite.mjs and profile.mjs: start mock-qwen and the gateway
// (`qwenproxy up`) on kernel-chosen ports, run qp-bench, stop them again.
// Only processes started here are ever signalled.
import { spawn, execFileSync } from 'node:child_process';
import { writeFileSync, readFileSync, createWriteStream } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import http from 'node:http';

const START_TIMEOUT_MS = 30_000;

export class Lines {
  // skip: lines not kept (e.g. one warning per failed request).
  constructor(stream, skip = null) {
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
        if (skip && skip.test(line)) continue;
        this.lines.push(line);
        if (this.lines.length > 2000) this.lines.splice(0, 1000);
        this.waiters = this.waiters.filter((w) => {
          const m = line.match(w.re);
          if (m) { w.resolve(m); return false; }
          return true;
        });
      }
    });
  }
  waitFor(re, what, timeoutMs = START_TIMEOUT_MS) {
    for (const l of this.lines) { const m = l.match(re); if (m) return Promise.resolve(m); }
    return new Promise((res, rej) => {
      const w = { re, resolve: res };
      this.waiters.push(w);
      setTimeout(() => {
        if (this.waiters.includes(w)) rej(new Error(`timed out waiting for ${what}`));
      }, timeoutMs).unref();
    });
  }
}

export function exited(proc) {
  return new Promise((res) => {
    if (proc.exitCode !== null || proc.signalCode !== null) res({ code: proc.exitCode, signal: proc.signalCode });
    else proc.once('exit', (code, signal) => res({ code, signal }));
  });
}

export async function stopProc(proc, graceMs = 10_000) {
  if (proc.exitCode !== null || proc.signalCode !== null) return;
  proc.kill('SIGTERM');
  const t = setTimeout(() => proc.kill('SIGKILL'), graceMs);
  await exited(proc);
  clearTimeout(t);
}

export function request(url, { method = 'GET', body } = {}) {
  return new Promise((res, rej) => {
    const req = http.request(url, { method, agent: false, headers: { connection: 'close', ...(body ? { 'content-type': 'application/json' } : {}) } }, (r) => {
      let data = '';
      r.setEncoding('utf8');
      r.on('data', (d) => { data += d; });
      r.on('end', () => res({ status: r.statusCode, body: data }));
    });
    req.on('error', rej);
    if (body) req.write(JSON.stringify(body));
    req.end();
  });
}

export async function startMock(o, dir) {
  const secret = randomBytes(8).toString('hex');
  const proc = spawn(join(o.binDir, 'mock-qwen'), ['--port', '0', '--jwt-secret', secret], {
    stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, LOG_LEVEL: 'warn' },
  });
  const out = new Lines(proc.stdout);
  const err = new Lines(proc.stderr);
  const m = await out.waitFor(/^mock-qwen listening on (http:\/\/\S+?:(\d+))/, 'mock-qwen to listen').catch((e) => {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n${err.lines.slice(-10).join('\n')}`);
  });
  const url = m[1];
  const token = execFileSync(join(o.binDir, 'mock-qwen'), ['mint-token', '--user', 'bench', '--secret', secret, '--ttl-s', '86400'], { encoding: 'utf8' }).trim();
  const admin = async (path, body) => {
    const r = await request(`${url}/__mock/${path}`, { method: 'POST', body });
    if (r.status !== 200) throw new Error(`mock ${path}: ${r.status} ${r.body}`);
    return JSON.parse(r.body);
  };
  return { proc, url, token, pid: proc.pid, err, admin, stop: () => stopProc(proc), logTail: (n = 20) => err.lines.slice(-n) };
}

// childBinDir: where the launcher finds qp-frontend/qp-broker/qp-worker
// (profile.mjs points it at wrappers that run one of them under valgrind).
export async function startGateway(o, mock, dir, { childBinDir = o.binDir, startTimeoutMs = START_TIMEOUT_MS } = {}) {
  // One account with room for 10,000+ streams; the broker queue likewise.
  const cfg = [
    `runtime_dir = "${dir}/run"`, `state_dir = "${dir}/state"`,
    '[frontend]', 'port = 0', `processes = ${o.frontends ?? 1}`,
    '[broker]', 'queue_limit = 20000',
    '[upstream]', `base_url = "${mock.url}"`,
    '[[accounts]]', 'name = "bench"', `cookies = "token=${mock.token}"`, 'capacity = 20000',
  ].join('\n') + '\n';
  const configPath = join(dir, 'qwenproxy.toml');
  writeFileSync(configPath, cfg, { mode: 0o600 });
  const env = { ...process.env, LOG_LEVEL: 'warn' };
  for (const k of Object.keys(env)) if (k.startsWith('QWEN_') || k.startsWith('QP_')) delete env[k];
  const proc = spawn(join(o.binDir, 'qwenproxy'), ['up', '--config', configPath, '--bin-dir', childBinDir], {
    stdio: ['ignore', 'pipe', 'pipe'], env,
  });
  const out = new Lines(proc.stdout);
  const err = new Lines(proc.stderr, /event=request\./);
  const logFile = createWriteStream(join(dir, 'gateway.log'));
  proc.stdout.on('data', (d) => logFile.write(d));
  proc.stderr.on('data', (d) => logFile.write(d));
  const m = await out.waitFor(/^qwenproxy: ready .* at (http:\/\/\S+?:(\d+))\/v1/, 'the gateway to be ready', startTimeoutMs).catch((e) => {
    proc.kill('SIGKILL');
    throw new Error(`${e.message}\n${err.lines.slice(-20).join('\n')}`);
  });
  const url = m[1];
  const pid = (name) => {
    let p = null;
    for (const l of out.lines) {
      const mm = l.match(/^qwenproxy: started (\S+) pid=(\d+)/);
      if (mm && mm[1] === name) p = Number(mm[2]);
    }
    return p;
  };
  const deadline = Date.now() + startTimeoutMs;
  for (;;) {
    try {
      const r = await request(`${url}/health`);
      if (r.status === 200 && JSON.parse(r.body).accounts.some((a) => a.health === 'ok')) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) { proc.kill('SIGKILL'); throw new Error('gateway not healthy'); }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    proc, url, err,
    // frontend: the pids of every frontend process ("frontend", or "frontend:K" when several).
    pids: {
      frontend: (o.frontends ?? 1) > 1 ? Array.from({ length: o.frontends }, (_, k) => pid(`frontend:${k}`)) : [pid('frontend')],
      broker: pid('broker'), worker: pid('worker:bench'),
    },
    // Launcher lines (restarts, watchdog kills) and the children's warnings.
    // Per-request failure lines are left out: they repeat the client's view.
    logTail: (n = 20) => [...out.lines.filter((l) => !/^qwenproxy: (started|ready)/.test(l)).slice(-n),
      ...err.lines.slice(-n)],
    logFile: join(dir, 'gateway.log'),
    stop: () => stopProc(proc, 15_000),
  };
}

export function runBench(o, args, outFile) {
  return new Promise((res, rej) => {
    const proc = spawn(join(o.binDir, 'qp-bench'), [...args, '-o', outFile], { stdio: ['ignore', 'inherit', 'pipe'] });
    let err = '';
    proc.stderr.setEncoding('utf8');
    proc.stderr.on('data', (d) => { err += d; });
    proc.on('error', rej);
    proc.on('exit', (code, signal) => {
      if (code !== 0) return rej(new Error(`qp-bench exited ${code ?? signal}: ${err.trim()}`));
      try {
        res(JSON.parse(readFileSync(outFile, 'utf8')));
      } catch (e) {
        rej(new Error(`qp-bench output is not valid JSON: ${e.message}`));
      }
    });
  });
}

