// The installed service: `cmake --install` into a temporary DESTDIR, then
// every systemd unit must pass `systemd-analyze verify` (with that directory
// as --root, so the binaries the units name must really be installed) and
// every service must rate an exposure of 2.0 or less on
// `systemd-analyze security --offline=yes`. No running systemd is needed.
// Negative controls show that both checks do fail on a bad unit.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import {
  copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync,
  writeFileSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { BIN, tempDir } from './harness.mjs';

const BUILD_DIR = process.env.QP_BUILD_DIR || dirname(BIN.replace(/\/$/, ''));
const CMAKE = process.env.QP_CMAKE || 'cmake';
const PREFIX = '/usr/local'; // CMAKE_INSTALL_PREFIX of the test build (the default)
const MAX_EXPOSURE = 2.0;

const UNITS = [
  'qwenproxy-accounts.path',
  'qwenproxy-accounts.service',
  'qwenproxy-broker.service',
  'qwenproxy-frontend.service',
  'qwenproxy-frontend.socket',
  'qwenproxy-frontend@1.service',
  'qwenproxy-worker@alice.service',
  'qwenproxy.target',
];
const SERVICES = UNITS.filter((u) => u.endsWith('.service'));

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { encoding: 'utf8', ...opts });
  if (r.error) throw new Error(`${cmd}: ${r.error.message}`);
  return r;
}

function systemdAnalyze(args) {
  const r = spawnSync('systemd-analyze', args, { encoding: 'utf8' });
  if (r.error?.code === 'ENOENT') {
    throw new Error('systemd-analyze is not installed: run scripts/install-deps.sh (package systemd)');
  }
  if (r.error) throw r.error;
  return r;
}

// "→ Overall exposure level for X.service: 1.1 OK 🙂" → 1.1
function exposureOf(output, unit) {
  const m = output.match(new RegExp(`Overall exposure level for ${unit.replace(/[.@]/g, '\\$&')}: (\\d+(?:\\.\\d+)?)`));
  return m ? Number(m[1]) : null;
}

let root; // DESTDIR of the install, also the --root for systemd-analyze
const unitDir = () => join(root, PREFIX, 'lib/systemd/system');

before(() => {
  root = tempDir('qp-install-');
  const r = run(CMAKE, ['--install', BUILD_DIR], { env: { ...process.env, DESTDIR: root } });
  assert.equal(r.status, 0, `cmake --install failed:\n${r.stdout}\n${r.stderr}`);
  // systemd-analyze --root needs the manager's own targets (sysinit.target,
  // multi-user.target, …) and the programs the units run, inside the root.
  const sysUnits = join(root, 'usr/lib/systemd/system');
  mkdirSync(sysUnits, { recursive: true });
  for (const dir of ['/usr/lib/systemd/system', '/lib/systemd/system']) {
    if (!existsSync(dir)) continue;
    for (const f of readdirSync(dir)) {
      const src = join(dir, f);
      if (f.endsWith('.target') && statSync(src).isFile() && !existsSync(join(sysUnits, f))) {
        copyFileSync(src, join(sysUnits, f));
      }
    }
  }
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  copyFileSync('/usr/bin/kill', join(root, 'usr/bin/kill'));
  if (!existsSync(join(root, 'bin'))) symlinkSync('usr/bin', join(root, 'bin'));
});

after(() => {
  if (root) rmSync(root, { recursive: true, force: true });
});

test('cmake --install puts the binaries, units, user, config and examples in place', () => {
  for (const b of ['qwenproxy', 'qp-frontend', 'qp-broker', 'qp-worker']) {
    assert.ok(existsSync(join(root, PREFIX, 'bin', b)), `bin/${b}`);
  }
  for (const u of ['qwenproxy-broker.service', 'qwenproxy-frontend.service', 'qwenproxy-frontend.socket',
    'qwenproxy-frontend@.service', 'qwenproxy-worker@.service', 'qwenproxy.target', 'qwenproxy-accounts.path', 'qwenproxy-accounts.service']) {
    assert.ok(existsSync(join(unitDir(), u)), u);
  }
  // Every ExecStart names an installed binary (not the build tree).
  for (const u of ['qwenproxy-broker.service', 'qwenproxy-frontend.service', 'qwenproxy-frontend@.service',
    'qwenproxy-worker@.service', 'qwenproxy-accounts.service']) {
    const m = readFileSync(join(unitDir(), u), 'utf8').match(/^ExecStart=(\S+)/m);
    assert.ok(m, `${u} has ExecStart`);
    assert.ok(m[1].startsWith(`${PREFIX}/bin/`), `${u}: ${m[1]}`);
    assert.ok(existsSync(join(root, m[1])), `${u}: ${m[1]} is installed`);
  }
  assert.match(readFileSync(join(root, PREFIX, 'lib/sysusers.d/qwenproxy.conf'), 'utf8'), /^u qwenproxy /m);
  assert.match(readFileSync(join(root, PREFIX, 'lib/tmpfiles.d/qwenproxy.conf'), 'utf8'),
    /^d \/etc\/qwenproxy\/accounts 0700 qwenproxy qwenproxy/m);
  const conf = join(root, 'etc/qwenproxy/qwenproxy.toml');
  assert.ok(existsSync(conf));
  assert.equal(statSync(join(root, 'etc/qwenproxy/accounts')).mode & 0o777, 0o700);
  for (const f of ['examples/account.toml.example', 'examples/qwenproxy.toml.example', 'deployment.md']) {
    assert.ok(existsSync(join(root, PREFIX, 'share/doc/qwenproxy', f)), f);
  }
  // The example configuration loads (the installed qwenproxy reads it).
  const list = run(join(root, PREFIX, 'bin/qwenproxy'), ['account', 'list', '--config', conf]);
  assert.equal(list.status, 0, list.stderr);
  assert.match(list.stdout, /no account configured/);
  // A second install keeps the operator's configuration.
  writeFileSync(conf, '# edited by the operator\n');
  const again = run(CMAKE, ['--install', BUILD_DIR], { env: { ...process.env, DESTDIR: root } });
  assert.equal(again.status, 0, again.stderr);
  assert.equal(readFileSync(conf, 'utf8'), '# edited by the operator\n');
});

// Accounts added from the console (docs/deployment.md, "Adding accounts from
// the console"): the frontend may write the accounts directory, a change
// there runs `qwenproxy account sync-units`, and the target pulls both in.
test('the accounts directory watch: path unit, sync service, target, frontend write access', () => {
  const unit = (u) => readFileSync(join(unitDir(), u), 'utf8');
  assert.match(unit('qwenproxy-accounts.path'), /^PathChanged=\/etc\/qwenproxy\/accounts$/m);
  assert.match(unit('qwenproxy-accounts.path'), /^Unit=qwenproxy-accounts\.service$/m);
  const svc = unit('qwenproxy-accounts.service');
  assert.match(svc, /^Type=oneshot$/m);
  assert.match(svc, new RegExp(`^ExecStart=${PREFIX}/bin/qwenproxy account sync-units --config /etc/qwenproxy/qwenproxy.toml$`, 'm'));
  // Root, but with no capability except reading the service user's 0700 accounts directory.
  assert.match(svc, /^CapabilityBoundingSet=CAP_DAC_READ_SEARCH$/m);
  assert.match(unit('qwenproxy.target'), /^Wants=.*qwenproxy-accounts\.path/m);
  assert.match(unit('qwenproxy.target'), /^Wants=.*qwenproxy-accounts\.service/m);
  assert.match(unit('qwenproxy-frontend.service'), /^ReadWritePaths=\/etc\/qwenproxy\/accounts$/m);
  // The command exists in the installed binary (it fails here only for want of systemd).
  const help = run(join(root, PREFIX, 'bin/qwenproxy'), ['account', 'sync-units', '--help']);
  assert.equal(help.status, 0, help.stderr);
  assert.match(help.stdout, /--dry-run/);
});

// The units used to keep the configure-time prefix, so installing a default
// build (/usr/local) with --prefix /usr gave ExecStart=/usr/local/… and
// 203/EXEC at start.
test('cmake --install --prefix X gives units that name X', () => {
  const other = tempDir('qp-install-prefix-');
  try {
    const prefix = '/opt/qp-prefix-test';
    const r = run(CMAKE, ['--install', BUILD_DIR, '--prefix', prefix], { env: { ...process.env, DESTDIR: other } });
    assert.equal(r.status, 0, `cmake --install --prefix failed:\n${r.stdout}\n${r.stderr}`);
    for (const u of ['qwenproxy-broker.service', 'qwenproxy-frontend.service', 'qwenproxy-worker@.service',
      'qwenproxy-accounts.service']) {
      const text = readFileSync(join(other, prefix, 'lib/systemd/system', u), 'utf8');
      const m = text.match(/^ExecStart=(\S+)/m);
      assert.ok(m && m[1].startsWith(`${prefix}/bin/`), `${u}: ExecStart=${m && m[1]}`);
      assert.ok(existsSync(join(other, m[1])), `${u}: ${m[1]} is installed`);
      assert.match(text, new RegExp(`^Documentation=file:${prefix}/share/doc/qwenproxy/deployment.md$`, 'm'));
      assert.doesNotMatch(text, /@QP_[A-Z_]+@/, `${u}: an unsubstituted variable`);
    }
  } finally {
    rmSync(other, { recursive: true, force: true });
  }
});

for (const unit of UNITS) {
  test(`systemd-analyze verify ${unit}: no error, no warning`, () => {
    const r = systemdAnalyze(['verify', `--root=${root}`, '--man=no', '--generators=no', unit]);
    assert.equal(r.status, 0, `exit ${r.status}\n${r.stdout}${r.stderr}`);
    // Unknown keys and bad values are only warnings (exit 0): any output fails.
    assert.equal(r.stderr.trim(), '', r.stderr);
    assert.equal(r.stdout.trim(), '', r.stdout);
  });
}

for (const unit of SERVICES) {
  test(`systemd-analyze security rates ${unit} at ${MAX_EXPOSURE.toFixed(1)} or less`, (t) => {
    const r = systemdAnalyze(['security', '--offline=yes', `--root=${root}`, unit]);
    assert.equal(r.status, 0, r.stderr);
    const exposure = exposureOf(r.stdout, unit);
    assert.notEqual(exposure, null, `no exposure line in:\n${r.stdout}`);
    t.diagnostic(`${unit}: exposure ${exposure}`);
    assert.ok(exposure <= MAX_EXPOSURE, `${unit}: exposure ${exposure} > ${MAX_EXPOSURE}\n${r.stdout}`);
  });
}

test('negative controls: a misspelt key, a missing binary and an unhardened service are caught', () => {
  const broker = readFileSync(join(unitDir(), 'qwenproxy-broker.service'), 'utf8');
  writeFileSync(join(unitDir(), 'qp-typo.service'), broker.replace('RestartSec=', 'RestartSek='));
  const typo = systemdAnalyze(['verify', `--root=${root}`, '--man=no', '--generators=no', 'qp-typo.service']);
  assert.match(typo.stderr, /Unknown key 'RestartSek'/);

  writeFileSync(join(unitDir(), 'qp-nobin.service'), broker.replace(/qp-broker/g, 'qp-no-such-binary'));
  const nobin = systemdAnalyze(['verify', `--root=${root}`, '--man=no', '--generators=no', 'qp-nobin.service']);
  assert.notEqual(nobin.status, 0);
  assert.match(nobin.stderr, /qp-no-such-binary is not executable/);

  writeFileSync(join(unitDir(), 'qp-open.service'),
    `[Service]\nType=notify\nExecStart=${PREFIX}/bin/qp-broker\n`);
  const open = systemdAnalyze(['security', '--offline=yes', `--root=${root}`, 'qp-open.service']);
  const exposure = exposureOf(open.stdout, 'qp-open.service');
  assert.ok(exposure > MAX_EXPOSURE, `an unhardened unit rates ${exposure}`);
  for (const f of ['qp-typo.service', 'qp-nobin.service', 'qp-open.service']) rmSync(join(unitDir(), f));
});

// A port the kernel just handed out (systemd-socket-activate cannot take port 0).
function freePort() {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address();
      srv.close(() => resolve(port));
    });
  });
}

test('the frontend serves on the socket systemd passes (socket activation, LISTEN_FDS)', async () => {
  const dir = tempDir('qp-sockact-');
  // The configured port is never used: the passed socket wins.
  const config = join(dir, 'qwenproxy.toml');
  writeFileSync(config, `runtime_dir = "${dir}/run"\n[frontend]\nport = 0\n`);
  let proc;
  try {
    let port;
    let lastErr = '';
    for (let attempt = 0; attempt < 3 && !proc; attempt++) {
      port = await freePort();
      const p = spawn('systemd-socket-activate', ['-l', `127.0.0.1:${port}`, join(BIN, 'qp-frontend'), '--config', config], {
        stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, LOG_LEVEL: 'info' },
      });
      let err = '';
      p.stderr.on('data', (d) => { err += d; });
      // It prints "Listening on 127.0.0.1:PORT as 3." once the socket is open.
      const ok = await new Promise((resolve) => {
        const onData = () => { if (/Listening on .* as 3/.test(err)) { p.stderr.off('data', onData); resolve(true); } };
        p.stderr.on('data', onData);
        p.once('exit', () => resolve(false));
      });
      if (ok) proc = p; else lastErr = err;
    }
    assert.ok(proc, `systemd-socket-activate could not listen: ${lastErr}`);
    // The first connection makes it start the frontend with the socket as fd 3.
    const r = await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(10_000) });
    const body = await r.json();
    assert.ok(['ok', 'degraded', 'unavailable', 'starting'].includes(body.status), JSON.stringify(body));
    assert.equal(body.broker.connected, false); // no broker in this test: only the socket matters
  } finally {
    if (proc && proc.exitCode === null) {
      const gone = new Promise((resolve) => proc.once('exit', resolve));
      proc.kill('SIGTERM');
      await gone;
    }
    rmSync(dir, { recursive: true, force: true });
  }
});
