// `qwenproxy account sync-units` (systemd: qwenproxy-accounts.service) against
// a fake systemd Manager on a private dbus-daemon: it starts
// qwenproxy-worker@NAME for each account file without an active instance,
// stops the instances whose file is gone, leaves accounts configured in the
// config file alone, and --dry-run changes nothing. The real manager is
// exercised by tests/boot/boot-test.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { BIN, tempDir, until } from './harness.mjs';

let dir, bus, address;

function lines(stream, into) {
  let buf = '';
  stream.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      into.push(buf.slice(0, i));
      buf = buf.slice(i + 1);
    }
  });
}

before(async () => {
  dir = tempDir('qp-sync-');
  bus = spawn('dbus-daemon', ['--session', '--nofork', '--print-address=1', `--address=unix:path=${join(dir, 'bus')}`], { stdio: ['ignore', 'pipe', 'ignore'] });
  bus.on('error', (e) => { throw new Error(`dbus-daemon: ${e.message} (package dbus)`); });
  const out = [];
  lines(bus.stdout, out);
  address = await until(() => out[0], { what: 'the dbus-daemon address' });
  mkdirSync(join(dir, 'accounts'), { mode: 0o700 });
  for (const name of ['alice', 'bob']) writeFileSync(join(dir, 'accounts', `${name}.toml`), 'token = "x"\n', { mode: 0o600 });
  writeFileSync(join(dir, 'accounts', '.erin.toml.swp'), 'x', { mode: 0o600 });
  // dave is written in the config file itself: never started or stopped here.
  writeFileSync(join(dir, 'qwenproxy.toml'), `runtime_dir = "${dir}/run"\n[[accounts]]\nname = "dave"\ncookies = "token=x"\n`, { mode: 0o600 });
});

after(() => {
  bus?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

// Runs the fake manager with `active` units, then sync-units; returns both outputs.
async function sync(active, args = []) {
  const fake = spawn(join(BIN, 'fake_systemd_manager'), active.map((n) => `qwenproxy-worker@${n}.service`), {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address },
  });
  const calls = [];
  lines(fake.stdout, calls);
  const closed = new Promise((resolve) => fake.on('close', resolve));
  try {
    await until(() => calls.includes('ready'), { what: 'the fake manager' });
    const r = spawnSync(join(BIN, 'qwenproxy'), ['account', 'sync-units', '--config', join(dir, 'qwenproxy.toml'), ...args], {
      encoding: 'utf8', env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address, QP_CONFIG: '' },
    });
    fake.kill('SIGTERM');
    await closed;  // every line it printed has been read
    return { r, calls: calls.filter((c) => c !== 'ready') };
  } finally {
    fake.kill('SIGKILL');
  }
}

test('sync-units starts the workers of new files and stops those whose file is gone', async () => {
  const { r, calls } = await sync(['alice', 'carol', 'dave']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), ['start qwenproxy-worker@bob.service', 'stop qwenproxy-worker@carol.service']);
  assert.deepEqual(calls, [
    'ListUnitsByPatterns qwenproxy-worker@*.service',
    'StartUnit qwenproxy-worker@bob.service replace',
    'StopUnit qwenproxy-worker@carol.service replace',
  ]);
});

test('sync-units does nothing when the workers match the files', async () => {
  const { r, calls } = await sync(['alice', 'bob', 'dave']);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /^workers match the account files \(2\)$/m);
  assert.deepEqual(calls, ['ListUnitsByPatterns qwenproxy-worker@*.service']);
});

test('sync-units --dry-run says what it would do and changes nothing', async () => {
  const { r, calls } = await sync(['carol'], ['--dry-run']);
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n'), [
    'would start qwenproxy-worker@alice.service', 'would start qwenproxy-worker@bob.service',
    'would stop qwenproxy-worker@carol.service',
  ]);
  assert.deepEqual(calls, ['ListUnitsByPatterns qwenproxy-worker@*.service']);
});

// The flaky boot test (docs/deployment.md, "Adding accounts from the
// console"): systemd's PathChanged= runs sync-units when write_private_file
// creates its temporary file, an fsync before the account file is renamed
// in, and the rename's own trigger is merged into that run. sync-units must
// wait for the write instead of listing the directory too early. The rename
// here happens only once sync-units says it is waiting, so without the wait
// frank would be missed every time, not one run in five.
test('sync-units waits for an account file being written (its temp file) and starts it', async () => {
  const fake = spawn(join(BIN, 'fake_systemd_manager'), ['alice', 'bob'].map((n) => `qwenproxy-worker@${n}.service`), {
    stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address },
  });
  const calls = [];
  lines(fake.stdout, calls);
  const tmp = join(dir, 'accounts', '.qwenproxy-Fr4nkQ');
  const final = join(dir, 'accounts', 'frank.toml');
  writeFileSync(tmp, 'token = "x"\n', { mode: 0o600 });
  try {
    await until(() => calls.includes('ready'), { what: 'the fake manager' });
    const sync = spawn(join(BIN, 'qwenproxy'), ['account', 'sync-units', '--config', join(dir, 'qwenproxy.toml')], {
      stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: address, QP_CONFIG: '' },
    });
    const out = [];
    lines(sync.stdout, out);
    let err = '';
    sync.stderr.on('data', (d) => { err += d; });
    const code = new Promise((resolve) => sync.on('close', resolve));
    await until(() => out.some((l) => l.startsWith('waiting for a write in progress in ')), { what: 'sync-units to wait for the write' });
    renameSync(tmp, final);
    assert.equal(await code, 0, err);
    assert.ok(out.includes('start qwenproxy-worker@frank.service'), out.join('\n'));
    assert.ok(calls.includes('StartUnit qwenproxy-worker@frank.service replace'), calls.join('\n'));
  } finally {
    fake.kill('SIGKILL');
    rmSync(tmp, { force: true });
    rmSync(final, { force: true });
  }
});

test('sync-units without systemd fails with the reason', () => {
  const r = spawnSync(join(BIN, 'qwenproxy'), ['account', 'sync-units', '--config', join(dir, 'qwenproxy.toml')], {
    encoding: 'utf8', env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${join(dir, 'no-bus')}` },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^qwenproxy account sync-units: /);
});
