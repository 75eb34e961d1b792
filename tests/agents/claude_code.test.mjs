// The real Claude Code CLI (pinned by tests/agents/run.sh, path in
// QP_CLAUDE_BIN), unmodified and headless (`claude -p`), against the real
// stack on mock-qwen through the Anthropic Messages API (docs/api.md
// "Anthropic Messages API"). The mock's rules play the model: a plain answer,
// and a tool round in which the model calls Claude Code's own `Bash` tool
// (the gateway's tool-call markup, docs/tools.md), Claude Code runs the
// command, and its output comes back for the final answer. The mock's records
// are the evidence that the command's output reached the gateway and that the
// second turn continued the same Qwen chat.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { startMock, startStack } from '../integration/harness.mjs';
import { scratch, runCli, describe } from './cli.mjs';

const CLAUDE = process.env.QP_CLAUDE_BIN;
const KEY = 'sk-agents-claude-key';
const TAG = randomBytes(4).toString('hex');
// The command the scripted model asks for: its output (`nonce-42-TAG`) is
// not in the command text, so it reaches the mock only if the command ran.
const NONCE = `nonce-42-${TAG}`;
const COMMAND = `echo "nonce-$((40+2))-${TAG}" | tee agent-marker.txt`;

let mock, stack;
const scratches = [];
before(async () => {
  assert.ok(CLAUDE, 'QP_CLAUDE_BIN names the Claude Code binary (tests/agents/run.sh sets it)');
  mock = await startMock();
  await mock.rules([
    // Turn 2 of the tool round: the command's output came back.
    { match: { contains: NONCE }, reply: `The command printed ${NONCE}.` },
    { match: { contains: `CC-TOOL-${TAG}` },
      reply: `I will run it.\n<tool_call>\n<function=fn_Bash>\n<parameter=command>${COMMAND}</parameter>\n<parameter=description>Write the marker file</parameter>\n</function>\n</tool_call>` },
    { match: { contains: `CC-PLAIN-${TAG}` }, reply: 'Hello from Qwen, Claude Code.' },
    { match: { contains: `CC-NEXT-${TAG}` }, reply: 'Second answer.' },
    { match: { contains: `CC-FIRST-${TAG}` }, reply: 'First answer.' },
  ]);
  stack = await startStack({ mock, frontend: { api_key: KEY } });
});
after(async () => {
  await stack?.stop();
  await mock?.stop();
  for (const d of scratches) rmSync(d, { recursive: true, force: true });
});

// Runs `claude -p prompt` in a new scratch HOME and directory, or in `dir`
// (an earlier run's, for `claude -p -c`).
function claude(prompt, extraArgs = [], dir = null) {
  const { home, cwd } = dir ?? scratch('claude');
  if (!dir) scratches.push(home);
  const run = runCli(CLAUDE, ['-p', prompt, '--output-format', 'stream-json', '--verbose', ...extraArgs], {
    home, cwd,
    env: {
      ANTHROPIC_BASE_URL: stack.baseUrl,
      ANTHROPIC_API_KEY: KEY,
      DISABLE_TELEMETRY: '1',
      CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
      DISABLE_AUTOUPDATER: '1',
      // A gateway error fails the run at once (Claude Code retries even a 401
      // ten times, with backoff, by default).
      CLAUDE_CODE_MAX_RETRIES: '0',
    },
  });
  return run.then((r) => ({ ...r, home, cwd }));
}

// The `result` event Claude Code prints last in stream-json mode.
function result(run) {
  const r = run.events.filter((e) => e.type === 'result').at(-1);
  assert.ok(r, `a result event\n${describe(run)}`);
  return r;
}

async function recordsSince(seq) {
  return (await mock.state()).records.filter((r) => r.seq > seq);
}
async function lastSeq() {
  return (await mock.state()).records.at(-1)?.seq ?? 0;
}

test('Claude Code: a plain answer', async () => {
  const since = await lastSeq();
  const run = await claude(`CC-PLAIN-${TAG}: say hello`);
  assert.equal(run.code, 0, describe(run));
  const r = result(run);
  assert.equal(r.is_error, false, describe(run));
  assert.equal(r.result, 'Hello from Qwen, Claude Code.');
  const init = run.events.find((e) => e.type === 'system' && e.subtype === 'init');
  assert.ok(init?.tools?.includes('Bash'), 'Claude Code declares its Bash tool');
  const recs = (await recordsSince(since)).filter((x) => x.content.includes(`CC-PLAIN-${TAG}`));
  assert.equal(recs.length, 1, 'one completion upstream for the prompt');
  assert.equal(recs[0].model, 'qwen3-coder-plus', 'a claude-… model is served by the default Qwen model');
  assert.match(recs[0].content, /fn_Bash/, "Claude Code's tools are described upstream");
});

test('Claude Code: a Bash tool round; the command runs, its output comes back, the chat continues', async () => {
  const since = await lastSeq();
  const run = await claude(`CC-TOOL-${TAG}: run the marker command`, ['--allowedTools', 'Bash']);
  assert.equal(run.code, 0, describe(run));

  // Claude Code's own view: it called Bash with the scripted command and got
  // the nonce back as the tool result.
  const uses = run.events.filter((e) => e.type === 'assistant')
    .flatMap((e) => e.message.content).filter((b) => b.type === 'tool_use');
  assert.equal(uses.length, 1, `one tool_use\n${describe(run)}`);
  assert.equal(uses[0].name, 'Bash');
  assert.equal(uses[0].input.command, COMMAND);
  const results = run.events.filter((e) => e.type === 'user')
    .flatMap((e) => (Array.isArray(e.message.content) ? e.message.content : [])).filter((b) => b.type === 'tool_result');
  assert.equal(results.length, 1);
  assert.equal(results[0].tool_use_id, uses[0].id);
  assert.ok(!results[0].is_error, `the command succeeded: ${JSON.stringify(results[0])}`);

  // The command really ran.
  const marker = join(run.cwd, 'agent-marker.txt');
  assert.ok(existsSync(marker), 'the marker file was written');
  assert.equal(readFileSync(marker, 'utf8').trim(), NONCE);

  const r = result(run);
  assert.equal(r.is_error, false, describe(run));
  assert.equal(r.result, `The command printed ${NONCE}.`);

  // The gateway received the tool result and continued the Qwen chat:
  // turn 2 is a child of turn 1's answer and carries only the new message.
  const recs = await recordsSince(since);
  const first = recs.find((x) => x.content.includes(`CC-TOOL-${TAG}`));
  const second = recs.find((x) => x.content.includes(NONCE));
  assert.ok(first && second, `both turns upstream: ${JSON.stringify(recs.map((x) => x.content.slice(-200)))}`);
  assert.equal(recs.length, 2, 'no other completion upstream (Claude Code sends no side requests to the model here)');
  assert.ok(second.seq > first.seq);
  assert.equal(second.chat_id, first.chat_id, 'the tool result continues the same Qwen chat');
  assert.equal(second.parent_id, first.response_id);
  assert.doesNotMatch(second.content, new RegExp(`CC-TOOL-${TAG}`), 'only the new message goes upstream');
  assert.equal(second.outcome, 'finished');
});

test('Claude Code: a follow-up in a new process (claude -p -c) continues the Qwen chat', async () => {
  const since = await lastSeq();
  const run1 = await claude(`CC-FIRST-${TAG}: first question`);
  assert.equal(run1.code, 0, describe(run1));
  assert.equal(result(run1).result, 'First answer.');
  const run2 = await claude(`CC-NEXT-${TAG}: second question`, ['-c'], { home: run1.home, cwd: run1.cwd });
  assert.equal(run2.code, 0, describe(run2));
  assert.equal(result(run2).result, 'Second answer.');
  const recs = await recordsSince(since);
  assert.equal(recs.length, 2, 'one completion per process');
  const [first, second] = recs;
  assert.match(first.content, new RegExp(`CC-FIRST-${TAG}`));
  assert.equal(second.chat_id, first.chat_id, 'the new process continues the same Qwen chat');
  assert.equal(second.parent_id, first.response_id);
  assert.doesNotMatch(second.content, new RegExp(`CC-FIRST-${TAG}`), 'only the new message goes upstream');
});
