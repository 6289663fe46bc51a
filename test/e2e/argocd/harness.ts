// The Argo CD scenarios' environment: the operator and the emulator (test/integration/stacks/harness.ts),
// a git repository on loopback, and a real Argo CD whose argocd-cm holds exactly what config/argocd
// produces (checked equal to the chart's rendering first).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { repoRoot } from '../../../src/devenv/paths.ts';
import { ensureHelm } from '../packaging/helpers.ts';
import { runProcess } from '../../../src/devenv/process.ts';
import { startArgoCd, type ArgoCd } from '../../env/argocd/launcher.ts';
import { startGitServer, type GitServer } from '../../env/argocd/git-server.ts';
import { kubectl, testKubeconfigPath } from '../../env/kube.ts';
import type { OperatorEnv } from '../../integration/stacks/harness.ts';

export interface HealthStatus {
  status?: string;
  message?: string;
}
export interface AppResource {
  group?: string;
  kind: string;
  name: string;
  namespace?: string;
  status?: string;
  health?: HealthStatus;
}
export interface Application {
  metadata: { name: string; annotations?: Record<string, string> };
  status?: {
    health?: HealthStatus;
    sync?: { status?: string; revision?: string };
    resources?: AppResource[];
    operationState?: { phase?: string; message?: string; syncResult?: { revision?: string; resources?: { kind: string; name: string; status?: string; message?: string }[] } };
  };
}

/** argocd-cm data from config/argocd (the kustomize Component over an empty argocd-cm). */
export async function argocdCmFromKustomize(): Promise<Record<string, string>> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'so-argocd-kz-'));
  try {
    await writeFile(path.join(dir, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: argocd-cm\n  namespace: argocd\n');
    await writeFile(path.join(dir, 'kustomization.yaml'), `resources: [cm.yaml]\ncomponents: [${path.relative(dir, path.join(repoRoot, 'config', 'argocd'))}]\n`);
    const r = await kubectl(['kustomize', dir]);
    if (r.code !== 0) throw new Error(r.stderr);
    return (parse(r.stdout) as { data: Record<string, string> }).data;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The same keys as the chart renders them with argocd.healthCheck.enabled=true. */
export async function argocdCmFromChart(): Promise<Record<string, string>> {
  const chart = path.join(repoRoot, 'charts', 'stack-operator');
  const r = await runProcess(await ensureHelm(), ['template', 'so', chart, '-n', 'stack-operator', '--set', 'argocd.healthCheck.enabled=true'], { timeoutMs: 60_000 });
  if (r.code !== 0) throw new Error(r.stderr);
  const cm = parseAllDocuments(r.stdout).map((d) => d.toJSON() as { kind?: string; data?: Record<string, string> }).find((o) => o?.kind === 'ConfigMap');
  if (!cm?.data) throw new Error('the chart rendered no Argo CD ConfigMap');
  return cm.data;
}

export interface GitOps {
  argo: ArgoCd;
  git: GitServer;
  /** Commits manifests (path -> object(s), or null to delete) and hard-refreshes every Application. */
  commit(files: Record<string, unknown[] | null>, message: string): Promise<string>;
  application(name: string, dir: string): Promise<void>;
  getApp(name: string): Promise<Application>;
  waitApp(name: string, pred: (a: Application) => boolean, what: string, timeoutMs?: number): Promise<Application>;
  /** A resource's health as Argo CD shows it (the resource tree argocd-server serves to the UI / CLI). */
  resourceHealth(app: string, kind: string, name: string): Promise<HealthStatus | undefined>;
  runAction(app: string, kind: string, name: string, action: string, namespace?: string): Promise<void>;
  /** The actions Argo CD's discovery.lua offers for a Stack, with their disabled flags. */
  listActions(app: string, name: string): Promise<{ name: string; disabled?: boolean }[]>;
  stop(): Promise<void>;
}

export async function startGitOps(env: OperatorEnv, cm: Record<string, string>): Promise<GitOps> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'so-gitops-'));
  const git = await startGitServer(dir);
  const argo = await startArgoCd({ kubeconfig: testKubeconfigPath(), cm, log: (m) => process.stderr.write(`[argocd] ${m}\n`) });
  const apps = new Set<string>();
  const ns = argo.namespace;

  const getApp = async (name: string): Promise<Application> => {
    const r = await kubectl(['get', 'applications.argoproj.io', name, '-n', ns, '-o', 'json']);
    if (r.code !== 0) throw new Error(r.stderr);
    return JSON.parse(r.stdout) as Application;
  };
  const commit = async (files: Record<string, unknown[] | null>, message: string): Promise<string> => {
    const text: Record<string, string | null> = {};
    for (const [p, objs] of Object.entries(files)) text[p] = objs === null ? null : objs.map((o) => stringify(o)).join('---\n');
    const sha = await git.commit(text, message);
    // What a webhook does: Argo CD re-reads the branch at once instead of at its next poll.
    for (const a of apps) await kubectl(['annotate', 'applications.argoproj.io', a, '-n', ns, 'argocd.argoproj.io/refresh=hard', '--overwrite']);
    return sha;
  };
  const application = async (name: string, appDir: string): Promise<void> => {
    const obj = {
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Application',
      // Server-Side Diff as docs/argocd.md recommends: fields the Stack CRD defaults are no diff.
      metadata: { name, namespace: ns, annotations: { 'argocd.argoproj.io/compare-options': 'ServerSideDiff=true' } },
      spec: {
        project: 'default',
        source: { repoURL: git.url, targetRevision: 'main', path: appDir },
        destination: { server: 'https://kubernetes.default.svc', namespace: env.ns },
        // No retries (Argo CD's automated sync retries a failed sync 5 times by default): a failed
        // sync stays failed at its revision, and the next commit is synced at once.
        syncPolicy: { automated: { prune: true }, retry: { limit: 0 } },
      },
    };
    const r = await kubectl(['apply', '-f', '-'], { input: JSON.stringify(obj) });
    if (r.code !== 0) throw new Error(r.stderr);
    apps.add(name);
  };
  const waitApp = async (name: string, pred: (a: Application) => boolean, what: string, timeoutMs = 60_000): Promise<Application> => {
    const deadline = Date.now() + timeoutMs;
    let last: Application | undefined;
    while (Date.now() < deadline) {
      last = await getApp(name);
      if (pred(last)) return last;
      await new Promise((r) => setTimeout(r, 250));
    }
    throw new Error(`timed out waiting for ${what} on Application ${name}; last status: ${JSON.stringify(last?.status ?? null, null, 1)}\n${argo.logTail(20)}`);
  };
  const runAction = async (app: string, kind: string, name: string, action: string, namespace = env.ns): Promise<void> => {
    await argo.api(`/api/v1/applications/${app}/resource/actions/v2`, {
      method: 'POST',
      body: { name: app, namespace, resourceName: name, group: 'stackoperator.dev', kind, version: 'v1alpha1', action, appNamespace: ns },
    });
  };
  return {
    argo,
    git,
    commit,
    application,
    getApp,
    waitApp,
    resourceHealth: async (app, kind, name) => {
      // Argo CD 3 keeps resource health in the resource tree, not in .status.resources (unless
      // --persist-resource-health): this is what `argocd app get` and the UI show.
      const tree = await argo.api<{ nodes?: AppResource[] }>(`/api/v1/applications/${app}/resource-tree?appNamespace=${ns}`);
      return tree.nodes?.find((r) => r.kind === kind && r.name === name)?.health;
    },
    runAction,
    listActions: async (app, name) => {
      const q = new URLSearchParams({ namespace: env.ns, resourceName: name, group: 'stackoperator.dev', kind: 'Stack', version: 'v1alpha1', appNamespace: ns });
      const r = await argo.api<{ actions?: { name: string; disabled?: boolean }[] }>(`/api/v1/applications/${app}/resource/actions?${q.toString()}`);
      return r.actions ?? [];
    },
    stop: async () => {
      await argo.stop();
      await git.stop();
      await rm(dir, { recursive: true, force: true });
    },
  };
}

export const health = (a: Application): string | undefined => a.status?.health?.status;
export const synced = (a: Application, sha: string): boolean => a.status?.sync?.status === 'Synced' && a.status.sync.revision === sha;
