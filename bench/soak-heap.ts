/**
 * Preloaded into each soak instance (`--expose-gc --import ./bench/soak-heap.ts`): on the IPC
 * message `heap` it collects garbage and answers with `process.memoryUsage().heapUsed`, so the
 * soak can compare heaps before and after without a route in the app under test.
 */
process.on('message', (message) => {
  if (message !== 'heap') return;
  const gc = (globalThis as { gc?: () => void }).gc;
  gc?.();
  gc?.();
  process.send?.({ heapUsed: process.memoryUsage().heapUsed, collected: gc !== undefined });
});
// The IPC channel must not keep an instance alive once its server is closed.
process.channel?.unref();
