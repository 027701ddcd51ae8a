export interface SseEvent {
  id?: string;
  event?: string;
  data?: string;
  retry?: number;
  /** a `: comment` line (heartbeat) */
  comment?: string;
}

/** Reads a text/event-stream response message by message. */
export function sseReader(res: Response) {
  const reader = res.body!.pipeThrough(new TextDecoderStream()).getReader();
  let buffer = '';
  let done = false;
  // a read that outlived a timeout is kept, or its chunk would be lost
  let pending: Promise<ReadableStreamReadResult<string>> | undefined;
  const received: SseEvent[] = [];

  const parse = (block: string): SseEvent => {
    const msg: SseEvent = {};
    for (const line of block.split('\n')) {
      if (line.startsWith(':')) msg.comment = line.slice(1).trim();
      const [, field, value] = /^(\w+): ?(.*)$/.exec(line) ?? [];
      if (field === 'id') msg.id = value;
      if (field === 'event') msg.event = value;
      if (field === 'retry') msg.retry = Number(value);
      if (field === 'data') msg.data = msg.data === undefined ? value : `${msg.data}\n${value}`;
    }
    return msg;
  };

  /** The next message, or undefined once the server has closed the stream. */
  async function next(timeoutMs = 10_000): Promise<SseEvent | undefined> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const end = buffer.indexOf('\n\n');
      if (end >= 0) {
        const msg = parse(buffer.slice(0, end));
        buffer = buffer.slice(end + 2);
        received.push(msg);
        return msg;
      }
      if (done) return undefined;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no SSE message within ${timeoutMs} ms; got so far: ${JSON.stringify(received)}`);
      let timer: NodeJS.Timeout | undefined;
      pending ??= reader.read();
      const chunk = await Promise.race([
        pending,
        new Promise<'timeout'>((resolve) => (timer = setTimeout(resolve, left, 'timeout'))),
      ]).finally(() => clearTimeout(timer));
      if (chunk === 'timeout') continue;
      pending = undefined;
      if (chunk.done) done = true;
      else buffer += chunk.value;
    }
  }

  /** Data messages (heartbeats skipped) until `until` holds for one, or the stream ends. */
  async function events(until: (e: { id: string; type: string; status: string | null }) => boolean, timeoutMs = 30_000) {
    const out: { id: string; type: string; status: string | null }[] = [];
    const deadline = Date.now() + timeoutMs;
    let end: { status: string } | undefined;
    for (;;) {
      const msg = await next(Math.max(1, deadline - Date.now()));
      if (!msg) return { events: out, ended: true, end };
      if (msg.data === undefined) continue;
      if (msg.event === 'end') {
        end = JSON.parse(msg.data);
        continue;
      }
      const e = JSON.parse(msg.data);
      if (e.id !== msg.id) throw new Error(`data.id ${e.id} differs from id: ${msg.id}`);
      out.push(e);
      if (until(e)) return { events: out, ended: false };
    }
  }

  return { next, events, received, close: () => reader.cancel().catch(() => undefined) };
}
