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
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, writeFileSync, symlinkSync, chmodSync, existsSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve, dirname } from 'node:path';
import { startMock, startGateway, runBench, exited } from './stack.mjs';

const REPO = resolve(dirname(new URL(import.meta.url).pathname), '../..');
const o = { tool: 'callgrind', proc: 'frontend', streams: 100, requests: 500, words: 200, stream: true,
  binDir: process.env.QP_BIN_DIR || join(REPO, 'build/bin'), out: null };
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
  else if (a === '--bin-dir') o.binDir = resolve(v());
  else if (a === '--out') o.out = resolve(v());
  else { console.error(`profile: unknown option ${a}`); process.exit(2); }
}
if (!['callgrind', 'perf'].includes(o.tool)) { console.error('profile: --tool callgrind|perf'); process.exit(2); }
if (!['frontend', 'broker', 'worker'].includes(o.proc)) { console.error('profile: --proc frontend|broker|worker'); process.exit(2); }
o.out = o.out || mkdtempSync(join(tmpdir(), 'qp-profile-'));
mkdirSync(o.out, { recursive: true });
const log = (...a) => console.error('[profile]', ...a);

const dir = mkdtempSync(join(tmpdir(), 'qp-profile-run-'));
let childBinDir = o.binDir;
const cgOut = join(o.out, `callgrind.out.${o.proc}`);
if (o.tool === 'callgrind') {
  // A bin dir where qp-<proc> is a wrapper that execs valgrind on the real one.
  childBinDir = join(dir, 'bin');
  mkdirSync(childBinDir);
  for (const b of ['qp-frontend', 'qp-broker', 'qp-worker']) {
    const real = join(o.binDir, b);
    if (b === `qp-${o.proc}`) {
      writeFileSync(join(childBinDir, b), `#!/bin/sh\nexec valgrind --tool=callgrind --callgrind-out-file=${cgOut} ${real} "$@"\n`);
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
  const size = o.tool === 'perf' ? ['-d', '10'] : ['-n', String(o.requests), '-d', '0'];
  const args = ['--url', gw.url, ...(o.stream ? ['--stream'] : []), '-c', String(o.streams), ...size,
    '--prompt-words', String(o.words), '--timeout', '600', '--label', `profile ${o.tool} ${o.proc}`];
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
  writeFileSync(join(o.out, 'summary.txt'), `requests ok: ${r.requests.ok}\ncontent chunks: ${r.throughput.content_chunks}\nSSE events: ${r.throughput.events}\n`);
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
} else {
  const opts = { encoding: 'utf8', maxBuffer: 256 << 20 };
  const report = (extra) => execFileSync('perf', ['report', '-i', join(o.out, 'perf.data'), '--stdio', ...extra], opts);
  writeFileSync(join(o.out, 'perf.by-process.txt'), report(['--no-children', '--sort', 'comm,dso', '-g', 'none']));
  writeFileSync(join(o.out, 'perf.children.txt'), report(['--children', '--sort', 'comm,sym', '-g', 'none']));
  log(`perf reports in ${o.out}`);
}
