// The launcher (`qwenproxy up`): supervision, restart, demo mode, shutdown.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startMock, startStack, chat, waitHealthy, until } from './harness.mjs';

const alive = (pid) => {
  try { process.kill(pid, 0); return true; } catch { return false; }
};

async function completes(baseUrl) {
  const r = await chat(baseUrl, { model: 'qwen3-max', messages: [{ role: 'user', content: 'ping' }] });
  const body = await r.json();
  assert.equal(r.status, 200, JSON.stringify(body));
  assert.ok(body.choices[0].message.content.length > 0);
}

for (const child of ['worker:alice', 'broker', 'frontend']) {
  test(`a SIGKILLed ${child} is restarted within 2 s and the next request succeeds`, async (t) => {
    const mock = await startMock();
    const stack = await startStack({ mock });
    try {
      await completes(stack.baseUrl);
      const pid = stack.pid(child);
      assert.ok(pid, `launcher printed a pid for ${child}`);
      const from = stack.out.count();
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      const m = await stack.out.waitFor(new RegExp(`^qwenproxy: started ${child} pid=(\\d+)`), { from, timeoutMs: 5000 });
      const restartMs = Date.now() - killedAt;
      assert.notEqual(Number(m[1]), pid);
      assert.ok(restartMs < 2000, `restarted after ${restartMs} ms`);
      await waitHealthy(stack.baseUrl, { accounts: 1 });
      await completes(stack.baseUrl);
      t.diagnostic(`${child}: restarted ${restartMs} ms after SIGKILL; serving again ${Date.now() - killedAt} ms after it`);
    } finally {
      assert.equal((await stack.stop()).code, 0);
      await mock.stop();
    }
  });
}

test('with no account configured it starts in demo mode against the mock and says so', async () => {
  const stack = await startStack({ mock: null });
  try {
    assert.ok(stack.out.lines.some((l) => /DEMO MODE/.test(l)), stack.out.lines.join('\n'));
    assert.ok(stack.pid('mock'), 'the mock upstream runs as a supervised child');
    await completes(stack.baseUrl);
  } finally {
    const pids = ['broker', 'frontend', 'mock'].map((n) => stack.pid(n));
    assert.equal((await stack.stop()).code, 0);
    for (const p of pids) assert.ok(!alive(p), `child ${p} is gone after shutdown`);
  }
});

test('SIGTERM shuts every child down and exits 0', async () => {
  const mock = await startMock();
  const stack = await startStack({ mock });
  const pids = ['broker', 'frontend', 'worker:alice'].map((n) => stack.pid(n));
  const r = await stack.stop();
  await mock.stop();
  assert.equal(r.code, 0);
  await until(() => pids.every((p) => !alive(p)), { what: 'children to exit' });
});
