// How long the service is down when the broker dies (docs/scaling.md, "The
// broker"): `qwenproxy up` against mock-qwen, then kill -9 of the broker and
// the time until a chat completion on a new connection succeeds again,
// polled every 10 ms. One fresh stack per kill, so every kill sees the
// launcher's first restart delay (100 ms) and not its backoff.
//   QP_BIN_DIR=build-rel/bin/ node tools/bench/broker-restart.mjs [--kills 3] [--frontends N]
// Prints one line per kill and a JSON summary. Needs tests/ npm ci (harness).
import { startMock, startStack } from '../../tests/integration/harness.mjs';

const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : dflt;
};
const kills = opt('--kills', 3);
const frontends = opt('--frontends', 1);

async function chatOk(url) {
  try {
    const r = await fetch(`${url}/v1/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', connection: 'close' },
      body: JSON.stringify({ model: 'qwen3-max', messages: [{ role: 'user', content: 'ping' }] }),
      signal: AbortSignal.timeout(5000),
    });
    await r.text();
    return r.status === 200;
  } catch {
    return false;
  }
}

const times = [];
for (let k = 0; k < kills; k++) {
  const mock = await startMock();
  const stack = await startStack({ mock, frontend: { processes: frontends } });
  try {
    if (!(await chatOk(stack.baseUrl))) throw new Error('not serving before the kill');
    const pid = stack.pid('broker');
    const t0 = performance.now();
    process.kill(pid, 'SIGKILL');
    // Wait for the launcher to see the death, so a request that raced the kill does not count.
    await stack.out.waitFor(/^qwenproxy: broker exited/);
    while (!(await chatOk(stack.baseUrl))) await new Promise((r) => setTimeout(r, 10));
    const ms = performance.now() - t0;
    times.push(ms);
    console.log(`kill ${k + 1}: serving again after ${ms.toFixed(0)} ms (broker pid ${pid} → ${stack.pid('broker')})`);
  } finally {
    await stack.stop();
    await mock.stop();
  }
}
times.sort((a, b) => a - b);
console.log(JSON.stringify({ frontends, kills, ms: times.map((t) => Math.round(t)) }));
