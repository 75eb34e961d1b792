// Profiles the per-chunk path of the gateway under a P3-like streaming load.
//
//   tools/bench/profile.sh [--tool callgrind|perf] [--proc frontend|broker|worker]
//                          [--streams 100] [--requests 500] [--words 200] [--non-stream]
//                          [--bin-dir DIR] [--out DIR]
//
// callgrind: the chosen process runs under `valgrind --tool=callgrind` (the
//   launcher starts it through a wrapper in a temporary bin dir); the report
//   (callgrind_annotate, exclusive and inclusive) lands in --out. Callgrind
//   makes that process ~50x slower, so the load is closed-loop and sized by
//   --requests; instruction counts, not times, are the result.
// perf: all three gateway processes at full speed for 10 s, `perf record -e
//   cpu-clock --call-graph dwarf` for seconds 2-7; `perf report` in --out.
// heaptrack: memory per open stream (a P4-like load: --streams slow streams,
//   all open at once, the mock waiting --token-delay-ms between tokens). The
//   chosen process runs with heaptrack's preload library (its own pid, so
//   the launcher's signals reach it); `heaptrack_print` (peak consumers,
//   allocation sites) lands in --out, with the RSS per stream of every
//   process. Streams are ramped over --ramp seconds.
// rss: the same load without any tool: RSS per open stream per process.
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { startMock, startGateway, runBench, exited } from './stack.mjs';

const REPO = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const o = { tool: 'callgrind', proc: 'frontend', streams: 100, requests: 500, words: 200, stream: true,
  binDir: process.env.QP_BIN_DIR || join(REPO, 'build/bin'), out: null, tokenDelayMs: 500, ramp: null };
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  const v = () => argv[++i];
  if (a === '--tool') o.tool = v();
  else if (a === '--proc') o.proc = v();
  else if (a === '--streams') o.streams = Number(v());
  else if (a === '--requests') o.requests = Number(v());
  else if (a === '--words') o.words = Number(v());
  else if (a === '--non-stream') o.stream = false;
  else if (a === '--token-delay-ms') o.tokenDelayMs = Number(v());
  else if (a === '--ramp') o.ramp = Number(v());
  else if (a === '--bin-dir') o.binDir = resolve(v());
  else if (a === '--out') o.out = resolve(v());
  else { console.error(`profile: unknown option ${a}`); process.exit(2); }
}
if (!['callgrind', 'perf', 'heaptrack', 'rss'].includes(o.tool)) { console.error('profile: --tool callgrind|perf|heaptrack|rss'); process.exit(2); }
const memory = o.tool === 'heaptrack' || o.tool === 'rss';
if (!['frontend', 'broker', 'worker'].includes(o.proc)) { console.error('profile: --proc frontend|broker|worker'); process.exit(2); }
o.out = o.out || mkdtempSync(join(tmpdir(), 'qp-profile-'));
mkdirSync(o.out, { recursive: true });
const log = (...a) => console.error('[profile]', ...a);

const dir = mkdtempSync(join(tmpdir(), 'qp-profile-run-'));
let childBinDir = o.binDir;
const cgOut = join(o.out, `callgrind.out.${o.proc}`);
const htOut = join(o.out, `heaptrack.${o.proc}.zst`);
const HT = '/usr/lib/heaptrack';
if (o.tool === 'callgrind' || o.tool === 'heaptrack') {
  // A bin dir where qp-<proc> is a wrapper that execs valgrind on the real one.
  childBinDir = join(dir, 'bin');
  mkdirSync(childBinDir);
  for (const b of ['qp-frontend', 'qp-broker', 'qp-worker']) {
    const real = join(o.binDir, b);
    if (b === `qp-${o.proc}`) {
      // heaptrack: what /usr/bin/heaptrack does, minus its shell staying the parent.
      const body = o.tool === 'callgrind'
        ? `exec valgrind --tool=callgrind --callgrind-out-file=${cgOut} ${real} "$@"\n`
        : `pipe=${dir}/heaptrack.pipe\nmkfifo "$pipe"\n${HT}/libexec/heaptrack_interpret < "$pipe" | zstd -q -c > ${htOut} &\n` +
          `DUMP_HEAPTRACK_OUTPUT="$pipe" LD_PRELOAD=${HT}/libheaptrack_preload.so exec ${real} "$@"\n`;
      writeFileSync(join(childBinDir, b), `#!/bin/sh\n${body}`);
      chmodSync(join(childBinDir, b), 0o755);
    } else {
      symlinkSync(real, join(childBinDir, b));
    }
  }
}

const mock = await startMock(o, dir);
let gw = null;
try {
  gw = await startGateway(o, mock, dir, { childBinDir, startTimeoutMs: 120_000 });
  // callgrind: a fixed number of requests (the process is slow); perf: a fixed duration, sampled in
  // its middle (seconds 2 to 7 of 10).
  const size = o.tool === 'perf' ? ['-d', '10'] : ['-n', String(memory ? o.streams : o.requests), '-d', '0'];
  const args = ['--url', gw.url, ...(o.stream ? ['--stream'] : []), '-c', String(o.streams), ...size,
    '--prompt-words', String(o.words), '--timeout', '600', '--label', `profile ${o.tool} ${o.proc}`];
  if (memory) {
    // P4's shape (run-suite.mjs): every stream open at once, slow tokens.
    await mock.admin('config', { token_delay_ms: o.tokenDelayMs });
    args.push('--ramp', String(o.ramp ?? Math.max(1, o.streams / 1000)), '--sample-ms', '500',
      '--sample', `frontend=${gw.pids.frontend.join(',')}`, '--sample', `broker=${gw.pids.broker}`,
      '--sample', `worker=${gw.pids.worker}`,
      '--sample', `gateway=${[...gw.pids.frontend, gw.pids.broker, gw.pids.worker].join(',')}`);
  }
  let perf = null;
  let perfTimer = null;
  if (o.tool === 'perf') {
    perfTimer = setTimeout(() => {
      const pids = [...gw.pids.frontend, gw.pids.broker, gw.pids.worker].join(',');
      perf = spawn('perf', ['record', '-e', 'cpu-clock', '-F', '999', '--call-graph', 'dwarf,16384', '-o', join(o.out, 'perf.data'), '-p', pids],
        { stdio: ['ignore', 'ignore', 'inherit'] });
      perfTimer = setTimeout(() => perf.kill('SIGINT'), 5000);
    }, 2000);
  }
  log(`qp-bench ${args.slice(2).join(' ')}`);
  const r = await runBench(o, args, join(o.out, 'bench.json'));
  clearTimeout(perfTimer);
  if (perf && perf.exitCode === null) perf.kill('SIGINT');
  log(`ok=${r.requests.ok} errors=${r.errors.total} chunks=${r.throughput.content_chunks} chunks/s=${r.throughput.chunks_per_s.toFixed(0)}`);
  let summary = `requests ok: ${r.requests.ok}\nerrors: ${r.errors.total}\ncontent chunks: ${r.throughput.content_chunks}\nSSE events: ${r.throughput.events}\n`;
  if (memory) {
    // RSS at the sample with the most open streams minus before the load, per open stream.
    for (const g of ['frontend', 'broker', 'worker', 'gateway']) {
      const p = r.processes[g];
      if (!p || !p.peak_open) continue;
      const per = (p.rss_kib_at_peak_open - p.rss_kib_before) / p.peak_open;
      summary += `${g}: RSS ${p.rss_kib_before} KiB before, ${p.rss_kib_at_peak_open} KiB at ${p.peak_open} open: ${per.toFixed(1)} KiB per open stream\n`;
    }
  }
  writeFileSync(join(o.out, 'summary.txt'), summary);
  if (memory) process.stderr.write(summary);
  if (perf) await exited(perf);
} finally {
  if (gw) await gw.stop();
  await mock.stop();
  rmSync(dir, { recursive: true, force: true });
}

if (o.tool === 'callgrind') {
  if (!existsSync(cgOut)) { console.error(`profile: ${cgOut} was not written`); process.exit(1); }
  const opts = { encoding: 'utf8', maxBuffer: 64 << 20 };
  writeFileSync(join(o.out, `annotate.${o.proc}.exclusive.txt`), execFileSync('callgrind_annotate', ['--threshold=99', cgOut], opts));
  writeFileSync(join(o.out, `annotate.${o.proc}.inclusive.txt`), execFileSync('callgrind_annotate', ['--inclusive=yes', '--threshold=99', cgOut], opts));
  log(`callgrind reports in ${o.out}`);
} else if (o.tool === 'heaptrack') {
  if (!existsSync(htOut)) { console.error(`profile: ${htOut} was not written`); process.exit(1); }
  const opts = { encoding: 'utf8', maxBuffer: 256 << 20 };
  const print = (extra) => execFileSync('heaptrack_print', ['-f', htOut, '--print-leaks', '0', ...extra], opts);
  writeFileSync(join(o.out, `heaptrack.${o.proc}.peak.txt`),
    print(['--print-peaks', '1', '--print-allocators', '0', '--print-temporary', '0', '-n', '40', '-s', '15']));
  writeFileSync(join(o.out, `heaptrack.${o.proc}.flat.txt`),
    print(['--print-peaks', '1', '--print-allocators', '0', '--print-temporary', '0', '--merge-backtraces', '0', '-n', '60', '-s', '0']));
  // Stacks weighted by the bytes each holds at the peak (flamegraph format: `frame;frame;... bytes`).
  print(['--print-peaks', '0', '--print-allocators', '0', '--print-temporary', '0', '--flamegraph-cost-type', 'peak',
    '-F', join(o.out, `heaptrack.${o.proc}.peak-stacks.txt`)]);
  log(`heaptrack reports in ${o.out}`);
} else if (o.tool === 'perf') {
  const opts = { encoding: 'utf8', maxBuffer: 256 << 20 };
  const report = (extra) => execFileSync('perf', ['report', '-i', join(o.out, 'perf.data'), '--stdio', ...extra], opts);
  writeFileSync(join(o.out, 'perf.by-process.txt'), report(['--no-children', '--sort', 'comm,dso', '-g', 'none']));
  writeFileSync(join(o.out, 'perf.children.txt'), report(['--children', '--sort', 'comm,sym', '-g', 'none']));
  log(`perf reports in ${o.out}`);
}
