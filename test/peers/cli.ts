/**
 * Entry point the live tests spawn: `tsx test/peers/cli.ts capture|interfaces ARGS...`.
 * Runs exactly the exported commands of engine/cli/capture.ts (what bin/wsscope.ts wires),
 * without depending on the rest of the CLI.
 */
import { captureCommand, interfacesCommand } from '../../engine/cli/capture';

const [cmd, ...rest] = process.argv.slice(2);
const run = cmd === 'capture' ? captureCommand : cmd === 'interfaces' ? interfacesCommand : null;
if (!run) {
  process.stderr.write(`usage: cli.ts capture|interfaces ARGS\n`);
  process.exitCode = 2;
} else {
  run(rest).then(
    (code) => {
      process.exitCode = code;
    },
    (e: unknown) => {
      process.stderr.write(`internal error: ${e instanceof Error ? (e.stack ?? e.message) : String(e)}\n`);
      process.exitCode = 1;
    },
  );
}
