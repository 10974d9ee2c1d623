/**
 * Runs the real `wsscope` CLI (bin/wsscope.ts under `node --import tsx`, so `pid` is the CLI
 * itself) for end-to-end tests, optionally as an unprivileged user, and lets a test await
 * what it prints:
 *
 *   const cli = runWsscope(['capture', '-i', 'lo', '--json']);
 *   await cli.stderrMatch(/Capturing on/);
 *   await cli.linesUntil((lines) => lines.length >= 3, 'three events');
 *   cli.kill('SIGINT');
 *   const code = await cli.exited;
 */
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { REPO } from './peer';

export interface CliRun {
  pid: number;
  /** complete stdout lines so far */
  readonly lines: string[];
  stdout(): string;
  stderr(): string;
  /** resolves with the exit status (128 + n for a signal) */
  readonly exited: Promise<number>;
  stderrMatch(re: RegExp, timeoutMs?: number): Promise<string>;
  linesUntil(pred: (lines: string[]) => boolean, what: string, timeoutMs?: number): Promise<void>;
  kill(signal: NodeJS.Signals): void;
}

const SIGNALS: Record<string, number> = { SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/** `asUser`: run through `setpriv` as that user with no groups and no capabilities. */
export function runWsscope(args: string[], o: { asUser?: { user: string; group: string } } = {}): CliRun {
  const node = [process.execPath, '--import', 'tsx', join(REPO, 'bin', 'wsscope.ts'), ...args];
  const [cmd, ...argv] = o.asUser ? ['setpriv', `--reuid=${o.asUser.user}`, `--regid=${o.asUser.group}`, '--clear-groups', '--inh-caps=-all', ...node] : node;
  const child = spawn(cmd, argv, { cwd: REPO, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } });
  let out = '';
  let err = '';
  const lines: string[] = [];
  const checks: Array<() => void> = [];
  const recheck = (): void => {
    for (const c of checks.slice()) c();
  };
  child.stdout!.setEncoding('utf8');
  child.stderr!.setEncoding('utf8');
  child.stdout!.on('data', (s: string) => {
    const start = out.lastIndexOf('\n') + 1;
    out += s;
    const complete = out.slice(start, out.lastIndexOf('\n') + 1);
    if (complete) lines.push(...complete.split('\n').slice(0, -1));
    recheck();
  });
  child.stderr!.on('data', (s: string) => {
    err += s;
    recheck();
  });
  const exited = new Promise<number>((resolve) => child.once('close', (code, sig) => resolve(code ?? 128 + (SIGNALS[sig ?? ''] ?? 0))));
  let hasExited = false;
  void exited.then(() => {
    hasExited = true;
    recheck();
  });
  const wait = (ok: () => boolean, what: string, timeoutMs: number): Promise<void> =>
    new Promise((resolve, reject) => {
      const t = setTimeout(() => finish(new Error(`timed out after ${timeoutMs} ms waiting for ${what}; stderr: ${err}`)), timeoutMs);
      const check = (): void => {
        if (ok()) finish();
        else if (hasExited) finish(new Error(`wsscope exited before ${what}; stderr: ${err}`));
      };
      const finish = (e?: Error): void => {
        clearTimeout(t);
        const i = checks.indexOf(check);
        if (i >= 0) checks.splice(i, 1);
        if (e) reject(e);
        else resolve();
      };
      checks.push(check);
      check();
    });
  return {
    pid: child.pid ?? -1,
    lines,
    stdout: () => out,
    stderr: () => err,
    exited,
    stderrMatch: async (re, timeoutMs = 20_000) => {
      await wait(() => re.test(err), String(re), timeoutMs);
      return re.exec(err)![0];
    },
    linesUntil: (pred, what, timeoutMs = 20_000) => wait(() => pred(lines), what, timeoutMs),
    kill: (signal) => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
    },
  };
}
