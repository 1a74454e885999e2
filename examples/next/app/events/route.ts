import { type LogoutEntry, logoutLog } from '../../lib/events';

/** The logout events as server-sent events: the list now, then again after every new one. */
export function GET(request: Request): Response {
  const log = logoutLog();
  const encoder = new TextEncoder();
  let stop = () => {};
  const stream = new ReadableStream<Uint8Array>({
    start(controller) {
      const send = (entries: LogoutEntry[]) => controller.enqueue(encoder.encode(`data: ${JSON.stringify(entries)}\n\n`));
      controller.enqueue(encoder.encode('retry: 2000\n\n'));
      send(log.entries());
      const unsubscribe = log.subscribe(send);
      // A comment line now and then keeps proxies from closing an idle stream.
      const keepAlive = setInterval(() => controller.enqueue(encoder.encode(': keep-alive\n\n')), 25_000);
      stop = () => {
        clearInterval(keepAlive);
        unsubscribe();
      };
      request.signal.addEventListener('abort', () => {
        stop();
        controller.close();
      });
    },
    cancel: () => stop(),
  });
  return new Response(stream, {
    headers: { 'Content-Type': 'text/event-stream', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' },
  });
}
