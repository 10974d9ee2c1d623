/**
 * The wsscope command line. Subcommands load their modules lazily so `read` never loads
 * the capture addon and `capture` never loads the UI server.
 */
const HELP = `wsscope: see every WebSocket conversation on the wire

Usage:
  wsscope read FILE [--json] [--frames] [--summary] [--keylog FILE] [--decode CONN=PROTO] [...]
        decode a .pcap/.pcapng capture file (wss:// with a TLS key log; limits and
        the rest of its options: wsscope read --help)
  wsscope capture -i IF [-f BPF] [-w FILE] [--json] [--keylog FILE] [--duration S] [--count N] [...]
        capture live from an interface (written through to a pcapng file; all options:
        wsscope capture --help)
  wsscope interfaces [--json]
        list capture interfaces
  wsscope serve [FILE] [--port N]
        run the UI in a browser (loopback only, token-protected URL)

Run 'wsscope COMMAND --help' for a command's options.
From the repository: npm run --silent wsscope -- COMMAND ...
`;

async function main(argv: string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'read':
      return (await import('../engine/cli/read')).readCommand(rest);
    case 'capture':
      return (await import('../engine/cli/capture')).captureCommand(rest);
    case 'interfaces':
      return (await import('../engine/cli/capture')).interfacesCommand(rest);
    case 'serve':
      return (await import('../engine/serve/server')).serveCommand(rest);
    case undefined:
    case '-h':
    case '--help':
    case 'help':
      process.stdout.write(HELP);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`wsscope: unknown command '${cmd}'\n\n${HELP}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    process.stderr.write(`wsscope: internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
    process.exitCode = 1;
  },
);
