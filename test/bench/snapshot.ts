// Takes a heap snapshot of a running Node process through the inspector protocol:
// `node test/bench/snapshot.ts <inspector-port> <out.heapsnapshot>`. Start the target with
// `--inspect=127.0.0.1:<port>` (the bench does that with --heap-snapshot).
import { writeFileSync } from 'node:fs';

export async function takeHeapSnapshot(port: number, out: string, timeoutMs = 120_000): Promise<void> {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = list[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error('no inspector target');
  const ws = new WebSocket(url);
  const chunks: string[] = [];
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('heap snapshot timed out')), timeoutMs);
    ws.onerror = () => reject(new Error('inspector websocket error'));
    ws.onopen = () => {
      ws.send(JSON.stringify({ id: 1, method: 'HeapProfiler.enable' }));
      ws.send(JSON.stringify({ id: 2, method: 'HeapProfiler.collectGarbage' }));
      ws.send(JSON.stringify({ id: 3, method: 'HeapProfiler.takeHeapSnapshot', params: { reportProgress: false } }));
    };
    ws.onmessage = (ev) => {
      const msg = JSON.parse(String(ev.data)) as { id?: number; method?: string; params?: { chunk: string } };
      if (msg.method === 'HeapProfiler.addHeapSnapshotChunk' && msg.params) chunks.push(msg.params.chunk);
      if (msg.id === 3) {
        clearTimeout(timer);
        resolve();
      }
    };
  });
  ws.close();
  writeFileSync(out, chunks.join(''));
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await takeHeapSnapshot(Number(process.argv[2]), process.argv[3] ?? 'operator.heapsnapshot');
}
