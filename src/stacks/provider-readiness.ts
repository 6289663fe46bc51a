// The provider controller: maintains each StackProvider / ClusterStackProvider's Ready condition
// (credentials accepted, endpoint reachable), and closes the shared client of a provider object that
// was deleted. A changed spec or Secret replaces the client through the registry's fingerprint.
import { CLUSTER_STACK_PROVIDERS, STACK_PROVIDERS } from '../api/v1alpha1/resources.ts';
import type { StackProviderStatus } from '../api/v1alpha1/types.ts';
import { providerIdentity, type ResolvedProviderConfig } from '../providers/config.ts';
import { ProviderError } from '../providers/types.ts';
import type { Clock } from '../runtime/clock.ts';
import { awaitChange, requeueAfter, type Action, type ReconcileInfo, type Reconciler } from '../runtime/controller.ts';
import type { Informer } from '../runtime/informer.ts';
import type { KubeClient } from '../runtime/kube-client.ts';
import { mergePatchDiff } from '../runtime/merge-patch.ts';
import { patchStatus } from '../runtime/status.ts';
import type { ProviderClients, ProviderObject } from './context.ts';
import { bounded, setCondition } from './plan/index.ts';
import { REASONS } from './reasons.ts';
import { type ResolveReader, resolveProviderConfig } from './resolve.ts';

export type ProviderKind = 'StackProvider' | 'ClusterStackProvider';

export interface ProviderReadinessContext {
  client: KubeClient;
  informer: Informer<ProviderObject>;
  reader: ResolveReader;
  providerClients: ProviderClients;
  clock: Pick<Clock, 'now'>;
}

interface Verdict {
  status: StackProviderStatus;
  retryMs: number;
}

export class ProviderReadinessReconciler implements Reconciler<ProviderReadinessContext> {
  readonly #kind: ProviderKind;

  constructor(kind: ProviderKind) {
    this.#kind = kind;
  }

  async reconcile(key: string, ctx: ProviderReadinessContext, signal: AbortSignal, _info: ReconcileInfo): Promise<Action> {
    const p = ctx.informer.get(key);
    if (!p) {
      // Deleted: its client (pool, token, credentials) goes with it.
      await ctx.providerClients.remove(this.#identity(key));
      return awaitChange();
    }
    const { status, retryMs } = await checkProvider(p, ctx, signal);
    const patch = mergePatchDiff(p.status ?? {}, status);
    if (patch !== undefined) {
      const resource = this.#kind === 'StackProvider' ? STACK_PROVIDERS : CLUSTER_STACK_PROVIDERS;
      const target = { namespace: p.metadata.namespace, name: p.metadata.name ?? '', resourceVersion: p.metadata.resourceVersion ?? null };
      await patchStatus(ctx.client, resource, target, patch as Record<string, unknown>, signal);
    }
    return requeueAfter(retryMs);
  }

  /** Kind/namespace/name from a work-queue key ("namespace/name", or "name" for cluster objects). */
  #identity(key: string): string {
    const slash = key.indexOf('/');
    const namespace = slash < 0 ? undefined : key.slice(0, slash);
    const name = slash < 0 ? key : key.slice(slash + 1);
    return providerIdentity({ kind: this.#kind, metadata: { name, ...(namespace ? { namespace } : {}) } } as ProviderObject);
  }
}

/** Credentials accepted and endpoint reachable: the provider's Ready condition. */
async function checkProvider(p: ProviderObject, ctx: ProviderReadinessContext, signal: AbortSignal): Promise<Verdict> {
  const gen = p.metadata.generation ?? 0;
  const now = new Date(ctx.clock.now()).toISOString();
  const base: StackProviderStatus = { ...(p.status ?? {}), observedGeneration: gen };
  const done = (ok: boolean, reason: string, message: string, retryMs: number, type?: string): Verdict => {
    const conditions = setCondition(base.conditions, 'Ready', ok ? 'True' : 'False', reason, message, gen, now);
    const st: StackProviderStatus = { ...base, conditions, ...(type ? { type } : {}) };
    if (conditions.find((c) => c.type === 'Ready')?.lastTransitionTime === now) st.lastCheckedTime = now;
    return { status: st, retryMs };
  };
  let resolved: { ok: ResolvedProviderConfig } | { error: { reason: string; message: string } };
  try {
    resolved = await resolveProviderConfig(p, ctx.reader);
  } catch (err) {
    return done(false, REASONS.ProviderUnavailable, `reading the credentials Secret failed: ${String(err)}`, 60_000);
  }
  if ('error' in resolved) return done(false, resolved.error.reason, resolved.error.message, 60_000);
  try {
    await ctx.providerClients.get(resolved.ok).checkConnection({ signal });
  } catch (err) {
    const message = bounded(err instanceof Error ? err.message : String(err));
    if (!(err instanceof ProviderError)) return done(false, REASONS.ProviderUnavailable, message, 60_000, resolved.ok.type);
    const reason = err.kind === 'Unauthorized' ? REASONS.Unauthorized : err.kind === 'Invalid' ? REASONS.InvalidSpec : REASONS.ProviderUnavailable;
    return done(false, reason, message, err.terminal ? 300_000 : 60_000, resolved.ok.type);
  }
  return done(true, 'Connected', `credentials accepted by ${resolved.ok.type} endpoint`, 600_000, resolved.ok.type);
}
