/** Option parsing shared by the CLI commands. */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/**
 * `parseArgs` for `wsscope NAME`: an unknown or malformed option prints one line on stderr
 * and gives exit status 2, `--help` prints `help` and gives 0; otherwise the parsed options.
 */
export function parseCommand<T extends ParseArgsConfig>(name: string, help: string, config: T): ReturnType<typeof parseArgs<T>> | number {
  let parsed: ReturnType<typeof parseArgs<T>>;
  try {
    parsed = parseArgs(config);
  } catch (e) {
    process.stderr.write(`wsscope ${name}: ${(e as Error).message}\n`);
    return 2;
  }
  if ((parsed.values as { help?: boolean }).help) {
    process.stdout.write(help);
    return 0;
  }
  return parsed;
}

/** A byte-count option (a non-negative integer): undefined when absent, or the message for a bad value. */
export function byteCount(flag: string, v: string | undefined): number | undefined | string {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 0 ? n : `--${flag} ${v}: not a byte count`;
}

/**
 * `--max-flows N` (flows tracked at once, PipelineOptions.maxFlows: a positive integer):
 * undefined when absent, or the message for a bad value.
 */
export function maxFlows(v: string | undefined): number | undefined | string {
  if (v === undefined) return undefined;
  const n = Number(v);
  return Number.isSafeInteger(n) && n >= 1 ? n : `--max-flows ${v}: not a positive number of flows`;
}

/** `--ws-port` values as port numbers, or the message for the first one that is not a port. */
export function parsePorts(values: readonly string[] | undefined): number[] | string {
  const ports: number[] = [];
  for (const p of values ?? []) {
    const n = Number(p);
    if (!Number.isInteger(n) || n < 1 || n > 65535) return `--ws-port ${p}: not a port number`;
    ports.push(n);
  }
  return ports;
}

/**
 * `--decode CONN=PROTOCOL` values as a map from connection id to protocol id ('none' turns
 * decoding off for that connection), or the message for the first bad one.
 */
export function parseDecode(values: readonly string[] | undefined, known: readonly string[]): Record<number, string> | string {
  const out: Record<number, string> = {};
  for (const v of values ?? []) {
    const m = /^(\d+)=(.+)$/.exec(v);
    const conn = m ? Number(m[1]) : 0;
    if (!m || !Number.isSafeInteger(conn) || conn < 1) return `--decode ${v}: expected CONN=PROTOCOL (a connection number, e.g. 3=mqtt)`;
    if (m[2] !== 'none' && !known.includes(m[2])) return `--decode ${v}: unknown protocol ${JSON.stringify(m[2])} (known: ${[...known, 'none'].join(', ')})`;
    out[conn] = m[2];
  }
  return out;
}

/** `--color` / `--no-color`; by default colour when stdout is a terminal. */
export function wantColor(values: { color?: boolean; 'no-color'?: boolean }): boolean {
  return values['no-color'] ? false : (values.color ?? process.stdout.isTTY === true);
}
