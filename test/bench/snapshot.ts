// Takes a heap snapshot or a CPU profile of a running Node process through the inspector protocol:
// `node test/bench/snapshot.ts <inspector-port> <out.heapsnapshot>`. Start the target with
// `--inspect=127.0.0.1:<port>` (the bench does that with --heap-snapshot and --profile=steady).
import { writeFileSync } from 'node:fs';

async function inspectorUrl(port: number): Promise<string> {
  const list = (await (await fetch(`http://127.0.0.1:${port}/json/list`)).json()) as { webSocketDebuggerUrl: string }[];
  const url = list[0]?.webSocketDebuggerUrl;
  if (!url) throw new Error('no inspector target');
  return url;
}

/**
 * Starts V8's CPU profiler in the target; the returned function stops it and writes the profile to
 * `out` (.cpuprofile, the format of --cpu-prof). Profiles one window of a long-running process, e.g.
 * the steady state, which --cpu-prof (whole process life) cannot separate from the phase before it.
 */
export async function startCpuProfile(port: number, out: string, timeoutMs = 60_000): Promise<() => Promise<void>> {
  const ws = new WebSocket(await inspectorUrl(port));
  const replies = new Map<number, (result: unknown) => void>();
  ws.onmessage = (ev) => {
    const msg = JSON.parse(String(ev.data)) as { id?: number; result?: unknown };
    if (msg.id !== undefined) replies.get(msg.id)?.(msg.result);
  };
  const call = (id: number, method: string): Promise<unknown> =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`inspector ${method} timed out`)), timeoutMs);
      replies.set(id, (r) => {
        clearTimeout(timer);
        resolve(r);
      });
      ws.send(JSON.stringify({ id, method }));
    });
  await new Promise<void>((resolve, reject) => {
    ws.onopen = () => resolve();
    ws.onerror = () => reject(new Error('inspector websocket error'));
  });
  await call(1, 'Profiler.enable');
  await call(2, 'Profiler.start');
  return async () => {
    const r = (await call(3, 'Profiler.stop')) as { profile: unknown };
    ws.close();
    writeFileSync(out, JSON.stringify(r.profile));
  };
}

export async function takeHeapSnapshot(port: number, out: string, timeoutMs = 120_000): Promise<void> {
  const ws = new WebSocket(await inspectorUrl(port));
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
