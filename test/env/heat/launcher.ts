// Starts a real OpenStack Heat (Debian bookworm, Zed 19) behind a real Keystone (22), both on
// a private PostgreSQL cluster, on free loopback ports in a temporary directory.
//
//   const heat = await startHeat();
//   ... heat.keystoneUrl, heat.demo, heat.admin ...
//   await heat.stop();
//
// Packages come from test/env/heat/install.sh (this module does not install anything).
// The slow one-time work (initdb, keystone db_sync + bootstrap, heat db_sync, registering
// Heat in Keystone) is done once into a template directory cached outside the repo
// ($STACK_OPERATOR_CACHE or $XDG_CACHE_HOME/stack-operator or ~/.cache/stack-operator,
// keyed by the package versions); each start copies it and only rewrites the endpoint URLs.
// See docs/real-heat.md.
import { spawn, execFile } from 'node:child_process';
import type { ChildProcess } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync, rmSync } from 'node:fs';
import { chmod, chown, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { randomBytes } from 'node:crypto';

const execFileP = promisify(execFile);
const HERE = path.dirname(fileURLToPath(import.meta.url));
const PYTHON = '/usr/bin/python3';
const HOST = '127.0.0.1';
const REGION = 'RegionOne';
/** Bump when the template's content or layout changes. */
const TEMPLATE_LAYOUT = 4;

export interface OpenStackCredentials {
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
}

export interface DemoCredentials extends OpenStackCredentials {
  projectId: string;
  /** An application credential of the demo user, scoped to the demo project. */
  applicationCredential: { id: string; secret: string };
}

export interface RealHeat {
  /** Keystone v3 base URL, e.g. http://127.0.0.1:PORT/v3 */
  keystoneUrl: string;
  /** Heat's public endpoint as registered in the catalog: http://127.0.0.1:PORT/v1/%(tenant_id)s */
  heatUrl: string;
  region: string;
  /** Cloud admin (bootstrap user, admin role on project admin). */
  admin: OpenStackCredentials;
  /** A plain user with roles member + heat_stack_owner on project demo. */
  demo: DemoCredentials;
  /** The temporary directory holding configs, data and logs (removed by stop()). */
  dir: string;
  /** Milliseconds per start-up phase, and total. */
  timings: Record<string, number>;
  /** Whether the template was built by this call (cold) or reused from the cache (warm). */
  templateBuilt: boolean;
  /** Last lines of every log file, for diagnostics. */
  logTail(lines?: number): string;
  stop(): Promise<void>;
}

export interface StartHeatOptions {
  /** Cache directory for the initialised template; false disables caching. */
  cacheDir?: string | false;
  /** Keep the temporary directory after stop() (for debugging). */
  keepDir?: boolean;
  /** Heat's [DEFAULT] debug (adds tracebacks to error bodies). Default false, like production. */
  debug?: boolean;
  /** Overall start-up timeout. Default 240 s. */
  timeoutMs?: number;
  log?: (msg: string) => void;
}

interface TemplateMeta {
  layout: number;
  key: string;
  adminPassword: string;
  demoPassword: string;
  heatPassword: string;
  demoProjectId: string;
  adminProjectId: string;
  applicationCredential: { id: string; secret: string };
}

// ---------------------------------------------------------------------------------------------
// processes

interface Proc {
  name: string;
  child: ChildProcess;
  exited: Promise<number | null>;
  exitCode: number | null | undefined;
  /** Signal used by the synchronous exit hook. */
  hardSignal: NodeJS.Signals;
}

const live = new Set<Proc>();
const liveDirs = new Set<string>();
let hooksInstalled = false;

function cleanupSync(): void {
  for (const p of live) {
    try {
      if (p.child.pid !== undefined) process.kill(p.child.pid, p.hardSignal);
    } catch {
      // already gone
    }
  }
  live.clear();
  for (const d of liveDirs) {
    try {
      rmSync(d, { recursive: true, force: true });
    } catch {
      // best effort
    }
  }
  liveDirs.clear();
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', cleanupSync);
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      cleanupSync();
      process.kill(process.pid, sig);
    });
  }
}

interface RunAs {
  uid: number;
  gid: number;
}

function startProc(
  name: string,
  cmd: string,
  args: string[],
  logFile: string,
  opts: { runAs?: RunAs; env?: NodeJS.ProcessEnv; hardSignal?: NodeJS.Signals } = {},
): Proc {
  const fd = openSync(logFile, 'a');
  let child: ChildProcess;
  try {
    child = spawn(cmd, args, {
      stdio: ['ignore', fd, fd],
      env: opts.env ?? process.env,
      ...(opts.runAs ? { uid: opts.runAs.uid, gid: opts.runAs.gid } : {}),
    });
  } finally {
    closeSync(fd);
  }
  const proc: Proc = {
    name,
    child,
    exitCode: undefined,
    hardSignal: opts.hardSignal ?? 'SIGKILL',
    exited: new Promise((resolve) => {
      child.once('error', () => {
        proc.exitCode = -1;
        live.delete(proc);
        resolve(-1);
      });
      child.once('exit', (code) => {
        proc.exitCode = code;
        live.delete(proc);
        resolve(code);
      });
    }),
  };
  live.add(proc);
  return proc;
}

async function stopProc(p: Proc, signal: NodeJS.Signals, graceMs: number): Promise<void> {
  if (p.exitCode !== undefined) return;
  try {
    p.child.kill(signal);
  } catch {
    // gone
  }
  const t = setTimeout(() => {
    try {
      p.child.kill('SIGKILL');
    } catch {
      // gone
    }
  }, graceMs);
  await p.exited;
  clearTimeout(t);
}

async function run(
  name: string,
  cmd: string,
  args: string[],
  logFile: string,
  opts: { runAs?: RunAs; env?: NodeJS.ProcessEnv; timeoutMs?: number } = {},
): Promise<void> {
  const p = startProc(name, cmd, args, logFile, opts);
  const timeoutMs = opts.timeoutMs ?? 180_000;
  let timedOut = false;
  const t = setTimeout(() => {
    timedOut = true;
    try {
      p.child.kill('SIGKILL');
    } catch {
      // gone
    }
  }, timeoutMs);
  const code = await p.exited;
  clearTimeout(t);
  if (code !== 0) {
    throw new Error(
      `${name} ${timedOut ? `timed out after ${timeoutMs} ms` : `exited with ${code}`}\n--- ${logFile}\n${tail(logFile, 40)}`,
    );
  }
}

/** Python one-liner entry points: no dependency on heat-common's /usr/bin scripts. */
function pyMain(module: string): string[] {
  return ['-c', `import sys; from ${module} import main; sys.exit(main())`];
}

function tail(file: string, lines: number): string {
  try {
    const text = readFileSync(file, 'utf8');
    return text.split('\n').slice(-lines - 1).join('\n');
  } catch {
    return '(no log)';
  }
}

// ---------------------------------------------------------------------------------------------
// small helpers

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = net.createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

async function freePorts(n: number): Promise<number[]> {
  // Hold all listeners open together so the ports are distinct.
  const servers: net.Server[] = [];
  try {
    const ports: number[] = [];
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      servers.push(srv);
      await new Promise<void>((resolve, reject) => {
        srv.once('error', reject);
        srv.listen(0, HOST, () => resolve());
      });
      const addr = srv.address();
      ports.push(typeof addr === 'object' && addr ? addr.port : await freePort());
    }
    return ports;
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function waitFor<T>(
  what: string,
  deadline: number,
  fn: () => Promise<T | undefined>,
  alive?: () => string | undefined,
): Promise<T> {
  let lastErr: unknown;
  while (Date.now() < deadline) {
    const dead = alive?.();
    if (dead) throw new Error(`${what}: ${dead}`);
    try {
      const v = await fn();
      if (v !== undefined) return v;
    } catch (err) {
      lastErr = err;
    }
    await sleep(250);
  }
  const why = lastErr instanceof Error ? `: ${lastErr.message}` : '';
  throw new Error(`timed out waiting for ${what}${why}`);
}

async function api<T = unknown>(
  method: string,
  url: string,
  opts: { token?: string; body?: unknown; expect?: number[] } = {},
): Promise<{ status: number; headers: Headers; json: T }> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (opts.token) headers['x-auth-token'] = opts.token;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, {
    method,
    headers,
    body: opts.body === undefined ? undefined : JSON.stringify(opts.body),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  let json: unknown = undefined;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = text;
  }
  if (opts.expect && !opts.expect.includes(res.status)) {
    throw new Error(`${method} ${url} -> ${res.status}: ${text.slice(0, 500)}`);
  }
  return { status: res.status, headers: res.headers, json: json as T };
}

interface TokenBody {
  token: { project: { id: string }; user: { id: string } };
}

/** Keystone create responses: {"<entity>": {"id": ..., ...}} */
type Created = Record<string, { id: string; secret?: string }>;

async function passwordToken(
  keystoneUrl: string,
  user: string,
  password: string,
  project: string,
): Promise<{ token: string; body: TokenBody }> {
  const res = await fetch(`${keystoneUrl}/auth/tokens`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: user, domain: { name: 'Default' }, password } },
        },
        scope: { project: { name: project, domain: { name: 'Default' } } },
      },
    }),
    signal: AbortSignal.timeout(30_000),
  });
  const text = await res.text();
  if (res.status !== 201) throw new Error(`token for ${user}: ${res.status} ${text.slice(0, 300)}`);
  return { token: res.headers.get('x-subject-token') ?? '', body: JSON.parse(text) as TokenBody };
}

async function resolveRunAs(): Promise<RunAs | undefined> {
  if (process.getuid?.() !== 0) return undefined;
  const uid = Number((await execFileP('id', ['-u', 'postgres'])).stdout.trim());
  const gid = Number((await execFileP('id', ['-g', 'postgres'])).stdout.trim());
  return { uid, gid };
}

async function pgBinDir(): Promise<string> {
  const base = '/usr/lib/postgresql';
  const versions = (await readdir(base).catch(() => []))
    .filter((v) => existsSync(path.join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  if (versions.length === 0) throw new Error('PostgreSQL not found under /usr/lib/postgresql: run test/env/heat/install.sh');
  return path.join(base, versions[0]!, 'bin');
}

async function templateKey(pgBin: string): Promise<string> {
  const { stdout } = await execFileP('dpkg-query', ['-W', '-f=${Version};', 'python3-heat', 'python3-keystone']);
  const raw = `${TEMPLATE_LAYOUT};${stdout};${pgBin}`;
  return raw.replace(/[^A-Za-z0-9.]+/g, '_').replace(/^_+|_+$/g, '');
}

function defaultCacheRoot(): string {
  if (process.env.STACK_OPERATOR_CACHE) return process.env.STACK_OPERATOR_CACHE;
  const xdg = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return path.join(xdg, 'stack-operator');
}

// ---------------------------------------------------------------------------------------------
// configuration files

function keystoneConf(dir: string, pgPort: number): string {
  return `[DEFAULT]
log_file = ${dir}/keystone.log
debug = false

[database]
connection = postgresql+psycopg2://postgres@${HOST}:${pgPort}/keystone

[token]
provider = fernet

[fernet_tokens]
key_repository = ${dir}/fernet-keys

[fernet_receipts]
key_repository = ${dir}/fernet-receipts

[credential]
key_repository = ${dir}/credential-keys

[identity]
password_hash_algorithm = bcrypt
password_hash_rounds = 4
`;
}

function heatConf(dir: string, p: Ports, heatPassword: string, debug: boolean): string {
  const ks = `http://${HOST}:${p.keystone}`;
  return `[DEFAULT]
debug = ${debug}
log_file = ${dir}/heat.log
host = heat-e2e
transport_url = fake:/
rpc_response_timeout = 60
num_engine_workers = 1
convergence_engine = true
auth_encryption_key = 0123456789abcdef0123456789abcdef
heat_metadata_server_url = http://${HOST}:8000
heat_waitcondition_server_url = http://${HOST}:8000/v1/waitcondition
environment_dir = ${dir}/environment.d
max_nested_stack_depth = 5
region_name_for_services = ${REGION}

[heat_all]
enabled_services = api,engine

[heat_api]
bind_host = ${HOST}
bind_port = ${p.heat}
workers = 1

[database]
connection = postgresql+psycopg2://postgres@${HOST}:${p.pg}/heat

[paste_deploy]
api_paste_config = ${dir}/api-paste.ini

[keystone_authtoken]
www_authenticate_uri = ${ks}/v3
auth_url = ${ks}
auth_type = password
username = heat
password = ${heatPassword}
project_name = service
user_domain_name = Default
project_domain_name = Default
region_name = ${REGION}

[trustee]
auth_type = password
auth_url = ${ks}
username = heat
password = ${heatPassword}
user_domain_name = Default

[clients_keystone]
auth_uri = ${ks}

[oslo_concurrency]
lock_path = ${dir}/locks
`;
}

const API_PASTE = `[pipeline:heat-api]
pipeline = request_id faultwrap versionnegotiation authurl authtoken context apiv1app

[app:apiv1app]
paste.app_factory = heat.common.wsgi:app_factory
heat.app_factory = heat.api.openstack.v1:API

[filter:request_id]
paste.filter_factory = oslo_middleware.request_id:RequestId.factory

[filter:faultwrap]
paste.filter_factory = heat.common.wsgi:filter_factory
heat.filter_factory = heat.api.openstack:faultwrap_filter

[filter:versionnegotiation]
paste.filter_factory = heat.common.wsgi:filter_factory
heat.filter_factory = heat.api.openstack:version_negotiation_filter

[filter:authurl]
paste.filter_factory = heat.common.auth_url:filter_factory

[filter:authtoken]
paste.filter_factory = keystonemiddleware.auth_token:filter_factory

[filter:context]
paste.filter_factory = heat.common.context:ContextMiddleware_filter_factory
`;

interface Ports {
  pg: number;
  keystone: number;
  heat: number;
}

// ---------------------------------------------------------------------------------------------
// PostgreSQL

async function startPostgres(dir: string, pgBin: string, port: number, runAs: RunAs | undefined): Promise<Proc> {
  const sock = path.join(dir, 'pg-sock');
  await mkdir(sock, { recursive: true });
  if (runAs) await chown(sock, runAs.uid, runAs.gid);
  const proc = startProc(
    'postgres',
    path.join(pgBin, 'postgres'),
    [
      '-D', path.join(dir, 'pgdata'),
      '-p', String(port),
      '-k', sock,
      '-c', `listen_addresses=${HOST}`,
      '-c', 'fsync=off',
      '-c', 'synchronous_commit=off',
      '-c', 'full_page_writes=off',
      '-c', 'max_connections=100',
      '-c', 'shared_buffers=32MB',
    ],
    path.join(dir, 'postgres.log'),
    { runAs, hardSignal: 'SIGQUIT' },
  );
  const deadline = Date.now() + 60_000;
  await waitFor(
    'postgres',
    deadline,
    async () => {
      try {
        await execFileP(path.join(pgBin, 'pg_isready'), ['-q', '-h', HOST, '-p', String(port)]);
        return true;
      } catch {
        return undefined;
      }
    },
    () => (proc.exitCode !== undefined ? `exited ${proc.exitCode}\n${tail(path.join(dir, 'postgres.log'), 20)}` : undefined),
  );
  return proc;
}

async function psql(pgBin: string, port: number, db: string, sql: string, logFile: string): Promise<void> {
  await run('psql', path.join(pgBin, 'psql'), ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-h', HOST, '-p', String(port), '-U', 'postgres', '-d', db, '-c', sql], logFile, {
    timeoutMs: 30_000,
  });
}

// ---------------------------------------------------------------------------------------------
// template (one-time initialisation)

async function keystoneManage(dir: string, args: string[], log: string): Promise<void> {
  await run(`keystone-manage ${args[0]}`, PYTHON, [...pyMain('keystone.cmd.manage'), '--config-file', path.join(dir, 'keystone.conf'), ...args], log);
}

function startKeystone(dir: string, port: number): Proc {
  return startProc(
    'keystone',
    PYTHON,
    [path.join(HERE, 'keystone_server.py'), HOST, String(port), '--', '--config-file', path.join(dir, 'keystone.conf')],
    path.join(dir, 'keystone.out'),
    { env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' } },
  );
}

async function waitKeystone(url: string, proc: Proc, dir: string, deadline: number): Promise<void> {
  await waitFor(
    'keystone',
    deadline,
    async () => ((await api('GET', url)).status === 200 ? true : undefined),
    () => (proc.exitCode !== undefined ? `exited ${proc.exitCode}\n${tail(path.join(dir, 'keystone.out'), 30)}\n${tail(path.join(dir, 'keystone.log'), 30)}` : undefined),
  );
}

async function buildTemplate(
  target: string,
  pgBin: string,
  runAs: RunAs | undefined,
  key: string,
  log: (m: string) => void,
): Promise<void> {
  const t0 = Date.now();
  const dir = target;
  await mkdir(dir, { recursive: true });
  await chmod(dir, 0o755);
  const buildLog = path.join(dir, 'build.log');
  const pgdata = path.join(dir, 'pgdata');
  await mkdir(pgdata, { mode: 0o700 });
  if (runAs) await chown(pgdata, runAs.uid, runAs.gid);
  await run('initdb', path.join(pgBin, 'initdb'), ['-D', pgdata, '-U', 'postgres', '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync', '--wal-segsize=1'], buildLog, {
    runAs,
  });
  log(`template: initdb ${Date.now() - t0} ms`);
  const [pgPort, ksPort] = await freePorts(2);
  const pg = await startPostgres(dir, pgBin, pgPort!, runAs);
  let ks: Proc | undefined;
  try {
    await psql(pgBin, pgPort!, 'postgres', 'CREATE DATABASE keystone; ', buildLog);
    await psql(pgBin, pgPort!, 'postgres', 'CREATE DATABASE heat;', buildLog);
    const meta: TemplateMeta = {
      layout: TEMPLATE_LAYOUT,
      key,
      adminPassword: `admin-${randomBytes(6).toString('hex')}`,
      demoPassword: `demo-${randomBytes(6).toString('hex')}`,
      heatPassword: `heat-${randomBytes(6).toString('hex')}`,
      demoProjectId: '',
      adminProjectId: '',
      applicationCredential: { id: '', secret: '' },
    };
    for (const d of ['fernet-keys', 'fernet-receipts', 'credential-keys']) await mkdir(path.join(dir, d), { mode: 0o700 });
    await writeFile(path.join(dir, 'keystone.conf'), keystoneConf(dir, pgPort!));
    await writeFile(path.join(dir, 'heat.conf'), heatConf(dir, { pg: pgPort!, keystone: ksPort!, heat: 1 }, meta.heatPassword, false));
    const user = os.userInfo().username;
    const group = (await execFileP('id', ['-gn'])).stdout.trim();
    const owner = ['--keystone-user', user, '--keystone-group', group];
    const t1 = Date.now();
    await Promise.all([
      keystoneManage(dir, ['db_sync'], buildLog),
      run('heat-manage db_sync', PYTHON, [...pyMain('heat.cmd.manage'), '--config-file', path.join(dir, 'heat.conf'), 'db_sync'], buildLog),
      (async () => {
        await keystoneManage(dir, ['fernet_setup', ...owner], buildLog);
        await keystoneManage(dir, ['credential_setup', ...owner], buildLog);
      })(),
    ]);
    log(`template: db_sync ${Date.now() - t1} ms`);
    const ksUrl = `http://${HOST}:${ksPort}/v3`;
    const t2 = Date.now();
    await keystoneManage(
      dir,
      [
        'bootstrap',
        '--bootstrap-password', meta.adminPassword,
        '--bootstrap-username', 'admin',
        '--bootstrap-project-name', 'admin',
        '--bootstrap-role-name', 'admin',
        '--bootstrap-service-name', 'keystone',
        '--bootstrap-region-id', REGION,
        '--bootstrap-admin-url', `${ksUrl}/`,
        '--bootstrap-internal-url', `${ksUrl}/`,
        '--bootstrap-public-url', `${ksUrl}/`,
      ],
      buildLog,
    );
    log(`template: bootstrap ${Date.now() - t2} ms`);
    ks = startKeystone(dir, ksPort!);
    await waitKeystone(ksUrl, ks, dir, Date.now() + 120_000);
    await registerHeat(ksUrl, meta, 1);
    log(`template: registered heat (total ${Date.now() - t0} ms)`);
    await writeFile(path.join(dir, 'meta.json'), JSON.stringify(meta, null, 2));
  } finally {
    if (ks) await stopProc(ks, 'SIGTERM', 5_000);
    await stopProc(pg, 'SIGINT', 20_000);
  }
  // Configs, logs and sockets are per run; only data, keys and meta.json are the template.
  for (const f of ['keystone.conf', 'heat.conf', 'keystone.log', 'keystone.out', 'heat.log', 'postgres.log', 'pg-sock', 'locks']) {
    await rm(path.join(dir, f), { recursive: true, force: true });
  }
}

/** Registers Heat and a demo tenant in a freshly bootstrapped Keystone (REST, admin token). */
async function registerHeat(ksUrl: string, meta: TemplateMeta, heatPort: number): Promise<void> {
  const { token, body } = await passwordToken(ksUrl, 'admin', meta.adminPassword, 'admin');
  meta.adminProjectId = body.token.project.id;
  const post = async (p: string, b: unknown) => {
    const created = (await api<Created>('POST', `${ksUrl}${p}`, { token, body: b, expect: [201] })).json;
    const entity = Object.values(created)[0];
    if (!entity) throw new Error(`POST ${p}: empty answer`);
    return entity;
  };
  const put = async (p: string) => api('PUT', `${ksUrl}${p}`, { token, expect: [204] });
  const roleId = async (name: string) =>
    (await api<{ roles: { id: string }[] }>('GET', `${ksUrl}/roles?name=${name}`, { token, expect: [200] })).json.roles[0]?.id;

  const service = (await post('/projects', { project: { name: 'service', domain_id: 'default', description: 'Service project' } })).id;
  const demo = (await post('/projects', { project: { name: 'demo', domain_id: 'default', description: 'Demo project' } })).id;
  meta.demoProjectId = demo;
  const heatUser = (await post('/users', { user: { name: 'heat', password: meta.heatPassword, domain_id: 'default', default_project_id: service } })).id;
  const demoUser = (await post('/users', { user: { name: 'demo', password: meta.demoPassword, domain_id: 'default', default_project_id: demo } })).id;
  const admin = await roleId('admin');
  if (!admin) throw new Error('keystone bootstrap made no admin role');
  const member = (await roleId('member')) ?? (await post('/roles', { role: { name: 'member' } })).id;
  const owner = (await post('/roles', { role: { name: 'heat_stack_owner' } })).id;
  await post('/roles', { role: { name: 'heat_stack_user' } });
  const adminUser = body.token.user.id;
  await put(`/projects/${service}/users/${heatUser}/roles/${admin}`);
  await put(`/projects/${demo}/users/${demoUser}/roles/${member}`);
  await put(`/projects/${demo}/users/${demoUser}/roles/${owner}`);
  await put(`/projects/${meta.adminProjectId}/users/${adminUser}/roles/${owner}`);
  const svc = (await post('/services', { service: { type: 'orchestration', name: 'heat', description: 'Orchestration' } })).id;
  for (const iface of ['public', 'internal', 'admin']) {
    await post('/endpoints', {
      endpoint: { service_id: svc, interface: iface, region_id: REGION, url: `http://${HOST}:${heatPort}/v1/%(tenant_id)s` },
    });
  }
  const demoTok = await passwordToken(ksUrl, 'demo', meta.demoPassword, 'demo');
  const ac = (
    await api<{ application_credential: { id: string; secret: string } }>('POST', `${ksUrl}/users/${demoUser}/application_credentials`, {
      token: demoTok.token,
      body: { application_credential: { name: 'stack-operator-tests', description: 'stack-operator e2e' } },
      expect: [201],
    })
  ).json.application_credential;
  meta.applicationCredential = { id: ac.id, secret: ac.secret };
}

async function ensureTemplate(
  cacheRoot: string | false,
  pgBin: string,
  runAs: RunAs | undefined,
  log: (m: string) => void,
): Promise<{ dir: string; built: boolean; temporary: boolean }> {
  const key = await templateKey(pgBin);
  const final = cacheRoot ? path.join(cacheRoot, `heat-template-${key}`) : undefined;
  if (final && existsSync(path.join(final, 'meta.json'))) return { dir: final, built: false, temporary: false };
  // Build under the temp dir: the postgres user must reach the data directory, and $HOME
  // (e.g. /root) is often not traversable by it. The cache copy is only ever read by cp -a.
  const build = await mkdtemp(path.join(os.tmpdir(), 'stack-operator-heat-template-'));
  liveDirs.add(build);
  await buildTemplate(build, pgBin, runAs, key, log);
  if (final && cacheRoot) {
    const staging = `${final}.staging-${process.pid}-${randomBytes(3).toString('hex')}`;
    liveDirs.add(staging);
    try {
      await mkdir(cacheRoot, { recursive: true });
      await execFileP('cp', ['-a', build, staging]);
      await rename(staging, final);
      // drop templates of older package versions / layouts
      for (const e of await readdir(cacheRoot)) {
        const p = path.join(cacheRoot, e);
        if (e.startsWith('heat-template-') && !e.includes('.staging-') && p !== final) await rm(p, { recursive: true, force: true });
      }
    } catch (err) {
      // another process won the race (final exists), or the cache is not writable
      log(`template not cached: ${String(err)}`);
    } finally {
      await rm(staging, { recursive: true, force: true });
      liveDirs.delete(staging);
    }
  }
  return { dir: build, built: true, temporary: true };
}

// ---------------------------------------------------------------------------------------------
// start

export async function startHeat(opts: StartHeatOptions = {}): Promise<RealHeat> {
  installHooks();
  const log = opts.log ?? (() => {});
  const t0 = Date.now();
  const timings: Record<string, number> = {};
  const mark = (name: string, since: number) => {
    timings[name] = Date.now() - since;
  };
  const deadline = t0 + (opts.timeoutMs ?? 240_000);
  if (!existsSync('/usr/lib/python3/dist-packages/heat') || !existsSync('/usr/lib/python3/dist-packages/keystone')) {
    throw new Error('python3-heat / python3-keystone are not installed: run test/env/heat/install.sh');
  }
  const pgBin = await pgBinDir();
  const runAs = await resolveRunAs();
  const cacheRoot = opts.cacheDir === undefined ? defaultCacheRoot() : opts.cacheDir;

  const tTpl = Date.now();
  const tpl = await ensureTemplate(cacheRoot, pgBin, runAs, log);
  mark('template', tTpl);
  const meta = JSON.parse(await readFile(path.join(tpl.dir, 'meta.json'), 'utf8')) as TemplateMeta;

  const dir = await mkdtemp(path.join(os.tmpdir(), 'stack-operator-heat-'));
  liveDirs.add(dir);
  await chmod(dir, 0o755);
  const procs: Proc[] = [];
  let stopped = false;

  const logFiles = () => ['postgres.log', 'keystone.out', 'keystone.log', 'heat.out', 'heat.log'].map((f) => path.join(dir, f));
  const logTail = (lines = 40) =>
    logFiles()
      .filter((f) => existsSync(f))
      .map((f) => `--- ${f}\n${tail(f, lines)}`)
      .join('\n');

  const stop = async () => {
    if (stopped) return;
    stopped = true;
    const byName = (n: string) => procs.filter((p) => p.name === n);
    await Promise.all([...byName('heat'), ...byName('keystone')].map((p) => stopProc(p, 'SIGTERM', 5_000)));
    await Promise.all(byName('postgres').map((p) => stopProc(p, 'SIGINT', 10_000)));
    if (!opts.keepDir) await rm(dir, { recursive: true, force: true });
    liveDirs.delete(dir);
  };

  try {
    const tCopy = Date.now();
    // cp -a keeps the data directory's owner (postgres) and modes.
    await execFileP('cp', ['-a', `${tpl.dir}/.`, dir]);
    if (tpl.temporary) {
      await rm(tpl.dir, { recursive: true, force: true });
      liveDirs.delete(tpl.dir);
    }
    await mkdir(path.join(dir, 'locks'), { recursive: true });
    mark('copy', tCopy);

    const [pgPort, ksPort, heatPort] = await freePorts(3);
    const ports: Ports = { pg: pgPort!, keystone: ksPort!, heat: heatPort! };
    const keystoneUrl = `http://${HOST}:${ports.keystone}/v3`;
    const heatUrl = `http://${HOST}:${ports.heat}/v1/%(tenant_id)s`;

    await writeFile(path.join(dir, 'keystone.conf'), keystoneConf(dir, ports.pg));
    await writeFile(path.join(dir, 'heat.conf'), heatConf(dir, ports, meta.heatPassword, opts.debug ?? false));
    await writeFile(path.join(dir, 'api-paste.ini'), API_PASTE);

    const tPg = Date.now();
    procs.push(await startPostgres(dir, pgBin, ports.pg, runAs));
    await psql(
      pgBin,
      ports.pg,
      'keystone',
      `UPDATE endpoint SET url = '${heatUrl}' WHERE service_id IN (SELECT id FROM service WHERE type = 'orchestration');
       UPDATE endpoint SET url = '${keystoneUrl}/' WHERE service_id IN (SELECT id FROM service WHERE type = 'identity');`,
      path.join(dir, 'postgres.log'),
    );
    mark('postgres', tPg);

    const tSvc = Date.now();
    const ks = startKeystone(dir, ports.keystone);
    procs.push(ks);
    const heat = startProc('heat', PYTHON, [...pyMain('heat.cmd.all'), '--config-file', path.join(dir, 'heat.conf')], path.join(dir, 'heat.out'), {
      env: { ...process.env, PYTHONDONTWRITEBYTECODE: '1' },
    });
    procs.push(heat);
    await waitKeystone(keystoneUrl, ks, dir, deadline);
    mark('keystone', tSvc);
    const demoToken = (await passwordToken(keystoneUrl, 'demo', meta.demoPassword, 'demo')).token;
    const buildInfo = `http://${HOST}:${ports.heat}/v1/${meta.demoProjectId}/build_info`;
    await waitFor(
      'heat',
      deadline,
      async () => ((await api('GET', buildInfo, { token: demoToken })).status === 200 ? true : undefined),
      () => (heat.exitCode !== undefined ? `heat-all exited ${heat.exitCode}` : ks.exitCode !== undefined ? `keystone exited ${ks.exitCode}` : undefined),
    );
    mark('heat', tSvc);
    timings.total = Date.now() - t0;
    log(`heat ready in ${timings.total} ms ${JSON.stringify(timings)}`);

    return {
      keystoneUrl,
      heatUrl,
      region: REGION,
      admin: { username: 'admin', password: meta.adminPassword, projectName: 'admin', userDomainName: 'Default', projectDomainName: 'Default' },
      demo: {
        username: 'demo',
        password: meta.demoPassword,
        projectName: 'demo',
        userDomainName: 'Default',
        projectDomainName: 'Default',
        projectId: meta.demoProjectId,
        applicationCredential: meta.applicationCredential,
      },
      dir,
      timings,
      templateBuilt: tpl.built,
      logTail,
      stop,
    };
  } catch (err) {
    const logs = logTail(60);
    await stop().catch(() => {});
    const e = err instanceof Error ? err : new Error(String(err));
    e.message = `startHeat failed: ${e.message}\n${logs}`;
    throw e;
  }
}
