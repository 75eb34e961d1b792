// Runs a coding-agent CLI (Claude Code, Codex) headless for tests/agents:
// a scratch HOME and working directory, a clean environment (nothing of the
// caller's ANTHROPIC_*/OPENAI_*/CODEX_* settings leaks in), a deadline, and
// its stdout parsed as JSON lines.
import { spawn } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../integration/harness.mjs';

const RUN_TIMEOUT_MS = Number(process.env.QP_AGENTS_TIMEOUT_MS || 180_000);

// A scratch HOME with a working directory inside it.
export function scratch(prefix) {
  const home = tempDir(`qp-agents-${prefix}-`);
  const cwd = join(home, 'work');
  mkdirSync(cwd);
  return { home, cwd };
}

// Spawns `bin args` in `cwd` with only PATH, HOME, LANG and `env`; resolves
// {code, signal, stdout, stderr, events} once it exits (SIGKILL at the
// deadline). `events` holds every stdout line that parses as JSON.
export function runCli(bin, args, { cwd, home, env = {}, timeoutMs = RUN_TIMEOUT_MS }) {
  const childEnv = { PATH: process.env.PATH, HOME: home, LANG: 'C.UTF-8', TMPDIR: home, ...env };
  return new Promise((resolve, reject) => {
    const proc = spawn(bin, args, { cwd, env: childEnv, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    proc.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; if (process.env.QP_TEST_VERBOSE) process.stderr.write(d); });
    proc.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; if (process.env.QP_TEST_VERBOSE) process.stderr.write(d); });
    const timer = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
    proc.on('error', (e) => { clearTimeout(timer); reject(e); });
    proc.on('close', (code, signal) => {
      clearTimeout(timer);
      const events = [];
      for (const line of stdout.split('\n')) {
        if (!line.startsWith('{')) continue;
        try { events.push(JSON.parse(line)); } catch { /* not a JSON line */ }
      }
      resolve({ code, signal, stdout, stderr, events });
    });
  });
}

// A one-line summary of a run for assertion messages.
export function describe(run) {
  return `exit ${run.code}${run.signal ? ` (${run.signal})` : ''}\nstdout:\n${run.stdout.slice(-4000)}\nstderr:\n${run.stderr.slice(-2000)}`;
}
