/**
 * OpenSSL's own TLS peers, `openssl s_server` and `openssl s_client`, as child processes for
 * the things Node's TLS cannot do on either side: 0-RTT early data (`-early_data` on both,
 * session resumption through `-sess_out` / `-sess_in`) and a TLS 1.3 KeyUpdate (s_client's
 * `K` command: a line starting with K updates its keys and asks the server to update too).
 * s_server writes what it reads to stdout and sends what it reads from stdin; s_client the
 * same the other way, so a test speaks any protocol through them, byte for byte.
 *
 *   const p = openssl(['s_server', '-accept', `127.0.0.1:${port}`, ...]);
 *   await p.until('stdout', 'ACCEPT');        // resolves on the output events, no polling
 *   p.write(bytes);
 *   await p.exited;
 *
 * Output is read as latin1, so binary bytes can be looked for as strings (`latin1(bytes)`).
 * Every process is stopped by its pid.
 */
import { spawn } from 'node:child_process';

export interface OpensslProcess {
  pid: number;
  stdout(): string;
  stderr(): string;
  /** resolves once `stream` has contained `text` (now or later); rejects after `timeoutMs` */
  until(stream: 'stdout' | 'stderr', text: string, timeoutMs?: number): Promise<void>;
  write(bytes: Uint8Array | string): void;
  readonly exited: Promise<number>;
  kill(): void;
}

export const latin1 = (b: Uint8Array): string => Buffer.from(b).toString('latin1');

export function openssl(args: string[], cwd?: string): OpensslProcess {
  const child = spawn('openssl', args, { cwd, stdio: ['pipe', 'pipe', 'pipe'] });
  const out = { stdout: '', stderr: '' };
  const waiters: Array<() => void> = [];
  const recheck = (): void => {
    for (const w of waiters.slice()) w();
  };
  child.stdout.setEncoding('latin1');
  child.stderr.setEncoding('latin1');
  child.stdout.on('data', (s: string) => {
    out.stdout += s;
    recheck();
  });
  child.stderr.on('data', (s: string) => {
    out.stderr += s;
    recheck();
  });
  let code: number | null = null;
  const exited = new Promise<number>((resolve) =>
    child.once('close', (c) => {
      code = c ?? 128;
      resolve(code);
      recheck();
    }),
  );
  return {
    pid: child.pid ?? -1,
    stdout: () => out.stdout,
    stderr: () => out.stderr,
    until: (stream, text, timeoutMs = 15_000) =>
      new Promise<void>((resolve, reject) => {
        const check = (): void => {
          if (out[stream].includes(text)) done(null);
          else if (code !== null) done(new Error(`openssl ${args[0]} exited (${code}) before its ${stream} showed ${JSON.stringify(text.slice(0, 40))}: ${out.stderr.slice(-400)}`));
        };
        const timer = setTimeout(() => done(new Error(`openssl ${args[0]}: ${stream} did not show ${JSON.stringify(text.slice(0, 40))} within ${timeoutMs} ms; it ends ${JSON.stringify(out[stream].slice(-300))}`)), timeoutMs);
        const done = (e: Error | null): void => {
          clearTimeout(timer);
          const i = waiters.indexOf(check);
          if (i >= 0) waiters.splice(i, 1);
          if (e) reject(e);
          else resolve();
        };
        waiters.push(check);
        check();
      }),
    write: (bytes) => child.stdin.write(typeof bytes === 'string' ? bytes : Buffer.from(bytes)),
    exited,
    kill: () => {
      if (code === null) child.kill('SIGTERM');
    },
  };
}
