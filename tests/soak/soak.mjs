// Soak run (not in CI; scripts/soak.sh builds and starts it): the real stack
// (launcher, broker, frontend, one worker per account) against mock-qwen with
// mixed traffic for a while, with periodic faults: mock fault switches and
// kill -9 of a worker or of the broker. Samples every process's RSS, and at
// the end prints the RSS slope per process (KiB/min, least squares over the
// samples after the warm-up) and the responses by class (checker.mjs).
// Exits 1 if any response was bad (or dropped) or a process died on its own.
//
//   QP_BIN_DIR=build-release/bin/ node tests/soak/soak.mjs --minutes 30
import { parseArgs } from 'node:util';
import { readFileSync, writeFileSync } from 'node:fs';
import { startMock, startStack } from '../integration/harness.mjs';
import { call } from '../integration/checker.mjs';

const { values: opt } = parseArgs({
  options: {
    minutes: { type: 'string', default: '30' },
    clients: { type: 'string', default: '8' },
    'think-ms': { type: 'string', default: '100' },         // pause between one client's requests
    'fault-every-s': { type: 'string', default: '20' },
    'sample-every-s': { type: 'string', default: '10' },
    'warmup-minutes': { type: 'string' },                   // default: 20% of the run, at most 5
    json: { type: 'string' },                               // also write the results here
    'no-kills': { type: 'boolean', default: false },        // only mock faults: every pid lives the whole run
  },
});
const MINUTES = Number(opt.minutes);
const CLIENTS = Number(opt.clients);
const THINK_MS = Number(opt['think-ms']);
const FAULT_EVERY_MS = Number(opt['fault-every-s']) * 1000;
const SAMPLE_EVERY_MS = Number(opt['sample-every-s']) * 1000;
const WARMUP_MIN = opt['warmup-minutes'] !== undefined ? Number(opt['warmup-minutes']) : Math.min(5, MINUTES * 0.2);
const MODEL = 'qwen3-max';
const ACCOUNTS = ['alice', 'bob', 'carol'].map((name) => ({ name, user: name }));
const TOOLS = [{
  type: 'function',
  function: {
    name: 'get_weather',
    description: 'Current weather for a city',
    parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
  },
}];
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));  // pacing only, never synchronisation
const log = (m) => process.stderr.write(`[soak ${new Date().toISOString().slice(11, 19)}] ${m}\n`);

// ---- results ------------------------------------------------------------------

const counts = {};  // type -> kind -> n
const whys = {};    // `${kind}: ${why}` -> n (errors, drops, bad)
function count(type, r) {
  counts[type] ??= { complete: 0, error: 0, dropped: 0, bad: 0 };
  counts[type][r.kind]++;
  if (r.kind !== 'complete') {
    const key = `${r.kind}: ${r.why}`;
    whys[key] = (whys[key] ?? 0) + 1;
    if (r.kind === 'bad' || r.kind === 'dropped') log(`${type} ${key}`);
  }
}

// ---- traffic --------------------------------------------------------------------

let stopping = false;
let seq = 0;
const words = 'the quick brown fox jumps over the lazy dog while the gateway keeps streaming'.split(' ');
const prompt = (tag) => `${tag} ${++seq}: ${Array.from({ length: 12 }, (_, i) => words[(seq + i) % words.length]).join(' ')}`;

function assistantMessage(r) {
  if (r.events) return { role: 'assistant', content: r.content };
  return JSON.parse(r.text).choices[0].message;
}

async function client(baseUrl, id) {
  let history = [];
  for (let n = 0; !stopping; n++) {
    const type = ['stream', 'nonstream', 'tools', 'conversation'][(n + id) % 4];
    const stream = (n + id) % 3 === 0;
    if (type === 'stream' || type === 'nonstream') {
      count(type, await call(baseUrl, { model: MODEL, stream: type === 'stream', messages: [{ role: 'user', content: prompt(type) }] }, { deadlineMs: 30_000 }).result);
    } else if (type === 'tools') {
      const messages = [{ role: 'user', content: `What is the weather in Paris? (${prompt('tools')})` }];
      const r = await call(baseUrl, { model: MODEL, stream, messages, tools: TOOLS }, { deadlineMs: 30_000 }).result;
      count('tools', r);
      if (r.kind === 'complete' && !stream) {
        const msg = assistantMessage(r);
        const tc = msg.tool_calls?.[0];
        if (tc) {
          messages.push(msg, { role: 'tool', tool_call_id: tc.id, content: 'sunny, 24' });
          count('tools', await call(baseUrl, { model: MODEL, messages, tools: TOOLS }, { deadlineMs: 30_000 }).result);
        }
      }
    } else {
      const user = { role: 'user', content: prompt('conversation') };
      const r = await call(baseUrl, { model: MODEL, stream, messages: [...history, user] }, { deadlineMs: 30_000 }).result;
      count('conversation', r);
      if (r.kind === 'complete') history.push(user, assistantMessage(r));  // else: retried next time
      if (history.length >= 12) history = [];
    }
    await sleep(THINK_MS);
  }
}

// ---- faults ----------------------------------------------------------------------

const faultLog = {};
function faults(mock, stack) {
  let i = 0;
  let victim = 0;
  const mockFault = (f) => () => mock.config({ add_faults: [{ scope: 'next', ...f }] }).then(() => f.kind);
  const plan = [
    mockFault({ kind: 'mid_stream_error', count: 4, after: 1 }),
    !opt['no-kills'] && (() => kill(stack, `worker:${ACCOUNTS[victim++ % ACCOUNTS.length].name}`)),
    mockFault({ kind: 'drop_mid_stream', count: 4, after: 1 }),
    mockFault({ kind: 'internal_error', count: 4 }),
    !opt['no-kills'] && (() => kill(stack, 'broker')),
    mockFault({ kind: 'slow_first_byte', count: 3, delay_ms: 3000 }),
    mockFault({ kind: 'chat_in_progress', count: 3 }),
    mockFault({ kind: 'moderation', count: 3 }),
    mockFault({ kind: 'empty_answer', count: 3 }),
  ].filter(Boolean);
  const timer = setInterval(async () => {
    if (stopping) return;
    try {
      const what = await plan[i++ % plan.length]();
      faultLog[what] = (faultLog[what] ?? 0) + 1;
      log(`fault: ${what}`);
    } catch (e) {
      log(`fault failed: ${e.message}`);
    }
  }, FAULT_EVERY_MS);
  return () => clearInterval(timer);
}

async function kill(stack, name) {
  const pid = stack.pid(name);
  process.kill(pid, 'SIGKILL');
  return `kill -9 ${name.startsWith('worker:') ? 'worker' : name}`;
}

// ---- RSS ---------------------------------------------------------------------------

const samples = [];  // { t (ms since start), name, pid, kib }
function rssKiB(pid) {
  try {
    const m = readFileSync(`/proc/${pid}/status`, 'utf8').match(/^VmRSS:\s+(\d+) kB/m);
    return m ? Number(m[1]) : null;
  } catch {
    return null;  // just died
  }
}

function sampler(mock, stack, t0) {
  const names = ['launcher', 'broker', 'frontend', ...ACCOUNTS.map((a) => `worker:${a.name}`), 'mock'];
  const take = () => {
    for (const name of names) {
      const pid = name === 'launcher' ? stack.proc.pid : name === 'mock' ? mock.proc.pid : stack.pid(name);
      const kib = pid ? rssKiB(pid) : null;
      if (kib !== null) samples.push({ t: Date.now() - t0, name, pid, kib });
    }
  };
  take();
  const timer = setInterval(take, SAMPLE_EVERY_MS);
  return () => { clearInterval(timer); take(); };
}

// Least-squares slope in KiB/min.
function slope(points) {
  const n = points.length;
  if (n < 3) return null;
  const mx = points.reduce((s, p) => s + p.x, 0) / n;
  const my = points.reduce((s, p) => s + p.y, 0) / n;
  let num = 0;
  let den = 0;
  for (const p of points) { num += (p.x - mx) * (p.y - my); den += (p.x - mx) ** 2; }
  return den === 0 ? null : num / den;
}

// Per process: the longest-lived pid's samples after the warm-up (a killed
// process starts again from a fresh RSS, so its samples are not mixed).
function rssTable() {
  const rows = [];
  const warmMs = WARMUP_MIN * 60_000;
  for (const name of [...new Set(samples.map((s) => s.name))]) {
    const mine = samples.filter((s) => s.name === name);
    const pids = [...new Set(mine.map((s) => s.pid))];
    let best = [];
    for (const pid of pids) {
      const seg = mine.filter((s) => s.pid === pid && s.t >= warmMs);
      if (seg.length > best.length) best = seg;
    }
    const pts = best.map((s) => ({ x: s.t / 60_000, y: s.kib }));
    const sl = slope(pts);
    rows.push({
      process: name,
      pids: pids.length,
      samples: best.length,
      minutes: best.length ? ((best.at(-1).t - best[0].t) / 60_000).toFixed(1) : '0',
      first_kib: best[0]?.kib ?? null,
      last_kib: best.at(-1)?.kib ?? null,
      max_kib: Math.max(...mine.map((s) => s.kib)),
      slope_kib_per_min: sl === null ? null : Number(sl.toFixed(1)),
    });
  }
  return rows;
}

function markdown(rows, columns) {
  const head = `| ${columns.join(' | ')} |\n|${columns.map(() => '---').join('|')}|\n`;
  return head + rows.map((r) => `| ${columns.map((c) => r[c] ?? '—').join(' | ')} |`).join('\n') + '\n';
}

// ---- main ----------------------------------------------------------------------------

const mock = await startMock();
await mock.config({ token_delay_ms: 5 });
await mock.rules([
  { match: { contains: 'weather in Paris' }, reply: 'Let me check.\n<tool_call>\n<function=fn_get_weather>\n<parameter=city>Paris</parameter>\n</function>\n</tool_call>' },
  { match: { contains: 'sunny, 24' }, reply: 'It is sunny in Paris, 24 °C.' },
]);
const stack = await startStack({ mock, accounts: ACCOUNTS, upstream: { first_byte_timeout_ms: 2000 } });
log(`stack up at ${stack.baseUrl}; ${MINUTES} min, ${CLIENTS} clients, a fault every ${FAULT_EVERY_MS / 1000} s, warm-up ${WARMUP_MIN} min`);
const t0 = Date.now();
const stopSampler = sampler(mock, stack, t0);
const stopFaults = faults(mock, stack);
const onSignal = () => { log('interrupted: finishing'); stopping = true; };
process.on('SIGINT', onSignal);
process.on('SIGTERM', onSignal);
const progress = setInterval(() => {
  const t = Object.values(counts).reduce((a, c) => ({ complete: a.complete + c.complete, error: a.error + c.error, bad: a.bad + c.bad + c.dropped }), { complete: 0, error: 0, bad: 0 });
  log(`${((Date.now() - t0) / 60_000).toFixed(1)} min: ${JSON.stringify(t)}`);
}, 60_000);
const clients = Array.from({ length: CLIENTS }, (_, id) => client(stack.baseUrl, id));
const end = setTimeout(() => { stopping = true; }, MINUTES * 60_000);
await Promise.all(clients);
clearTimeout(end);
clearInterval(progress);
stopFaults();
stopSampler();
const elapsedMin = (Date.now() - t0) / 60_000;

// Children that died without being killed by us (a crash, an abort).
const exits = stack.out.lines.filter((l) => /^qwenproxy: \S+ exited/.test(l));
const unexpected = exits.filter((l) => !/\(signal 9\)/.test(l));
await stack.stop();
await mock.stop();

const rss = rssTable();
const typeRows = Object.entries(counts).map(([type, c]) => ({ type, ...c, total: c.complete + c.error + c.dropped + c.bad }));
const total = typeRows.reduce((a, r) => ({ type: 'all', complete: a.complete + r.complete, error: a.error + r.error, dropped: a.dropped + r.dropped, bad: a.bad + r.bad, total: a.total + r.total }), { type: 'all', complete: 0, error: 0, dropped: 0, bad: 0, total: 0 });
typeRows.push(total);
const whyRows = Object.entries(whys).sort((a, b) => b[1] - a[1]).map(([why, n]) => ({ class: why, n }));
const faultRows = Object.entries(faultLog).map(([fault, n]) => ({ fault, n }));

let out = `Soak: ${elapsedMin.toFixed(1)} min, ${CLIENTS} clients, 3 accounts, a fault every ${FAULT_EVERY_MS / 1000} s${opt['no-kills'] ? ' (no kills)' : ''}, RSS every ${SAMPLE_EVERY_MS / 1000} s, warm-up ${WARMUP_MIN} min, binaries ${process.env.QP_BIN_DIR ?? '(default)'}\n\n`;
out += 'RSS per process (slope over the longest-lived pid after the warm-up):\n\n';
out += markdown(rss, ['process', 'pids', 'samples', 'minutes', 'first_kib', 'last_kib', 'max_kib', 'slope_kib_per_min']);
out += '\nResponses by request type:\n\n' + markdown(typeRows, ['type', 'total', 'complete', 'error', 'dropped', 'bad']);
out += '\nNon-complete responses by class:\n\n' + markdown(whyRows, ['class', 'n']);
out += '\nFaults injected:\n\n' + markdown(faultRows, ['fault', 'n']);
out += `\nChild exits: ${exits.length} (unexpected, i.e. not our kill -9: ${unexpected.length}${unexpected.length ? `: ${unexpected.join('; ')}` : ''})\n`;
process.stdout.write(out);
if (opt.json) writeFileSync(opt.json, JSON.stringify({ minutes: elapsedMin, rss, samples, counts, whys, faults: faultLog, exits, unexpected }, null, 1));
process.exit(total.bad + total.dropped > 0 || unexpected.length > 0 ? 1 : 0);
