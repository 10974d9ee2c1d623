/** Option parsing shared by the CLI commands. */

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

/** `--color` / `--no-color`; by default colour when stdout is a terminal. */
export function wantColor(values: { color?: boolean; 'no-color'?: boolean }): boolean {
  return values['no-color'] ? false : (values.color ?? process.stdout.isTTY === true);
}
