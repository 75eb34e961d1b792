// `qwenproxy account sync-units` (systemd: qwenproxy-accounts.service) against
// a fake systemd Manager on a private dbus-daemon: it starts
// qwenproxy-worker@NAME for each account file without an active instance,
// stops the instances whose file is gone, leaves accounts configured in the
// config file alone, and --dry-run changes nothing. The real manager is
// exercised by tests/boot/boot-test.sh.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, writeFileSync, rmSync } from 'node:fs';
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

test('sync-units without systemd fails with the reason', () => {
  const r = spawnSync(join(BIN, 'qwenproxy'), ['account', 'sync-units', '--config', join(dir, 'qwenproxy.toml')], {
    encoding: 'utf8', env: { ...process.env, DBUS_SYSTEM_BUS_ADDRESS: `unix:path=${join(dir, 'no-bus')}` },
  });
  assert.equal(r.status, 1);
  assert.match(r.stderr, /^qwenproxy account sync-units: /);
});
