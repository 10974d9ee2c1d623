/**
 * Buffered, synchronous stdout for the CLI. Synchronous writes give natural back-pressure
 * (a slow `| less` slows decoding instead of growing memory); EAGAIN on a non-blocking pipe
 * is retried after a short wait; EPIPE (`| head`) ends the process quietly.
 */
import { writeSync } from 'node:fs';

const sleeper = new Int32Array(new SharedArrayBuffer(4));

export class Out {
  private parts: string[] = [];
  private size = 0;
  constructor(private readonly fd = 1, private readonly limit = 1 << 16) {}

  line(s: string): void {
    this.parts.push(s, '\n');
    this.size += s.length + 1;
    if (this.size >= this.limit) this.flush();
  }

  flush(): void {
    if (!this.parts.length) return;
    let buf = Buffer.from(this.parts.join(''), 'utf8');
    this.parts = [];
    this.size = 0;
    while (buf.length) {
      try {
        const n = writeSync(this.fd, buf);
        buf = buf.subarray(n);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        if (code === 'EAGAIN') {
          Atomics.wait(sleeper, 0, 0, 2);
          continue;
        }
        if (code === 'EPIPE') process.exit(0);
        throw e;
      }
    }
  }
}
