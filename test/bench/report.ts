// Renders docs/benchmarks.md from test/bench/results/{full,quick}.json and the hand-written
// test/bench/notes.md (method details, profile reading, fixes). `node test/bench/report.ts` re-renders.
// The results are untyped JSON read back from disk; rendering them is deliberately loose.
/* eslint-disable @typescript-eslint/no-unsafe-member-access, @typescript-eslint/no-unsafe-argument, @typescript-eslint/no-unsafe-assignment, @typescript-eslint/no-explicit-any */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { repeatSection } from './repeat.ts';
import { sideBySide } from './twin.ts';

type J = Record<string, any>;

const read = (f: string): J | undefined => (existsSync(f) ? (JSON.parse(readFileSync(f, 'utf8')) as J) : undefined);
const ok = (met: boolean | undefined): string => (met === undefined ? '–' : met ? '**met**' : '**missed**');
const ms = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? '–' : `${x} ms`);

function section(r: J): string {
  const c = r['config'] as J;
  const out: string[] = [];
  out.push(`Run: ${r['startedAt']} (${r['durationS']} s), ${r['machine']?.cores} cores, Node ${r['machine']?.node}.`);
  if (r['error']) out.push(`\n**The run failed:** \`${String(r['error']).split('\n')[0]}\`\n`);
  out.push('');
  out.push('| # | figure | measured | target | | load avg (1/5/15 min) before → after |');
  out.push('|---|---|---|---|---|---|');
  const L = (x: J | undefined): string => (x?.['load'] ? `${x['load'].before} → ${x['load'].after}` : '–');
  const lat = r['latency'] as J | undefined;
  if (lat) {
    const s = lat['sendToArrivalMs'];
    out.push(`| 1 | reaction latency, spec PATCH sent → update request at the provider, ${lat['observed']}/${lat['samples']} changes over ${lat['stacks']} Ready Stacks | p50 ${s.p50} / p95 ${s.p95} / p99 ${s.p99} / max ${s.max} ms | p50 < 40 ms, p99 < 100 ms | ${ok(lat['met'])} | ${L(lat)} |`);
  }
  const tp = r['throughput'] as J | undefined;
  if (tp) {
    out.push(`| 2 | throughput, ${tp['stacks']} new Stacks → all Ready | ${tp['wallS']} s vs bound ${tp['boundS']} s = **${tp['ratio']}×** | ≤ 1.2× | ${ok(tp['ratio'] <= 1.2)} | ${L(tp)} |`);
  }
  const mem = r['memory'] as J | undefined;
  const st = r['steady'] as J | undefined;
  if (mem) {
    const cs = mem['coldStart'] as J;
    out.push(`| 3a | cold start with ${mem['stacks']} Stacks (spawn → every Stack queued) | ${ms(cs['queuedMs'])} | < 10 s | ${ok(mem['coldStartMet'])} | ${L(mem)} |`);
    out.push(`| 3b | operator RSS with ${mem['stacks']} Stacks: after sync / peak (VmHWM) / end of steady state | ${mem['afterSync']?.rssMiB} / ${mem['afterSync']?.hwmMiB} MiB (heap used ${mem['afterSync']?.heapUsedMiB} MiB${mem['heapSnapshot'] ? `; live heap after a full GC ${mem['heapSnapshot'].liveHeapMiB} MiB` : ''})${st?.['rssAfterMiB'] ? `; ${st['rssAfterMiB'].rssMiB} MiB at the end of the steady state` : ''} | ≤ 100 MiB | ${ok(mem['rssMet'])} | ${L(mem)} |`);
  }
  if (mem?.['throughput']) {
    const t = mem['throughput'] as J;
    out.push(`| 3c | throughput at scale, ${t['stacks']} new Stacks → all Ready (from operator spawn; provider limit ${c['bulkRateLimitQps']} req/s) | ${t['wallS'] ?? '–'} s vs bound ${t['boundS']} s = **${t['ratio'] ?? '–'}×** | ≤ 1.2× | ${ok(t['ratio'] === undefined ? false : t['ratio'] <= 1.2)} | ${L(mem)} |`);
  }
  if (st) {
    out.push(`| 4a | steady state, ${st['stacks']} Ready Stacks, ${st['windowS']} s: Kubernetes writes/min (leases excepted) | ${st['k8sWritesExceptLeasesPerMin']} | 0 | ${ok(st['k8sWritesExceptLeasesPerMin'] === 0)} | ${L(st)} |`);
    out.push(`| 4b | steady state: provider reads/min vs resync rate; mutations/min | ${st['providerReadsPerMin']} vs ${st['expectedResyncReadsPerMin']} expected; ${st['providerMutationsPerMin']} | resync rate; 0 | ${ok(st['providerMutationsPerMin'] === 0 && st['providerReadsPerMin'] <= st['expectedResyncReadsPerMin'] * 1.5)} | ${L(st)} |`);
  }
  const rs = r['restart'] as J | undefined;
  if (rs) {
    out.push(`| 5 | restart with ${rs['stacks']} Ready Stacks: spawn → every bulk Stack read at the provider; Kubernetes writes (leases excepted) | ${rs['wallS']} s vs bound ${rs['boundS']} s = **${rs['ratio']}×**; ${rs['k8sWrites']} writes | ≤ 1.2×; 0 | ${ok(rs['ratio'] <= 1.2 && rs['k8sWrites'] === 0)} | ${L(rs)} |`);
  }
  out.push('');
  const cg = r['cgroup'] as J | undefined;
  out.push(`Operator child: NODE_OPTIONS \`${c['operatorNodeOptions'] || '(none)'}\`; memory cgroup ${cg?.['version'] ? `${cg['version']}, limit ${cg['limit']}` : `none (${cg?.['none'] ?? 'not recorded'})`}.`);
  for (const x of (r['realism'] as J[] | undefined) ?? []) {
    out.push(`Stacks in \`${x['namespace']}\`: ${x['kubectlApplied']} by \`kubectl apply${x['apply'] === 'server-side' ? ' --server-side' : ''}\`, the rest the same server-side objects (identical managedFields and annotation shape: ${x['bulkLikeKubectl'] ? 'checked' : '**NOT identical**'}); one object ${x['objectBytes']} B of JSON: template ${x['templateBytes']} B, last-applied annotation ${x['lastAppliedBytes']} B, managedFields ${x['managedFieldsBytes']} B.`);
  }
  out.push('');
  out.push('Details:');
  out.push('');
  if (lat) {
    out.push(`- **Latency** (${lat['ratePerSec']} changes/s, each to a different Stack): PATCH response → arrival p50/p95/p99 ${lat['respToArrivalMs'].p50}/${lat['respToArrivalMs'].p95}/${lat['respToArrivalMs'].p99} ms; PATCH sent → engine accepted the update (after the emulator's ${c['providerLatencyMs']} ms injected latency) p50/p99 ${lat['sendToEngineAcceptMs'].p50}/${lat['sendToEngineAcceptMs'].p99} ms; PATCH round trip p50/p99 ${lat['patchRoundTripMs'].p50}/${lat['patchRoundTripMs'].p99} ms.`);
    const b = lat['breakdownMs'] as J | undefined;
    if (b) out.push(`- **Where a reaction's time goes** (p50/p99, ${b['sendToRead'].n} samples): PATCH sent → the operator's provider read arrives ${b['sendToRead'].p50}/${b['sendToRead'].p99} ms (API server write, watch delivery, queue); read arrives → the operation record seen on the bench's watch ${b['readToRecordSeen'].p50}/${b['readToRecordSeen'].p99} ms; record seen → update arrives ${b['recordSeenToUpdate'].p50}/${b['recordSeenToUpdate'].p99} ms. Since the eleventh round a spec change's record is written while the read runs (docs/stack-controller.md), so the record can be seen before the read's ${c['providerLatencyMs']} ms are over and these two overlap (a negative value: the bench's watch was the slower).`);
    const sp = lat['splitMs'] as J | undefined;
    if (sp) out.push(`- **The same reaction, split where either operator can be measured** (p50/p99, ${sp['sendToWatchSeen'].n} samples): PATCH sent → the bench's own watch shows the change ${sp['sendToWatchSeen'].p50}/${sp['sendToWatchSeen'].p99} ms (the API server's write and a watch delivery: every watcher's floor); → the operator's provider read arrives ${sp['watchSeenToRead'].p50}/${sp['watchSeenToRead'].p99} ms (the operator's own share before its read); read arrives → update arrives ${sp['readToUpdate'].p50}/${sp['readToUpdate'].p99} ms (the read's ${c['providerLatencyMs']} ms and what the operator does with it; ours writes its operation record during the read).`);
  }
  if (tp) {
    out.push(`- **Throughput**: creating the ${tp['stacks']} Stacks took ${tp['createMs']} ms; ${tp['callsPerStack']} provider requests per Stack (minimum ${c['callsPerStackToReady']}); ${tp['throttled']} requests throttled (429) by the provider; operator CPU ${tp['operatorCpuS']} s. Requests: \`${JSON.stringify(tp['heatRequests'])}\`.`);
  }
  if (mem) {
    const cs = mem['coldStart'] as J;
    out.push(`- **Cold start** (from spawn): /metrics up ${ms(cs['metricsUpMs'])}, /readyz (informers synced) ${ms(cs['readyzMs'])}, all queued ${ms(cs['queuedMs'])}, all ${c['memStacks']} new Stacks carry the finalizer (reconciled once) ${ms(cs['allFinalizedMs'])}, all Ready ${cs['allReadyMs'] !== undefined ? ms(cs['allReadyMs']) : `not within the ${mem['readyWaitS'] ?? '?'} s wait (${mem['readyAtWaitEnd'] ?? '?'}/${c['memStacks']} Ready then; the memory figures below are taken at that point, the steady-state phase waited for the rest)`}. Creating them through the API (operator stopped): ${mem['created']?.ms} ms (${mem['created']?.perSec}/s).`);
    out.push(`- **Memory**: at "all queued" RSS ${mem['atQueued']?.rssMiB} MiB, heap used ${mem['atQueued']?.heapUsedMiB} MiB; at the end of the wait + 5 s: RSS ${mem['afterSync']?.rssMiB} MiB, heap used/total ${mem['afterSync']?.heapUsedMiB}/${mem['afterSync']?.heapTotalMiB} MiB, external ${mem['afterSync']?.externalMiB} MiB; peak RSS ${mem['afterSync']?.hwmMiB} MiB. Operator CPU for the whole phase ${mem['operatorCpuS']} s.`);
    const hs = mem['heapSnapshot'] as J | undefined;
    if (hs) {
      out.push(`- **Heap snapshot** at the end of the phase-3 wait (a full GC first): live heap ${hs['liveHeapMiB']} MiB, RSS right after ${hs['rssAfterGcMiB']} MiB. Largest self sizes: ${(hs['top'] as J[]).slice(0, 8).map((x) => `${x['kind']}${x['name'] ? ` ${x['name']}` : ''} ${x['selfMiB']} MiB (${x['count']})`).join('; ')}.`);
    }
    if (mem['cgroup']) out.push(`- **Memory cgroup** (${mem['cgroup'].version}, limit ${mem['cgroup'].limit}) at the end of phase 3: usage ${mem['cgroup'].usageMiB} MiB, peak ${mem['cgroup'].peakMiB} MiB (page cache included), limit hits ${mem['cgroup'].failcnt}, OOM kills ${mem['cgroup'].oomKills}.`);
    if (mem['k8sWritesPerNewStack']) out.push(`- **Work per new Stack** (phase 3, create → Ready): Kubernetes writes \`${JSON.stringify(mem['k8sWritesPerNewStack'])}\`; provider requests \`${JSON.stringify(mem['providerRequestsPerNewStack'])}\`.`);
    const cpc = mem['controlPlaneCpu'] as J | undefined;
    if (cpc) out.push(`- **The control plane's CPU in phase 3** (its own process_cpu_seconds_total): kube-apiserver ${cpc['apiserverS']} s, etcd ${cpc['etcdS']} s, for ${cpc['writes']} writes: **${cpc['apiserverMsPerWrite']} ms of API server CPU per write**, ${Math.round((cpc['apiserverS'] / c['memStacks']) * 1e4) / 10} ms per new Stack.`);
    const os = mem['objectSizes'] as J | undefined;
    if (os) out.push(`- **One Ready Stack as stored** (JSON bytes, what each write makes the API server decode and encode): ${os['total']} B: spec ${os['spec']}, status ${os['status']}, annotations ${os['annotations']}, managedFields \`${JSON.stringify(os['managedFields'])}\`.`);
  }
  if (st) {
    out.push(`- **Steady state**: writes by verb/resource \`${JSON.stringify(st['k8sWritesByVerbResource'])}\`; per minute \`${JSON.stringify(st['k8sWritesPerMin'])}\`; provider requests \`${JSON.stringify(st['providerRequestsByOperation'])}\`; resync ${st['resync']?.bulk} (bulk) / ${st['resync']?.tp} (throughput Stacks), jitter ${st['resync']?.jitter}; Ready flips ${st['readyDips']}; operator CPU ${st['operatorCpuPerMinS']} s/min; RSS at the end ${st['rssAfterMiB']?.rssMiB} MiB.`);
  }
  if (rs) {
    out.push(`- **Restart**: ${rs['readyBefore'] ?? '?'}/${c['memStacks']} bulk Stacks Ready before it${rs['readyBefore'] !== undefined && rs['readyBefore'] < c['memStacks'] ? ' (not at rest: the writes are the others finishing, so figure 5 does not measure a restart at rest)' : ''}; ${rs['readBulk']}/${c['memStacks']} bulk Stacks read; writes \`${JSON.stringify(rs['k8sWritesByVerbResource'])}\`; ${rs['readyAfter']} Ready after; RSS ${rs['rss']?.rssMiB} MiB (peak ${rs['rss']?.hwmMiB} MiB); operator CPU ${rs['operatorCpuS']} s.`);
  }
  const prof = r['profile'] as J | undefined;
  if (prof) {
    out.push('');
    out.push(`CPU profile of the operator (phase \`${prof['phase']}\`, ${prof['totalMs']} ms sampled, of which ${prof['idleMs']} ms idle): top self time, % of the ${prof['busyMs']} ms busy:`);
    out.push('');
    out.push('| function | where | self ms | % |');
    out.push('|---|---|---|---|');
    for (const f of (prof['topFunctions'] as J[]).slice(0, 12)) out.push(`| \`${f['name']}\` | ${f['where']} | ${f['selfMs']} | ${f['selfPct']} |`);
    out.push('');
    out.push('| file / module | self ms | % |');
    out.push('|---|---|---|');
    for (const f of (prof['topFiles'] as J[]).slice(0, 10)) out.push(`| ${f['where']} | ${f['selfMs']} | ${f['selfPct']} |`);
    const incl = prof['topInclusive'] as J[] | undefined;
    if (incl) {
      out.push('');
      out.push('Time including callees (each function once per stack; what the self times above are part of):');
      out.push('');
      out.push('| function | where | total ms | % of busy |');
      out.push('|---|---|---|---|');
      for (const f of incl.slice(0, 24)) out.push(`| \`${f['name']}\` | ${f['where']} | ${f['totalMs']} | ${f['totalPct']} |`);
    }
  }
  out.push('');
  out.push(`Configuration: \`${JSON.stringify(c)}\``);
  return out.join('\n');
}

export function writeReport(resultsDir: string, target: string): void {
  const full = read(join(resultsDir, 'full.json'));
  const quick = read(join(resultsDir, 'quick.json'));
  const notesFile = join(resultsDir, '..', 'notes.md');
  const notes = existsSync(notesFile) ? readFileSync(notesFile, 'utf8') : '';
  const parts: string[] = [];
  parts.push('# Benchmarks');
  parts.push('');
  parts.push('<!-- Generated by `npm run bench` (test/bench/report.ts) from test/bench/results/{full,quick}.json and test/bench/notes.md. Edit notes.md, not this file. -->');
  parts.push('');
  parts.push('The performance targets of docs/benchmarks.md, measured by `npm run bench` (full) and `npm run bench -- --quick`.');
  parts.push('');
  parts.push('## Latest full run');
  parts.push('');
  parts.push(full ? section(full) : '_No full run recorded yet._');
  parts.push('');
  parts.push('## Latest quick run');
  parts.push('');
  parts.push(quick ? section(quick) : '_No quick run recorded yet._');
  parts.push('');
  const mem = read(join(resultsDir, 'mem10k.json'));
  if (mem) {
    // The first round's dedicated sizing run; the full run's phase 3 (same cgroup, the chart's
    // current flags) is the current sizing figure (notes.md, fourth round).
    parts.push('## Memory run at 10,000 Stacks (first round\'s sizing run)');
    parts.push('');
    parts.push(`\`npm run bench -- --phases=3 --node-options="${mem['config']?.['operatorNodeOptions'] ?? ''}" --memory-limit=${mem['config']?.['memoryLimit'] ?? ''} --ready-wait=${mem['memory']?.['readyWaitS'] ?? ''} --out=mem10k\` (phase 3 only: 10,000 realistic Stacks created with the operator stopped, then started; see "Issue 16" below).`);
    parts.push('');
    parts.push(section(mem));
    parts.push('');
  }
  for (const [file, title] of [
    ['profile', 'Profile run'],
    ['steady', 'Profile at rest'],
  ] as const) {
    const prof = read(join(resultsDir, `${file}.json`));
    if (!prof?.['profile']) continue;
    parts.push(`## ${title}`);
    parts.push('');
    const phase = (prof['profile'] as { phase?: string }).phase ?? 'mem';
    const phases = (prof['config'] as { phases?: string } | undefined)?.phases ?? '3';
    const what = {
      tp: 'the operator under `--cpu-prof` while 200 new Stacks go to Ready (phase 1)',
      steady: "V8's profiler started and stopped through the inspector around the steady-state window (phase 4: every Stack Ready, resyncs only)",
    }[phase] ?? 'the operator under `--cpu-prof` during the cold start and the first reconcile of every Stack (phase 3)';
    parts.push(`\`node test/bench/main.ts --quick --phases=${phases} --profile=${phase} --out=${file}\` (${what}; the figures of a profiled run are not the benchmark's figures).`);
    parts.push('');
    parts.push(section(prof));
    parts.push('');
  }
  for (const m of ['full', 'quick']) if (sideBySide(resultsDir, m)) parts.push(sideBySide(resultsDir, m), '');
  for (const m of ['full', 'quick']) if (repeatSection(resultsDir, m)) parts.push(repeatSection(resultsDir, m), '');
  parts.push(notes);
  writeFileSync(target, `${parts.join('\n').trimEnd()}\n`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const root = join(import.meta.dirname, '..', '..');
  writeReport(join(root, 'test/bench/results'), join(root, 'docs/benchmarks.md'));
}
