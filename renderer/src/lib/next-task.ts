/**
 * `nextTask(cb)`: runs `cb` in a task of its own, after the browser has had the chance to
 * render and handle input, without setTimeout's clamping (nested timeouts wait at least 4 ms
 * each, https://html.spec.whatwg.org/multipage/timers-and-user-prompts.html#timers step 5,
 * which for the 100-odd slices of a million-row load would add up to idle time). A posted
 * message on a MessageChannel is a task of its own and runs as soon as the main thread is
 * free; where there is no MessageChannel (tests' DOM), setTimeout(0).
 *
 * Memory: one channel for the page and a FIFO of the callbacks waiting (each runs once).
 */
type Task = () => void;

const waiting: Task[] = [];
let port: MessagePort | null = null;

function runOne(): void {
  const cb = waiting.shift();
  cb?.();
}

export function nextTask(cb: Task): void {
  waiting.push(cb);
  if (port === null && typeof MessageChannel !== 'undefined') {
    const ch = new MessageChannel();
    ch.port1.onmessage = runOne;
    port = ch.port2;
  }
  if (port) port.postMessage(null);
  else setTimeout(runOne, 0);
}
