// The real Codex CLI (pinned by tests/agents/run.sh, path in QP_CODEX_BIN),
// unmodified and headless (`codex exec --json`), against the real stack on
// mock-qwen through the Responses API (docs/api.md "Coding agents"). Codex
// is pointed at the gateway as a custom model provider with
// `wire_api = "responses"` (OPENAI_BASE_URL is ignored by Codex 0.171, and
// its built-in provider tries WebSockets first). The mock's rules play the
// model: a plain answer, and a tool round in which the model calls Codex's
// own shell tool `exec_command` (the gateway's tool-call markup,
// docs/tools.md), Codex runs the command, and its output comes back for the
// final answer. The mock's records are the evidence that the output reached
// the gateway and that the second turn continued the same Qwen chat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startMock, startStack } from '../integration/harness.mjs';
import { scratch, runCli, describe } from './cli.mjs';

const CODEX = process.env.QP_CODEX_BIN;
const KEY = 'sk-agents-codex-key';
const TAG = randomBytes(4).toString('hex');
// The command the scripted model asks for: its output (`nonce-42-TAG`) is
// not in the command text, so it reaches the mock only if the command ran.
const NONCE = `nonce-42-${TAG}`;
const COMMAND = `echo "nonce-$((40+2))-${TAG}" | tee agent-marker.txt`;

let mock, stack;
const scratches = [];
before(async () => {
  assert.ok(CODEX, 'QP_CODEX_BIN names the Codex binary (tests/agents/run.sh sets it)');
  mock = await startMock();
  await mock.rules([
    // Turn 2 of the tool round: the command's output came back.
    { match: { contains: NONCE }, reply: `The command printed ${NONCE}.` },
    { match: { contains: `CX-TOOL-${TAG}` },
      reply: `I will run it.\n<tool_call>\n<function=fn_exec_command>\n<parameter=cmd>${COMMAND}</parameter>\n</function>\n</tool_call>` },
    { match: { contains: `CX-PLAIN-${TAG}` }, reply: 'Hello from Qwen, Codex.' },
    { match: { contains: `CX-NEXT-${TAG}` }, reply: 'Second answer.' },
    { match: { contains: `CX-FIRST-${TAG}` }, reply: 'First answer.' },
  ]);
  stack = await startStack({ mock, frontend: { api_key: KEY } });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
  for (const d of scratches) rmSync(d, { recursive: true, force: true });
});

// Runs `codex exec prompt` in a new scratch HOME and directory, or with
// `dir` (an earlier run's) `codex exec resume --last prompt`.
function codex(prompt, dir = null) {
  const { home, cwd } = dir ?? scratch('codex');
  if (!dir) scratches.push(home);
  const args = [
    'exec', ...(dir ? ['resume', '--last'] : []), '--json', '--skip-git-repo-check', '--dangerously-bypass-approvals-and-sandbox',
    '-c', 'model_provider=gw',
    '-c', 'model_providers.gw.name=qwenproxy',
    '-c', `model_providers.gw.base_url=${stack.baseUrl}/v1`,
    '-c', 'model_providers.gw.env_key=GW_KEY',
    '-c', 'model_providers.gw.wire_api=responses',
    // A gateway error fails the run at once instead of after retries.
    '-c', 'model_providers.gw.request_max_retries=0',
    '-c', 'model_providers.gw.stream_max_retries=0',
    // Hermetic: no plugin sync with github.com / chatgpt.com, no analytics.
    '--disable', 'plugins', '--disable', 'apps', '-c', 'analytics.enabled=false',
    '-m', 'qwen3-coder-plus',
    prompt,
  ];
  return runCli(CODEX, args, { home, cwd, env: { GW_KEY: KEY } }).then((r) => ({ ...r, home, cwd }));
}

function items(run, type) {
  return run.events.filter((e) => e.type === 'item.completed' && e.item.type === type).map((e) => e.item);
}

// The run ended with turn.completed, not turn.failed, and printed no error event.
function assertCompleted(run) {
  assert.equal(run.code, 0, describe(run));
  assert.ok(run.events.some((e) => e.type === 'turn.completed'), `turn.completed\n${describe(run)}`);
  assert.ok(!run.events.some((e) => e.type === 'turn.failed' || e.type === 'error'), describe(run));
}

async function recordsSince(seq) {
  return (await mock.state()).records.filter((r) => r.seq > seq);
}
async function lastSeq() {
  return (await mock.state()).records.at(-1)?.seq ?? 0;
}

test('Codex: a plain answer', async () => {
  const since = await lastSeq();
  const run = await codex(`CX-PLAIN-${TAG}: say hello`);
  assertCompleted(run);
  assert.equal(items(run, 'agent_message').at(-1)?.text, 'Hello from Qwen, Codex.', describe(run));
  const recs = (await recordsSince(since)).filter((x) => x.content.includes(`CX-PLAIN-${TAG}`));
  assert.equal(recs.length, 1, 'one completion upstream for the prompt');
  assert.equal(recs[0].model, 'qwen3-coder-plus');
  assert.match(recs[0].content, /fn_exec_command/, "Codex's tools are described upstream");
});

test('Codex: an exec_command tool round; the command runs, its output comes back, the chat continues', async () => {
  const since = await lastSeq();
  const run = await codex(`CX-TOOL-${TAG}: run the marker command`);
  assertCompleted(run);

  // Codex's own view: it ran the scripted command and saw the nonce.
  const cmds = items(run, 'command_execution');
  assert.equal(cmds.length, 1, `one command\n${describe(run)}`);
  assert.match(cmds[0].command, /nonce-\$\(\(40\+2\)\)/);
  assert.equal(cmds[0].exit_code, 0);
  assert.match(cmds[0].aggregated_output, new RegExp(NONCE));

  // The command really ran.
  const marker = join(run.cwd, 'agent-marker.txt');
  assert.ok(existsSync(marker), 'the marker file was written');
  assert.equal(readFileSync(marker, 'utf8').trim(), NONCE);

  assert.equal(items(run, 'agent_message').at(-1)?.text, `The command printed ${NONCE}.`, describe(run));

  // The gateway received the function_call_output and continued the Qwen
  // chat: turn 2 is a child of turn 1's answer and carries only the new input.
  const recs = await recordsSince(since);
  const first = recs.find((x) => x.content.includes(`CX-TOOL-${TAG}`));
  const second = recs.find((x) => x.content.includes(NONCE));
  assert.ok(first && second, `both turns upstream: ${JSON.stringify(recs.map((x) => x.content.slice(-200)))}`);
  assert.ok(second.seq > first.seq);
  assert.equal(recs.length, 2, 'no other completion upstream');
  assert.equal(second.chat_id, first.chat_id, 'the tool output continues the same Qwen chat');
  assert.equal(second.parent_id, first.response_id);
  assert.doesNotMatch(second.content, new RegExp(`CX-TOOL-${TAG}`), 'only the new input goes upstream');
  assert.equal(second.outcome, 'finished');
});

test('Codex: a follow-up in a new process (codex exec resume --last) continues the Qwen chat', async () => {
  const since = await lastSeq();
  const run1 = await codex(`CX-FIRST-${TAG}: first question`);
  assertCompleted(run1);
  assert.equal(items(run1, 'agent_message').at(-1)?.text, 'First answer.');
  const run2 = await codex(`CX-NEXT-${TAG}: second question`, { home: run1.home, cwd: run1.cwd });
  assertCompleted(run2);
  assert.equal(items(run2, 'agent_message').at(-1)?.text, 'Second answer.', describe(run2));
  const recs = await recordsSince(since);
  assert.equal(recs.length, 2, 'one completion per process');
  const [first, second] = recs;
  assert.match(first.content, new RegExp(`CX-FIRST-${TAG}`));
  assert.equal(second.chat_id, first.chat_id, 'the resumed session continues the same Qwen chat');
  assert.equal(second.parent_id, first.response_id);
  assert.doesNotMatch(second.content, new RegExp(`CX-FIRST-${TAG}`), 'only the new message goes upstream');
});
