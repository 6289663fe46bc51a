// A real Kubernetes control plane for `npm run dev` and the tests: etcd + kube-apiserver (+ optional
// kube-controller-manager) built by src/devenv/build-k8s.sh, started on free loopback ports in a fresh
// temp dir. envtest-style; see docs/test-environment.md.
//
// Only Node built-ins here, so the vitest global setup loads it quickly.
import { spawn, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { k8sBinDir, requireBinary } from './paths.ts';
import { writeTokenKubeconfig } from './kubeconfig.ts';

export interface ControlPlaneOptions {
  /** Also run kube-controller-manager (namespace, garbagecollector, serviceaccount, serviceaccount-token). */
  controllerManager?: boolean;
  /** Extra kube-apiserver flags, appended after the defaults (a later flag wins), e.g. ['--watch-cache=false']. */
  apiserverArgs?: string[];
  /** Bound for each readiness wait (etcd, apiserver, controller-manager). Default 120 s. */
  readyTimeoutMs?: number;
}

export interface ControlPlaneTimings {
  etcdMs: number;
  apiserverMs: number;
  controllerManagerMs?: number;
  totalMs: number;
}

export interface ControlPlane {
  /** Admin kubeconfig (token user in system:masters, CA of the apiserver's self-signed cert). */
  kubeconfigPath: string;
  /** https://127.0.0.1:<port> */
  server: string;
  /** Bearer token of the admin user (group system:masters). */
  token: string;
  /** CA bundle that verifies the apiserver's serving cert (also embedded in the kubeconfig). */
  caFile: string;
  /** http://127.0.0.1:<port> of etcd (the v3 HTTP/JSON gateway is on the same port). */
  etcdUrl: string;
  /** The temp dir holding data, keys, certs, kubeconfig and the *.log files. */
  dir: string;
  /** How long the start-up took. */
  timings: ControlPlaneTimings;
  /** Stops the apiserver (SIGTERM, then SIGKILL) and starts it again on the same port and etcd. */
  restartApiServer(): Promise<void>;
  /** Stops the apiserver only; etcd (and the controller-manager, which will retry) keep running. */
  stopApiServer(): Promise<void>;
  /** Starts the apiserver again (same port, etcd, certs, tokens) and waits for /readyz. */
  startApiServer(): Promise<void>;
  /**
   * Compacts etcd to its current revision R (POST /v3/kv/compaction, physical) and returns R. A watch
   * from resourceVersion rv starts at rv+1, so it fails with 410 Gone when rv+1 < R (rv is at least two
   * writes old). Note: the apiserver's watch cache serves watches from memory; to see 410 from a
   * compaction alone start the plane with apiserverArgs ['--watch-cache=false'], or restart the
   * apiserver after compacting (the restarted watch cache starts at the current revision).
   */
  compactEtcd(): Promise<number>;
  /** Kills everything and removes the temp dir (unless KEEP_TEST_ENV=1). Idempotent. */
  stop(): Promise<void>;
}

const DEFAULT_READY_TIMEOUT_MS = 120_000;
// kube-apiserver drains its long-running requests (watches) for many seconds after SIGTERM; it holds
// no state of its own (etcd does), so tests do not wait for that: SIGKILL after a short grace.
const APISERVER_STOP_GRACE_MS = 2_000;
const STOP_GRACE_MS = 10_000;

/** A free TCP port on 127.0.0.1 (bind to port 0, read it, close). */
export async function freePort(): Promise<number> {
  return await new Promise<number>((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => (port ? resolve(port) : reject(new Error('no port'))));
    });
  });
}

function tail(file: string, lines = 25): string {
  try {
    return readFileSync(file, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---- process bookkeeping (exit / signal cleanup) -------------------------------------------------

class Proc {
  readonly name: string;
  readonly logFile: string;
  child: ChildProcess | undefined;
  exited: Promise<void> = Promise.resolve();
  exitInfo: string | undefined;

  readonly graceMs: number;

  constructor(name: string, logFile: string, graceMs = STOP_GRACE_MS) {
    this.name = name;
    this.logFile = logFile;
    this.graceMs = graceMs;
  }

  start(bin: string, args: string[]): void {
    const fd = openSync(this.logFile, 'a');
    try {
      writeFileSync(fd, `\n==== ${new Date().toISOString()} ${bin} ${args.join(' ')}\n`);
      // detached: the child leads its own process group, so teardown can kill the whole group.
      const child = spawn(bin, args, { detached: true, stdio: ['ignore', fd, fd], env: childEnv() });
      this.child = child;
      this.exitInfo = undefined;
      this.exited = new Promise<void>((resolve) => {
        child.once('exit', (code, signal) => {
          this.exitInfo = signal ? `signal ${signal}` : `code ${code}`;
          resolve();
        });
        child.once('error', (err) => {
          this.exitInfo = `spawn error: ${err.message}`;
          resolve();
        });
      });
    } finally {
      closeSync(fd);
    }
  }

  get running(): boolean {
    return this.child !== undefined && this.exitInfo === undefined;
  }

  killGroupSync(signal: NodeJS.Signals): void {
    const pid = this.child?.pid;
    if (pid === undefined || this.exitInfo !== undefined) return;
    try {
      process.kill(-pid, signal);
    } catch {
      try {
        process.kill(pid, signal);
      } catch {
        // already gone
      }
    }
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.killGroupSync('SIGTERM');
    const done = await Promise.race([this.exited.then(() => true), sleep(this.graceMs, undefined, { ref: false }).then(() => false)]);
    if (!done) {
      this.killGroupSync('SIGKILL');
      await Promise.race([this.exited, sleep(STOP_GRACE_MS, undefined, { ref: false })]);
    }
    // The group may hold more than the leader; make sure nothing of it survives.
    const pid = this.child?.pid;
    if (pid !== undefined) {
      try {
        process.kill(-pid, 'SIGKILL');
      } catch {
        // no such group: fine
      }
    }
  }

  failure(what: string): Error {
    return new Error(
      `${this.name}: ${what}${this.exitInfo ? ` (exited: ${this.exitInfo})` : ''}\n` +
        `log: ${this.logFile}\n--- last lines ---\n${tail(this.logFile)}`,
    );
  }
}

function childEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  delete env.KUBECONFIG;
  return env;
}

interface Live {
  procs: Proc[];
  dir: string;
}

const DIR_PREFIX = 'stack-operator-cp-';
const OWNER_FILE = 'owner.json';

interface OwnerRecord {
  owner: number;
  pgids: number[];
}

/** Records who owns the dir and which process groups run in it, for reapStale(). */
function writeOwner(l: Live): void {
  const rec: OwnerRecord = {
    owner: process.pid,
    pgids: l.procs.flatMap((p) => (p.running && p.child?.pid !== undefined ? [p.child.pid] : [])),
  };
  try {
    writeFileSync(join(l.dir, OWNER_FILE), JSON.stringify(rec));
  } catch {
    // dir already removed
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Cleans up after runs whose owner died without teardown (SIGKILL, OOM): kills their leftover
 * process groups (only if the leader still runs one of our binaries) and removes their temp dirs.
 * Dirs of live owners (other test runs on this machine) and dirs kept with KEEP_TEST_ENV=1 are left alone.
 */
export function reapStale(): void {
  let entries: string[];
  try {
    entries = readdirSync(tmpdir()).filter((e) => e.startsWith(DIR_PREFIX));
  } catch {
    return;
  }
  for (const e of entries) {
    const dir = join(tmpdir(), e);
    let rec: OwnerRecord;
    try {
      rec = JSON.parse(readFileSync(join(dir, OWNER_FILE), 'utf8')) as OwnerRecord;
    } catch {
      continue; // not ours, being created, or kept
    }
    if (rec.owner === process.pid || alive(rec.owner)) continue;
    for (const pgid of rec.pgids) {
      let cmd = '';
      try {
        cmd = readFileSync(`/proc/${pgid}/cmdline`, 'utf8');
      } catch {
        continue;
      }
      if (!cmd.startsWith(k8sBinDir())) continue;
      try {
        process.kill(-pgid, 'SIGKILL');
      } catch {
        // gone
      }
    }
    rmSync(dir, { recursive: true, force: true });
  }
}
const live = new Set<Live>();
let handlersInstalled = false;

function keepDir(): boolean {
  return process.env.KEEP_TEST_ENV === '1';
}

function cleanupSync(l: Live): void {
  for (const p of [...l.procs].reverse()) p.killGroupSync('SIGKILL');
  if (keepDir()) {
    rmSync(join(l.dir, OWNER_FILE), { force: true });
  } else {
    try {
      rmSync(l.dir, { recursive: true, force: true });
    } catch {
      // best effort at exit
    }
  }
  live.delete(l);
}

function installHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const l of [...live]) cleanupSync(l);
  });
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const handler = (): void => {
      // Another handler (vitest, the dev command) owns shutdown: it stops the planes or exits, and
      // the 'exit' hook above is the safety net. Alone, clean up and die by the signal as usual.
      if (process.listenerCount(sig) > 1) return;
      for (const l of [...live]) cleanupSync(l);
      process.removeListener(sig, handler);
      process.kill(process.pid, sig);
    };
    process.on(sig, handler);
  }
}

// ---- readiness ------------------------------------------------------------------------------------

interface HttpResult {
  status: number;
  body: string;
}

function httpsGet(url: string, token: string, timeoutMs = 5_000): Promise<HttpResult> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      { method: 'GET', headers: { authorization: `Bearer ${token}` }, rejectUnauthorized: false, timeout: timeoutMs },
      (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c: string) => (body += c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
        res.on('error', reject);
      },
    );
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end();
  });
}

async function waitFor(
  proc: Proc,
  what: string,
  timeoutMs: number,
  probe: () => Promise<boolean>,
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let lastErr = '';
  for (let delay = 50; ; delay = Math.min(delay * 2, 500)) {
    if (!proc.running) throw proc.failure(`exited before ${what}`);
    try {
      if (await probe()) return;
    } catch (err) {
      lastErr = err instanceof Error ? err.message : String(err);
    }
    if (Date.now() > deadline) {
      throw proc.failure(`not ${what} after ${timeoutMs} ms${lastErr ? ` (last error: ${lastErr})` : ''}`);
    }
    await sleep(delay);
  }
}

// ---- the control plane ------------------------------------------------------------------------------

interface PlaneFiles {
  dir: string;
  certDir: string;
  token: string;
  tokenFile: string;
  saKey: string;
  saPub: string;
}

/** The admin token and the service-account key pair, written into the plane's temp dir. */
function writeKeys(dir: string): PlaneFiles {
  const certDir = join(dir, 'certs');
  mkdirSync(certDir);
  const token = randomBytes(24).toString('hex');
  const tokenFile = join(dir, 'tokens.csv');
  writeFileSync(tokenFile, `${token},admin,admin,system:masters\n`, { mode: 0o600 });
  const { privateKey, publicKey } = generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs1', format: 'pem' },
  });
  const saKey = join(dir, 'sa.key');
  const saPub = join(dir, 'sa.pub');
  writeFileSync(saKey, privateKey, { mode: 0o600 });
  writeFileSync(saPub, publicKey);
  return { dir, certDir, token, tokenFile, saKey, saPub };
}

/** Starts etcd and returns its client URL. Ports are picked free and bound a moment later: retry on the rare collision. */
async function startEtcd(etcd: Proc, l: Live, bin: string, dir: string, readyTimeoutMs: number): Promise<string> {
  for (let attempt = 1; ; attempt++) {
    const etcdUrl = `http://127.0.0.1:${await freePort()}`;
    const peerUrl = `http://127.0.0.1:${await freePort()}`;
    etcd.start(bin, [
      '--name=default',
      `--data-dir=${join(dir, 'etcd')}`,
      `--listen-client-urls=${etcdUrl}`,
      `--advertise-client-urls=${etcdUrl}`,
      `--listen-peer-urls=${peerUrl}`,
      `--initial-advertise-peer-urls=${peerUrl}`,
      `--initial-cluster=default=${peerUrl}`,
      '--unsafe-no-fsync',
      '--log-level=warn',
    ]);
    writeOwner(l);
    try {
      await waitFor(etcd, 'healthy', readyTimeoutMs, async () => {
        const res = await fetch(`${etcdUrl}/health`, { signal: AbortSignal.timeout(5_000) });
        const body = (await res.json()) as { health?: string };
        return body.health === 'true';
      });
      return etcdUrl;
    } catch (err) {
      await etcd.stop();
      if (attempt < 3 && /address already in use/.test(tail(etcd.logFile, 50))) continue;
      throw err;
    }
  }
}

function apiserverFlags(etcdUrl: string, port: number, server: string, f: PlaneFiles, extra: string[]): string[] {
  return [
    `--etcd-servers=${etcdUrl}`,
    `--secure-port=${port}`,
    '--bind-address=127.0.0.1',
    '--advertise-address=127.0.0.1',
    `--cert-dir=${f.certDir}`,
    '--service-cluster-ip-range=10.0.0.0/24',
    '--allow-privileged=true',
    '--authorization-mode=RBAC',
    '--disable-admission-plugins=ServiceAccount',
    '--endpoint-reconciler-type=none',
    `--token-auth-file=${f.tokenFile}`,
    `--service-account-issuer=${server}/`,
    `--service-account-key-file=${f.saPub}`,
    `--service-account-signing-key-file=${f.saKey}`,
    '--profiling=false',
    ...extra,
  ];
}

interface KcmInput {
  bin: string;
  kubeconfigPath: string;
  files: PlaneFiles;
  caFile: string;
  server: string;
  readyTimeoutMs: number;
}

async function startControllerManager(kcm: Proc, l: Live, i: KcmInput): Promise<void> {
  kcm.start(i.bin, [
    `--kubeconfig=${i.kubeconfigPath}`,
    '--controllers=namespace,garbagecollector,serviceaccount,serviceaccount-token',
    `--service-account-private-key-file=${i.files.saKey}`,
    `--root-ca-file=${i.caFile}`,
    '--leader-elect=false',
    '--use-service-account-credentials=false',
    '--secure-port=0',
    '--profiling=false',
  ]);
  writeOwner(l);
  // Ready when the serviceaccount controller has created default/default.
  await waitFor(kcm, 'working (ServiceAccount default/default created)', i.readyTimeoutMs, async () => {
    const res = await httpsGet(`${i.server}/api/v1/namespaces/default/serviceaccounts/default`, i.files.token);
    return res.status === 200;
  });
}

/** Compacts etcd to its current revision (physical) and returns that revision. */
async function compactEtcd(etcdUrl: string): Promise<number> {
  const post = async (path: string, body: unknown): Promise<Record<string, unknown>> => {
    const res = await fetch(`${etcdUrl}${path}`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
      signal: AbortSignal.timeout(10_000),
    });
    const json = (await res.json()) as Record<string, unknown>;
    if (!res.ok) throw new Error(`etcd ${path}: HTTP ${res.status} ${JSON.stringify(json)}`);
    return json;
  };
  // Any range answers with the store's current revision in its header.
  const range = await post('/v3/kv/range', { key: Buffer.from('/').toString('base64'), limit: 1 });
  const revision = Number((range.header as { revision?: string } | undefined)?.revision);
  if (!Number.isFinite(revision) || revision <= 0) {
    throw new Error(`etcd range: no revision in ${JSON.stringify(range)}`);
  }
  await post('/v3/kv/compaction', { revision: String(revision), physical: true });
  return revision;
}

/** Stops the processes (controller-manager first) and removes the dir, or keeps what was asked. Idempotent. */
function stopper(l: Live, procs: { etcd: Proc; apiserver: Proc; kcm: Proc }): { stop: (keepLogs?: boolean) => Promise<void>; stopped: () => boolean } {
  let stopped = false;
  const stop = async (keepLogs = false): Promise<void> => {
    if (stopped) return;
    stopped = true;
    await procs.kcm.stop();
    await procs.apiserver.stop();
    await procs.etcd.stop();
    live.delete(l);
    if (keepDir()) {
      rmSync(join(l.dir, OWNER_FILE), { force: true });
      process.stderr.write(`[control-plane] KEEP_TEST_ENV=1: kept ${l.dir}\n`);
    } else if (keepLogs) {
      // Start-up failed: keep only the *.log files for the post-mortem.
      for (const sub of ['etcd', 'certs', 'sa.key', 'sa.pub', 'tokens.csv', 'kubeconfig', OWNER_FILE]) {
        rmSync(join(l.dir, sub), { recursive: true, force: true });
      }
    } else {
      rmSync(l.dir, { recursive: true, force: true });
    }
  };
  return { stop, stopped: () => stopped };
}

export async function startControlPlane(opts: ControlPlaneOptions = {}): Promise<ControlPlane> {
  const t0 = Date.now();
  const readyTimeoutMs = opts.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS;
  const etcdBin = requireBinary('etcd');
  const apiserverBin = requireBinary('kube-apiserver');
  const kcmBin = opts.controllerManager ? requireBinary('kube-controller-manager') : undefined;

  installHandlers();
  reapStale();
  const dir = mkdtempSync(join(tmpdir(), DIR_PREFIX));
  const etcd = new Proc('etcd', join(dir, 'etcd.log'));
  const apiserver = new Proc('kube-apiserver', join(dir, 'kube-apiserver.log'), APISERVER_STOP_GRACE_MS);
  const kcm = new Proc('kube-controller-manager', join(dir, 'kube-controller-manager.log'), APISERVER_STOP_GRACE_MS);
  const l: Live = { procs: [etcd, apiserver, kcm], dir };
  live.add(l);
  const { stop, stopped } = stopper(l, { etcd, apiserver, kcm });

  try {
    const files = writeKeys(dir);
    const etcdUrl = await startEtcd(etcd, l, etcdBin, dir, readyTimeoutMs);
    const tEtcd = Date.now();

    const port = await freePort();
    const server = `https://127.0.0.1:${port}`;
    const flags = apiserverFlags(etcdUrl, port, server, files, opts.apiserverArgs ?? []);
    const startApiServerOnce = async (): Promise<void> => {
      apiserver.start(apiserverBin, flags);
      writeOwner(l);
      await waitFor(apiserver, 'ready (/readyz)', readyTimeoutMs, async () => (await httpsGet(`${server}/readyz`, files.token)).status === 200);
    };
    await startApiServerOnce();
    const tApi = Date.now();

    // The apiserver wrote a self-signed serving cert (leaf + its CA) into cert-dir; it reuses it on
    // restart, so the kubeconfig stays valid.
    const caFile = join(files.certDir, 'apiserver.crt');
    if (!existsSync(caFile)) throw apiserver.failure(`no ${caFile}`);
    const kubeconfigPath = writeTokenKubeconfig(join(dir, 'kubeconfig'), { server, caFile, token: files.token, user: 'admin', namespace: 'default' });

    let tKcm: number | undefined;
    if (kcmBin) {
      await startControllerManager(kcm, l, { bin: kcmBin, kubeconfigPath, files, caFile, server, readyTimeoutMs });
      tKcm = Date.now();
    }
    const ensureNotStopped = (): void => {
      if (stopped()) throw new Error('control plane stopped');
    };
    return {
      kubeconfigPath,
      server,
      token: files.token,
      caFile,
      etcdUrl,
      dir,
      timings: {
        etcdMs: tEtcd - t0,
        apiserverMs: tApi - tEtcd,
        ...(tKcm !== undefined ? { controllerManagerMs: tKcm - tApi } : {}),
        totalMs: Date.now() - t0,
      },
      stopApiServer: () => apiserver.stop(),
      startApiServer: async () => {
        ensureNotStopped();
        if (!apiserver.running) await startApiServerOnce();
      },
      restartApiServer: async () => {
        ensureNotStopped();
        await apiserver.stop();
        await startApiServerOnce();
      },
      compactEtcd: () => compactEtcd(etcdUrl),
      stop: () => stop(false),
    };
  } catch (err) {
    await stop(true).catch(() => undefined);
    throw err;
  }
}
