// The standard benchmark suite (docs/benchmarks.md, "Scenarios"). For each
// scenario it starts a fresh mock-qwen and a fresh gateway (`qwenproxy up`,
// ports chosen by the kernel), runs qp-bench twice back to back, direct to the
// mock (Qwen web API) and through the gateway (OpenAI API), and reports the
// ratio next to the target. Process RSS and CPU are sampled by qp-bench from
// /proc.
//
//   tools/bench/run-suite.sh [--quick | --smoke] [--only P1,P3] [--runs direct,gateway]
//                            [--bin-dir DIR] [--out docs/benchmarks.md | --no-doc]
//                            [--json FILE] [--keep] [--frontends N]
//
// --smoke: tiny numbers, no doc; exits non-zero if any run fails to produce
// valid output or a request fails (the ctest `bench.smoke`). Timings are
// never asserted.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync, existsSync } from 'node:fs';
import { tmpdir, cpus, release, totalmem } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { startMock, startGateway, runBench } from './stack.mjs';

const REPO = resolve(dirname(new URL(import.meta.url).pathname), '../..');

// ---------------------------------------------------------------- options
function parseArgs(argv) {
  const o = { profile: 'full', only: null, binDir: process.env.QP_BIN_DIR || join(REPO, 'build/bin'),
    out: join(REPO, 'docs/benchmarks.md'), doc: true, json: null, keep: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = () => { if (i + 1 >= argv.length) die(`${a} needs a value`); return argv[++i]; };
    if (a === '--quick') o.profile = 'quick';
    else if (a === '--smoke') { o.profile = 'smoke'; o.doc = false; }
    else if (a === '--only') o.only = next().split(',').map((s) => s.trim().toUpperCase());
    else if (a === '--runs') o.runs = next().split(',').map((s) => s.trim());
    else if (a === '--bin-dir') o.binDir = resolve(next());
    else if (a === '--out') o.out = resolve(next());
    else if (a === '--no-doc') o.doc = false;
    else if (a === '--json') o.json = resolve(next());
    else if (a === '--keep') o.keep = true;
    else if (a === '--frontends') {
      o.frontends = Number(next());
      if (!Number.isInteger(o.frontends) || o.frontends < 1) die('--frontends needs a whole number ≥ 1');
    }
    else if (a === '-h' || a === '--help') { console.log(readFileSync(new URL(import.meta.url)).toString().split('\n').slice(0, 14).join('\n')); process.exit(0); }
    else die(`unknown option ${a}`);
  }
  return o;
}

function die(msg) {
  console.error(`run-suite: ${msg}`);
  process.exit(2);
}

const log = (...a) => console.error('[bench]', ...a);

// ---------------------------------------------------------------- scenarios
// Each scenario: mock start-up config, gateway config, and its runs. A run is
// {name, path: 'direct'|'gateway', args: qp-bench args, mock: config patch}.
// Sizes per profile: full (the documented numbers), quick, smoke.
function scenarios(profile) {
  const P = (full, quick, smoke) => (profile === 'full' ? full : profile === 'quick' ? quick : smoke);
  const direct = (extra = []) => ['--api', 'qwen', '--qwen-chat', 'per-request', ...extra];
  const gateway = (extra = []) => ['--api', 'openai', ...extra];
  const list = [];

  // P1: small non-stream completions at a fixed arrival rate.
  {
    const load = P(['-r', '1000', '-d', '20', '--warmup', '3', '-c', '64'],
      ['-r', '1000', '-d', '8', '--warmup', '2', '-c', '64'],
      ['-r', '50', '-n', '10', '-d', '0', '-c', '4']);
    list.push({
      id: 'P1', title: 'small non-stream completions at 1,000 req/s',
      runs: [
        { name: 'direct', path: 'direct', args: direct(load) },
        { name: 'gateway', path: 'gateway', args: gateway(load) },
      ],
    });
  }
  // P2: maximum non-stream throughput (closed loop).
  {
    const load = P(['-c', '64', '-d', '15', '--warmup', '3'], ['-c', '64', '-d', '8', '--warmup', '2'],
      ['-c', '4', '-n', '20', '-d', '0']);
    list.push({
      id: 'P2', title: 'maximum non-stream throughput',
      runs: [
        { name: 'direct', path: 'direct', args: direct(load) },
        { name: 'gateway', path: 'gateway', args: gateway(load) },
      ],
    });
  }
  // P3: 1,000 concurrent streams, zero inter-token delay.
  {
    const load = P(['-c', '1000', '-d', '20', '--warmup', '5', '--ramp', '2', '--prompt-words', '200'],
      ['-c', '1000', '-d', '10', '--warmup', '4', '--ramp', '2', '--prompt-words', '200'],
      ['-c', '10', '-n', '20', '-d', '0', '--prompt-words', '20']);
    list.push({
      id: 'P3', title: '1,000 concurrent streams, zero inter-token delay',
      mock: { token_delay_ms: 0 },
      runs: [
        { name: 'direct', path: 'direct', args: direct(load) },
        { name: 'gateway', path: 'gateway', args: gateway(['--stream', ...load]) },
      ],
    });
  }
  // P4: 10,000 concurrent slow streams: memory per open stream.
  {
    const n = P(10000, 10000, 50);
    const load = ['-c', String(n), '-n', String(n), '-d', '0', '--timeout', '300', '--sample-ms', '500',
      '--prompt-words', String(P(40, 20, 5)), '--ramp', String(P(10, 6, 0.2))];
    list.push({
      id: 'P4', title: '10,000 concurrent slow streams',
      mock: { token_delay_ms: P(500, 400, 20) },
      runs: [
        { name: 'direct', path: 'direct', args: direct(load) },
        { name: 'gateway', path: 'gateway', args: gateway(['--stream', ...load]) },
      ],
    });
  }
  // P6: new conversations, chats/new at 500 ms vs 0. New conversations arrive
  // at a fixed rate (open loop): the worker's pre-warmed chat pool sizes
  // itself from the take rate and the chats/new latency (worker/chat_pool.h);
  // the warm-up lets it learn both.
  {
    const load = P(['-r', '5', '-c', '8', '-d', '12', '--warmup', '4'], ['-r', '5', '-c', '8', '-d', '6', '--warmup', '4'],
      ['-c', '2', '-n', '4', '-d', '0']);
    const delay = P(500, 500, 50);
    list.push({
      id: 'P6', title: `new conversations, chats/new ${delay} ms vs 0`,
      delay,
      runs: [
        { name: 'direct-pool', path: 'direct', args: ['--api', 'qwen', '--qwen-chat', 'pool', ...load], mock: { chats_new_delay_ms: delay } },
        { name: 'gateway-0', path: 'gateway', args: gateway(['--stream', ...load]), mock: { chats_new_delay_ms: 0 } },
        { name: `gateway-${delay}`, path: 'gateway', args: gateway(['--stream', ...load]), mock: { chats_new_delay_ms: delay } },
      ],
    });
  }
  return list;
}

// ---------------------------------------------------------------- one scenario
async function runScenario(o, sc, workDir) {
  const dir = mkdtempSync(join(workDir, `${sc.id}-`));
  log(`${sc.id}: ${sc.title}`);
  const mock = await startMock(o, dir);
  let gw = null;
  const results = {};
  try {
    gw = await startGateway(o, mock, dir);
    // frontend: every frontend process (--frontends N: frontend.processes).
    const gwPids = [...gw.pids.frontend, gw.pids.broker, gw.pids.worker];
    if (gwPids.some((p) => !p) || gw.pids.frontend.length === 0) throw new Error(`gateway pids not found: ${JSON.stringify(gw.pids)}`);
    const samples = ['--sample', `gateway=${gwPids.join(',')}`, '--sample', `frontend=${gw.pids.frontend.join(',')}`,
      '--sample', `broker=${gw.pids.broker}`, '--sample', `worker=${gw.pids.worker}`, '--sample', `mock=${mock.pid}`];
    for (const run of sc.runs) {
      if (o.runs && !o.runs.includes(run.name)) continue;
      // Same mock state for every run: reset, then this scenario's knobs.
      await mock.admin('reset', {});
      const patch = { ...(sc.mock || {}), ...(run.mock || {}) };
      if (Object.keys(patch).length) await mock.admin('config', patch);
      const url = run.path === 'direct' ? mock.url : gw.url;
      const args = ['--url', url, ...run.args, ...samples, '--label', `${sc.id} ${run.name}`];
      if (run.path === 'direct') args.push('--token', mock.token);
      log(`  ${run.name}: qp-bench ${run.args.join(' ')}`);
      const r = await runBench(o, args, join(dir, `${run.name}.json`));
      r.args = run.args;
      if (r.errors.total > 0) {
        // The processes' own account of the failures, for the report.
        r.log_tail = run.path === 'direct' ? mock.logTail() : gw.logTail();
        log(`  ${run.name}: errors ${JSON.stringify(r.errors.samples.slice(0, 2))}`);
        for (const l of r.log_tail.slice(-8)) log(`    | ${l}`);
      }
      results[run.name] = r;
      log(`  ${run.name}: ok=${r.requests.ok} errors=${r.errors.total} rps=${r.throughput.rps.toFixed(0)} chunks/s=${r.throughput.chunks_per_s.toFixed(0)} ` +
        `total p50=${r.latency_ms.total.p50.toFixed(3)} p99=${r.latency_ms.total.p99.toFixed(3)} ms`);
    }
  } finally {
    if (gw) await gw.stop();
    await mock.stop();
    if (!o.keep) rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

// ---------------------------------------------------------------- verdicts
const fmt = (v, d = 3) => (v === null || v === undefined || Number.isNaN(v) ? 'n/a' : Number(v).toFixed(d));
const fmtInt = (v) => (v === null || v === undefined ? 'n/a' : Math.round(v).toLocaleString('en-US'));
const verdict = (ok) => (ok ? 'met' : '**missed**');

// Per open stream: (RSS at the sample with most open streams - RSS before any load) / open streams.
function rssPerStream(r, group) {
  const p = r.processes[group];
  if (!p || !p.peak_open) return null;
  return (p.rss_kib_at_peak_open - p.rss_kib_before) / p.peak_open;
}

// Gateway CPU (frontend + broker + worker) in ms per unit of work, or null.
function gatewayCpuMsPer(r, units) {
  const cpu = r.processes.gateway?.cpu_s;
  if (cpu === undefined || !units) return null;
  return (1000 * cpu) / units;
}

function evaluate(id, res) {
  const rows = [];
  const d = res.direct;
  const g = res.gateway;
  if (id === 'P1') {
    const a50 = g.latency_ms.total.p50 - d.latency_ms.total.p50;
    const a99 = g.latency_ms.total.p99 - d.latency_ms.total.p99;
    rows.push({ metric: 'latency p50 (ms)', direct: fmt(d.latency_ms.total.p50), through: fmt(g.latency_ms.total.p50), cmp: `+${fmt(a50)} ms`, target: 'added ≤ 0.2 ms', ok: a50 <= 0.2 });
    rows.push({ metric: 'latency p99 (ms)', direct: fmt(d.latency_ms.total.p99), through: fmt(g.latency_ms.total.p99), cmp: `+${fmt(a99)} ms`, target: 'added ≤ 1 ms', ok: a99 <= 1 });
  } else if (id === 'P2') {
    const ratio = g.throughput.rps / d.throughput.rps;
    rows.push({ metric: 'throughput (req/s)', direct: fmtInt(d.throughput.rps), through: fmtInt(g.throughput.rps), cmp: `×${fmt(ratio, 2)}`, target: 'ratio ≥ 0.6', ok: ratio >= 0.6 });
    const perReq = gatewayCpuMsPer(g, g.requests.ok);
    rows.push({ metric: 'gateway CPU per request (ms, 3 processes)', direct: '—', through: fmt(perReq, 3), cmp: '', target: '≤ 0.2 ms', ok: perReq !== null && perReq <= 0.2 });
  } else if (id === 'P3') {
    const ratio = g.throughput.chunks_per_s / d.throughput.chunks_per_s;
    const added = g.latency_ms.gap.p99 - d.latency_ms.gap.p99;
    rows.push({ metric: 'content chunks/s', direct: fmtInt(d.throughput.chunks_per_s), through: fmtInt(g.throughput.chunks_per_s), cmp: `×${fmt(ratio, 2)}`, target: 'ratio ≥ 0.8', ok: ratio >= 0.8 });
    const ttfc = g.latency_ms.ttfc.p50 - d.latency_ms.ttfc.p50;
    rows.push({ metric: 'time to first content p50 (ms)', direct: fmt(d.latency_ms.ttfc.p50), through: fmt(g.latency_ms.ttfc.p50), cmp: `+${fmt(ttfc)} ms`, target: 'added ≤ 10 ms', ok: ttfc <= 10 });
    rows.push({ metric: 'inter-chunk gap p99 (ms)', direct: fmt(d.latency_ms.gap.p99), through: fmt(g.latency_ms.gap.p99), cmp: `+${fmt(added)} ms`, target: 'added ≤ 5 ms', ok: added <= 5 });
    const chunks = g.throughput.chunks_per_s * g.throughput.window_s;
    const perChunk = gatewayCpuMsPer(g, chunks);
    rows.push({ metric: 'gateway CPU per chunk (µs, 3 processes)', direct: '—', through: perChunk === null ? 'n/a' : fmt(perChunk * 1000, 2), cmp: '', target: '≤ 5 µs', ok: perChunk !== null && perChunk * 1000 <= 5 });
  } else if (id === 'P4') {
    const perG = rssPerStream(g, 'gateway');
    const perM = rssPerStream(d, 'mock');
    rows.push({ metric: 'errors', direct: String(d.errors.total), through: String(g.errors.total), cmp: '', target: '0', ok: g.errors.total === 0 && g.requests.ok === g.requests.started });
    rows.push({ metric: 'RSS per open stream (KiB)', direct: `${fmt(perM, 1)} (mock)`, through: `${fmt(perG, 1)} (gateway, ${fmtInt(g.processes.gateway.peak_open)} open)`, cmp: '', target: '≤ 24 KiB (gateway)', ok: perG !== null && perG <= 24 });
    const ttfc99 = g.latency_ms.ttfc.p99 - d.latency_ms.ttfc.p99;
    rows.push({ metric: 'time to first content p99 (ms)', direct: fmt(d.latency_ms.ttfc.p99), through: fmt(g.latency_ms.ttfc.p99), cmp: `+${fmt(ttfc99)} ms`, target: 'added ≤ 100 ms', ok: ttfc99 <= 100 });
  } else if (id === 'P6') {
    const names = Object.keys(res);
    const g0 = res['gateway-0'];
    const gd = res[names.find((n) => n.startsWith('gateway-') && n !== 'gateway-0')];
    const dp = res['direct-pool'];
    const added = gd.latency_ms.ttfc.p50 - g0.latency_ms.ttfc.p50;
    rows.push({ metric: 'TTFT p50 (ms), chats/new 0 → slow', direct: `${fmt(dp.latency_ms.ttfc.p50)} (pool, slow)`, through: `${fmt(g0.latency_ms.ttfc.p50)} → ${fmt(gd.latency_ms.ttfc.p50)}`, cmp: `+${fmt(added)} ms`, target: 'within 5 ms', ok: added <= 5 });
  }
  return rows;
}

// ---------------------------------------------------------------- report
function machine() {
  const cpu = readFileSync('/proc/cpuinfo', 'utf8').match(/^model name\s*:\s*(.*)$/m);
  let commit = 'unknown';
  let dirty = '';
  try {
    commit = execFileSync('git', ['-C', REPO, 'rev-parse', '--short=12', 'HEAD'], { encoding: 'utf8' }).trim();
    dirty = execFileSync('git', ['-C', REPO, 'status', '--porcelain', '--untracked-files=no'], { encoding: 'utf8' }).trim() ? ' (uncommitted changes)' : '';
  } catch { /* not a checkout */ }
  let build = 'unknown';
  const cache = join(resolve(opts.binDir, '..'), 'CMakeCache.txt');
  if (existsSync(cache)) {
    const c = readFileSync(cache, 'utf8');
    const t = c.match(/^CMAKE_BUILD_TYPE:\w+=(.*)$/m);
    const s = c.match(/^QP_SANITIZE:\w+=(.*)$/m);
    build = `${t ? t[1] : '?'}, QP_SANITIZE=${s ? s[1] : '?'}`;
  }
  let load = '';
  try { load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' '); } catch { /* */ }
  return { cpu: cpu ? cpu[1] : 'unknown', cores: cpus().length, kernel: release(), memGiB: (totalmem() / 2 ** 30).toFixed(1), commit: commit + dirty, build, load };
}

function resourceRows(id, res) {
  const rows = [];
  for (const [name, r] of Object.entries(res)) {
    const p = r.processes;
    const cpu = (k) => (p[k] ? fmt(p[k].cpu_s, 2) : 'n/a');
    const rss = (k) => (p[k] ? fmtInt(p[k].rss_kib_max / 1024) : 'n/a');
    const perReq = r.requests.ok ? (1000 * ((p.gateway?.cpu_s ?? 0)) / r.requests.ok) : null;
    rows.push(`| ${id} | ${name} | ${fmtInt(r.requests.ok)} | ${r.errors.total} | ${fmt(r.throughput.window_s, 1)} | ${cpu('gateway')} (${cpu('frontend')} / ${cpu('broker')} / ${cpu('worker')}) | ${name.startsWith('direct') ? '—' : fmt(perReq, 3)} | ${rss('gateway')} | ${cpu('mock')} | ${rss('mock')} | ${fmt(r.generator.cpu_s, 2)} |`);
  }
  return rows;
}

function latencyRows(id, res) {
  const rows = [];
  for (const [name, r] of Object.entries(res)) {
    const L = r.latency_ms;
    const h = (x) => `${fmt(x.p50)} / ${fmt(x.p90)} / ${fmt(x.p99)} / ${fmt(x.max)}`;
    rows.push(`| ${id} | ${name} | ${fmtInt(r.throughput.rps)} | ${fmtInt(r.throughput.chunks_per_s)} | ${h(L.ttfc)} | ${h(L.total)} | ${L.gap.count ? h(L.gap) : '—'} | ${fmt(L.queue.p99)} |`);
  }
  return rows;
}

function markdown(o, m, all, startedAt, elapsedS) {
  const cmd = `tools/bench/run-suite.sh${process.argv.slice(2).length ? ' ' + process.argv.slice(2).join(' ') : ''}`;
  const L = [];
  L.push(`Run ${startedAt} (${fmt(elapsedS / 60, 1)} min), profile \`${o.profile}\`.`);
  L.push('');
  L.push(`- Command: \`${cmd}\``);
  L.push(`- Commit: \`${m.commit}\`; build: ${m.build}`);
  L.push(`- Machine: ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Linux ${m.kernel}; load average before the run: ${m.load}`);
  L.push('- The load generator, the mock and the gateway share these cores: compare the two columns of one row, not absolute numbers across runs.');
  L.push('');
  L.push('| # | scenario | metric | direct (mock) | through the gateway | through vs direct | target | verdict |');
  L.push('|---|---|---|---|---|---|---|---|');
  for (const { sc, res, error } of all) {
    if (error) {
      L.push(`| ${sc.id} | ${sc.title} | — | — | — | — | — | **failed to run**: ${error.replace(/\|/g, '/').split('\n')[0]} |`);
      continue;
    }
    let rows;
    try {
      rows = evaluate(sc.id, res);
    } catch {
      rows = [];  // a partial scenario (--runs): no verdict
    }
    for (const row of rows) {
      let v = verdict(row.ok);
      if (sc.id === 'P6') v = row.ok ? 'met' : '**missed**';
      L.push(`| ${sc.id} | ${sc.title} | ${row.metric} | ${row.direct} | ${row.through} | ${row.cmp} | ${row.target} | ${v} |`);
    }
  }
  L.push('');
  L.push('Latencies (ms, p50 / p90 / p99 / max; measured from the intended send time):');
  L.push('');
  L.push('| # | run | req/s | chunks/s | time to first content | total | inter-chunk gap | send lag p99 |');
  L.push('|---|---|---|---|---|---|---|---|');
  for (const { sc, res } of all) if (res) L.push(...latencyRows(sc.id, res));
  L.push('');
  L.push('Processes (CPU seconds over the run; RSS max in MiB; gateway = frontend + broker + worker):');
  L.push('');
  L.push('| # | run | ok | errors | window s | gateway CPU s (frontend / broker / worker) | gateway CPU ms per request | gateway RSS max | mock CPU s | mock RSS max | generator CPU s |');
  L.push('|---|---|---|---|---|---|---|---|---|---|---|');
  for (const { sc, res } of all) if (res) L.push(...resourceRows(sc.id, res));
  L.push('');
  L.push('Run parameters (qp-bench arguments besides --url, --token, --sample):');
  L.push('');
  for (const { sc, res } of all) {
    if (!res) continue;
    for (const [name, r] of Object.entries(res)) L.push(`- ${sc.id} ${name}: \`${r.args.join(' ')}\``);
  }
  return L.join('\n');
}

const BEGIN = '<!-- bench-results:begin (written by tools/bench/run-suite.sh; edit outside these markers) -->';
const END = '<!-- bench-results:end -->';

function writeDoc(path, section) {
  let doc = existsSync(path) ? readFileSync(path, 'utf8') : `# Benchmarks\n\n## Latest results\n\n${BEGIN}\n${END}\n`;
  const b = doc.indexOf(BEGIN);
  const e = doc.indexOf(END);
  if (b < 0 || e < b) doc += `\n## Latest results\n\n${BEGIN}\n${END}\n`;
  const b2 = doc.indexOf(BEGIN);
  const e2 = doc.indexOf(END);
  doc = doc.slice(0, b2 + BEGIN.length) + '\n' + section + '\n' + doc.slice(e2);
  writeFileSync(path, doc);
}

// ---------------------------------------------------------------- main
const opts = parseArgs(process.argv.slice(2));
for (const b of ['mock-qwen', 'qwenproxy', 'qp-bench', 'qp-frontend', 'qp-broker', 'qp-worker']) {
  if (!existsSync(join(opts.binDir, b))) die(`${join(opts.binDir, b)} not found (build it, or pass --bin-dir)`);
}
const startedAt = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
const t0 = Date.now();
const m = machine();
const workDir = mkdtempSync(join(tmpdir(), 'qp-bench-'));
const all = [];
let failures = 0;
for (const sc of scenarios(opts.profile)) {
  if (opts.only && !opts.only.includes(sc.id)) continue;
  try {
    const res = await runScenario(opts, sc, workDir);
    all.push({ sc, res });
    if (opts.profile === 'smoke') {
      for (const [name, r] of Object.entries(res)) {
        if (r.requests.ok === 0 || r.errors.total !== 0 || r.requests.ok !== r.requests.started) {
          failures++;
          log(`  SMOKE FAILURE ${sc.id} ${name}: ok=${r.requests.ok} started=${r.requests.started} errors=${JSON.stringify(r.errors)}`);
        }
      }
      if (!opts.runs) evaluate(sc.id, res);  // must not throw on real output
    }
  } catch (e) {
    failures++;
    log(`${sc.id} failed: ${e.stack || e}`);
    all.push({ sc, res: null, error: String(e.message || e) });
  }
}
const section = markdown(opts, m, all, startedAt, (Date.now() - t0) / 1000);
if (opts.json) writeFileSync(opts.json, JSON.stringify({ machine: m, startedAt, profile: opts.profile, scenarios: all.map(({ sc, res, error }) => ({ id: sc.id, title: sc.title, error, runs: res })) }, null, 1));
if (opts.doc) {
  writeDoc(opts.out, section);
  log(`wrote ${opts.out}`);
} else {
  console.log(section);
}
if (!opts.keep) rmSync(workDir, { recursive: true, force: true });
process.exit(failures ? 1 : 0);
