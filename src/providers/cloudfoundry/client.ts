// Cloud Foundry v3 adapter. A "stack" is an app in the provider's space (name = options.appName or
// the stack name, id = app guid); create = POST /v3/apps (+ a deployment when a droplet or revision
// is given in the options or the template), update = a new deployment, cancel = deployment cancel,
// delete = DELETE /v3/apps/{guid} (202 + job, polled by later get() calls, never awaited).
// Parameters become the app's environment variables. Ownership: label and annotation
// `stackoperator.dev/uid` = <uid>; user tags are annotations. CF has no idempotency token: each
// deployment carries the annotation `stackoperator.dev/request-token` = <token>, and a create or
// update whose token is already on the latest deployment is not repeated.
import type { ResolvedProviderConfig } from '../config.ts';
import type { HttpClient, HttpMethod, HttpResponse } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import { UaaAuth } from '../auth/uaa.ts';
import { OWNER_KEY, invalidInput, isRecord, str, templateObject } from '../common.ts';
import {
  ProviderError,
  type CallContext,
  type CancelMode,
  type ProviderCapabilities,
  type ReadContext,
  type StackEvent,
  type StackInput,
  type StackOutput,
  type StackPreview,
  type StackProviderClient,
  type StackRef,
  type StackView,
} from '../types.ts';
import { cfCreatePlan, cfUpdatePlan } from './plan.ts';
import { cfDeploymentPhase, cfJobPhase } from './status.ts';

type CfConfig = Extract<ResolvedProviderConfig, { type: 'cloudfoundry' }>;
export const TOKEN_ANNOTATION = 'stackoperator.dev/request-token';

export const CF_CAPABILITIES: ProviderCapabilities = Object.freeze({
  cancelModes: ['Rollback'] as CancelMode[],
  retainOnDelete: false,
  nativeDeletionProtection: false,
  tags: true,
  idempotencyTokens: false,
});

export interface CfDeploymentSpec {
  dropletGuid?: string;
  revisionGuid?: string;
  strategy?: 'rolling' | 'canary';
  maxInFlight?: number;
  canarySteps?: number[];
}

/** Deployment settings from the template (object or JSON/YAML text), overridden by the options. Pure (tested). */
export function cfDeploymentSpec(template: unknown, options: Record<string, unknown>): CfDeploymentSpec {
  const t = templateObject(template) ?? {};
  const pick = (src: Record<string, unknown>): CfDeploymentSpec => {
    const out: CfDeploymentSpec = {};
    const droplet = str(src['dropletGuid']) ?? str(src['droplet_guid']) ?? (isRecord(src['droplet']) ? str(src['droplet']['guid']) : undefined);
    const revision = str(src['revisionGuid']) ?? str(src['revision_guid']) ?? (isRecord(src['revision']) ? str(src['revision']['guid']) : undefined);
    if (droplet) out.dropletGuid = droplet;
    if (revision) out.revisionGuid = revision;
    if (src['strategy'] === 'rolling' || src['strategy'] === 'canary') out.strategy = src['strategy'];
    const opts = isRecord(src['options']) ? src['options'] : {};
    const mif = src['maxInFlight'] ?? opts['max_in_flight'];
    if (typeof mif === 'number') out.maxInFlight = mif;
    const steps = src['canarySteps'];
    if (Array.isArray(steps) && steps.every((n) => typeof n === 'number')) out.canarySteps = steps;
    return out;
  };
  const merged = { ...pick(t), ...pick(options) };
  if (merged.dropletGuid && merged.revisionGuid) {
    throw invalidInput('cloudfoundry: give either a droplet or a revision, not both', 'spec.providerOptions.cloudFoundry');
  }
  return merged;
}

export function cfDeploymentBody(appGuid: string, spec: CfDeploymentSpec, token: string): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  if (spec.maxInFlight !== undefined) options['max_in_flight'] = spec.maxInFlight;
  if (spec.canarySteps?.length) options['canary'] = { steps: spec.canarySteps.map((w) => ({ instance_weight: w })) };
  return {
    relationships: { app: { data: { guid: appGuid } } },
    ...(spec.dropletGuid ? { droplet: { guid: spec.dropletGuid } } : {}),
    ...(spec.revisionGuid ? { revision: { guid: spec.revisionGuid } } : {}),
    ...(spec.strategy ? { strategy: spec.strategy } : {}),
    ...(Object.keys(options).length ? { options } : {}),
    metadata: { annotations: { [TOKEN_ANNOTATION]: token } },
  };
}

const enc = encodeURIComponent;

/** Deployment states in which cancel is allowed (cloud_controller_ng app/actions/deployment_cancel.rb). */
const CANCELABLE_STATES = new Set(['DEPLOYING', 'PREPAUSED', 'PAUSED', 'CANCELING']);

/** 422 with CF-UnprocessableEntity (code 10008), whatever the detail says. */
function isUnprocessable(e: unknown): boolean {
  return e instanceof ProviderError && e.httpStatus === 422 && (e.code === 'CF-UnprocessableEntity' || e.code === 'HTTP422');
}

/** Cloud Foundry deploys droplets or revisions: there is no template to fetch from a URL. */
function refuseTemplateUrl(input: StackInput): void {
  if (input.templateUrl) throw invalidInput('Cloud Foundry has no template URL; use inline or configMapRef', 'spec.template.url');
}

interface PendingDelete {
  jobUrl: string;
  name: string;
}

export class CloudFoundryClient implements StackProviderClient {
  readonly type = 'cloudfoundry' as const;
  readonly capabilities = CF_CAPABILITIES;
  readonly #http: HttpClient;
  readonly #cfg: CfConfig;
  readonly #api: string;
  readonly #auth: UaaAuth;
  #uaa: Promise<string> | undefined;
  /** app guid → delete job, polled by get() (bounded). */
  readonly #deleting = new Map<string, PendingDelete>();

  constructor(config: CfConfig, http: HttpClient) {
    this.#cfg = config;
    this.#http = http;
    this.#api = config.cloudFoundry.apiUrl.replace(/\/+$/, '');
    this.#auth = new UaaAuth(http, config.credentials, () => this.#uaaUrl());
  }

  #uaaUrl(): Promise<string> {
    if (this.#cfg.cloudFoundry.uaaUrl) return Promise.resolve(this.#cfg.cloudFoundry.uaaUrl);
    this.#uaa ??= (async () => {
      const res = await this.#http.send({ operation: 'root', method: 'GET', url: `${this.#api}/`, headers: { accept: 'application/json' }, idempotent: true });
      const body = parseJson(res.text);
      const links = isRecord(body) && isRecord(body['links']) ? body['links'] : {};
      const href = (isRecord(links['uaa']) ? str(links['uaa']['href']) : undefined) ?? (isRecord(links['login']) ? str(links['login']['href']) : undefined);
      if (!href) throw new ProviderError('Invalid', 'cloudfoundry: GET / names no UAA; set spec.cloudFoundry.uaaUrl', { code: 'NoUaa', field: 'spec.cloudFoundry.uaaUrl' });
      return href;
    })().catch((e: unknown) => {
      this.#uaa = undefined;
      throw e;
    });
    return this.#uaa;
  }

  async #call(
    operation: string,
    method: HttpMethod,
    pathOrUrl: string,
    opts: { body?: unknown; idempotent: boolean; signal?: AbortSignal | undefined; accept?: (s: number) => boolean },
  ): Promise<HttpResponse> {
    return this.#http.send({
      operation,
      method,
      url: /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${this.#api}${pathOrUrl}`,
      headers: { accept: 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      idempotent: opts.idempotent,
      signal: opts.signal,
      ...(opts.accept ? { accept: opts.accept } : {}),
      prepare: async (r) => {
        r.headers['authorization'] = await this.#auth.bearer(opts.signal);
      },
      onUnauthorized: () => this.#auth.invalidate(),
    });
  }

  async #json(operation: string, path: string, signal?: AbortSignal): Promise<Record<string, unknown>> {
    const res = await this.#call(operation, 'GET', path, { idempotent: true, signal });
    const body = parseJson(res.text);
    if (!isRecord(body)) throw new ProviderError('Transient', `cloudfoundry ${operation}: response is not an object`, { code: 'BadResponse' });
    return body;
  }

  async #app(ref: StackRef, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
    try {
      if (ref.id) return await this.#json('getApp', `/v3/apps/${enc(ref.id)}`, signal);
      const list = await this.#json('listApps', `/v3/apps?names=${enc(ref.name)}&space_guids=${enc(this.#cfg.cloudFoundry.spaceGuid)}`, signal);
      const first = Array.isArray(list['resources']) ? list['resources'].find(isRecord) : undefined;
      return first ?? null;
    } catch (e) {
      if (e instanceof ProviderError && e.kind === 'NotFound') return null;
      throw e;
    }
  }

  async #latestDeployment(appGuid: string, signal?: AbortSignal): Promise<Record<string, unknown> | undefined> {
    const list = await this.#json('listDeployments', `/v3/deployments?app_guids=${enc(appGuid)}&order_by=-created_at&per_page=1`, signal);
    return Array.isArray(list['resources']) ? list['resources'].find(isRecord) : undefined;
  }

  #appName(input: StackInput): string {
    return str(input.options['appName']) ?? input.name;
  }

  async get(ref: StackRef, ctx?: ReadContext): Promise<StackView | null> {
    const signal = ctx?.signal;
    const pending = ref.id ? this.#deleting.get(ref.id) : undefined;
    if (ref.id && pending) {
      let state = 'PROCESSING';
      let reason: string | undefined;
      try {
        const job = await this.#json('getJob', pending.jobUrl, signal);
        state = str(job['state']) ?? 'PROCESSING';
        const errs = Array.isArray(job['errors']) ? job['errors'].filter(isRecord) : [];
        reason = errs.map((e) => str(e['detail']) ?? str(e['title']) ?? '').filter(Boolean).join('; ') || undefined;
      } catch (e) {
        if (!(e instanceof ProviderError && e.kind === 'NotFound')) throw e;
        state = 'COMPLETE'; // jobs expire; fall through to the app lookup below
      }
      const { phase, operation } = cfJobPhase(state);
      if (phase === 'InProgress' || phase === 'DeleteFailed') {
        if (phase === 'DeleteFailed') this.#deleting.delete(ref.id);
        return { id: ref.id, name: pending.name, phase, operation, rawStatus: `DELETE_${state}`, ...(reason ? { reason } : {}) };
      }
      this.#deleting.delete(ref.id);
    }
    const app = await this.#app(ref, signal);
    if (!app) return null;
    const id = str(app['guid']) ?? '';
    const name = str(app['name']) ?? '';
    if (ref.id && id !== ref.id) return null;
    const meta = isRecord(app['metadata']) ? app['metadata'] : {};
    const labels = isRecord(meta['labels']) ? meta['labels'] : {};
    const annotations = isRecord(meta['annotations']) ? meta['annotations'] : {};
    const ownerUid = str(annotations[OWNER_KEY]) ?? str(labels[OWNER_KEY]);
    const tags: Record<string, string> = {};
    for (const [k, v] of Object.entries(annotations)) {
      const s = str(v);
      if (s !== undefined && k !== OWNER_KEY && k !== TOKEN_ANNOTATION) tags[k] = s;
    }
    const dep = await this.#latestDeployment(id, signal);
    let phase: StackView['phase'] = 'Complete';
    let operation: StackView['operation'] = 'create';
    let rawStatus = `APP_${str(app['state']) ?? 'UNKNOWN'}`;
    let reason: string | undefined;
    if (dep && isRecord(dep['status'])) {
      const value = str(dep['status']['value']) ?? '';
      const why = str(dep['status']['reason']) ?? '';
      ({ phase, operation } = cfDeploymentPhase(value, why));
      rawStatus = `${value}/${why}`;
      const details = isRecord(dep['status']['details']) ? dep['status']['details'] : {};
      reason = str(details['error']);
    }
    const createdAt = str(app['created_at']);
    const updatedAt = str(app['updated_at']);
    return {
      id,
      name,
      phase,
      operation,
      rawStatus,
      ...(reason ? { reason } : {}),
      ...(ownerUid ? { ownerUid } : {}),
      outputs: this.#outputsOf(app),
      tags,
      ...(createdAt ? { createdAt } : {}),
      ...(updatedAt ? { updatedAt } : {}),
    };
  }

  #outputsOf(app: Record<string, unknown>): StackOutput[] {
    return [
      { key: 'appGuid', value: str(app['guid']) ?? '' },
      { key: 'appState', value: str(app['state']) ?? '' },
    ];
  }

  async #setEnv(guid: string, params: Record<string, string>, merge: boolean, signal?: AbortSignal): Promise<void> {
    if (!Object.keys(params).length && merge) return;
    let vars: Record<string, string | null> = { ...params };
    if (!merge) {
      // Replace: variables no longer given are removed (null), as a full PUT of a Heat stack would.
      const cur: Record<string, unknown> = await this.#json('getEnv', `/v3/apps/${enc(guid)}/environment_variables`, signal).catch((e: unknown) => {
        if (e instanceof ProviderError && e.kind === 'NotFound') return {};
        throw e;
      });
      const existing = isRecord(cur['var']) ? Object.keys(cur['var']) : [];
      vars = { ...Object.fromEntries(existing.map((k) => [k, null])), ...params };
      if (!Object.keys(vars).length) return;
    }
    await this.#call('setEnv', 'PATCH', `/v3/apps/${enc(guid)}/environment_variables`, { body: { var: vars }, idempotent: true, signal });
  }

  async #deploy(guid: string, spec: CfDeploymentSpec, token: string, signal?: AbortSignal): Promise<void> {
    const latest = await this.#latestDeployment(guid, signal);
    const ann = latest && isRecord(latest['metadata']) && isRecord(latest['metadata']['annotations']) ? latest['metadata']['annotations'] : {};
    if (str(ann[TOKEN_ANNOTATION]) === token) return; // this request already made that deployment
    await this.#call('createDeployment', 'POST', '/v3/deployments', { body: cfDeploymentBody(guid, spec, token), idempotent: false, signal });
  }

  async create(input: StackInput, ctx: CallContext): Promise<{ id: string }> {
    refuseTemplateUrl(input);
    const spec = cfDeploymentSpec(input.template, input.options);
    const name = this.#appName(input);
    let guid: string | undefined;
    try {
      const res = await this.#call('createApp', 'POST', '/v3/apps', {
        body: {
          name,
          relationships: { space: { data: { guid: this.#cfg.cloudFoundry.spaceGuid } } },
          metadata: { labels: { [OWNER_KEY]: input.ownerUid }, annotations: { ...input.tags, [OWNER_KEY]: input.ownerUid } },
        },
        idempotent: false,
        signal: ctx.signal,
      });
      const body = parseJson(res.text);
      guid = isRecord(body) ? str(body['guid']) : undefined;
    } catch (e) {
      // Name taken: if it is our own app (a create whose response was lost), carry on with it.
      if (!(e instanceof ProviderError && e.kind === 'Conflict')) throw e;
      const existing = await this.#app({ name }, ctx.signal);
      const meta = existing && isRecord(existing['metadata']) ? existing['metadata'] : {};
      const ann = isRecord(meta['annotations']) ? meta['annotations'] : {};
      if (!existing || str(ann[OWNER_KEY]) !== input.ownerUid) throw e;
      guid = str(existing['guid']);
    }
    if (!guid) throw new ProviderError('Transient', 'cloudfoundry: create app returned no guid', { code: 'BadResponse' });
    await this.#setEnv(guid, input.parameters, true, ctx.signal);
    if (spec.dropletGuid || spec.revisionGuid) await this.#deploy(guid, spec, ctx.token, ctx.signal);
    return { id: guid };
  }

  async update(ref: Required<StackRef>, input: StackInput, ctx: CallContext): Promise<void> {
    refuseTemplateUrl(input);
    const spec = cfDeploymentSpec(input.template, input.options);
    await this.#call('updateApp', 'PATCH', `/v3/apps/${enc(ref.id)}`, {
      body: { metadata: { labels: { [OWNER_KEY]: input.ownerUid }, annotations: { ...input.tags, [OWNER_KEY]: input.ownerUid } } },
      idempotent: true,
      signal: ctx.signal,
    });
    await this.#setEnv(ref.id, input.parameters, input.usePreviousParameters, ctx.signal);
    await this.#deploy(ref.id, spec, ctx.token, ctx.signal);
  }

  /** Plan / approve: computed from reads, nothing is changed (plan.ts, docs/plan-approve.md). */
  async preview(input: StackInput, ref: Required<StackRef> | undefined, ctx: CallContext): Promise<StackPreview> {
    const spec = cfDeploymentSpec(input.template, input.options);
    if (!ref) return { changes: cfCreatePlan(this.#appName(input), input.parameters, spec) };
    const env = await this.#json('getEnv', `/v3/apps/${enc(ref.id)}/environment_variables`, ctx.signal);
    return { changes: cfUpdatePlan(isRecord(env['var']) ? env['var'] : {}, input.parameters, input.usePreviousParameters, spec) };
  }

  async cancelUpdate(ref: Required<StackRef>, mode: CancelMode, ctx: CallContext): Promise<void> {
    if (!this.capabilities.cancelModes.includes(mode)) {
      throw invalidInput('cloudfoundry can only cancel with rollback (the previous droplet is restored)', 'spec.updatePolicy.cancelMode');
    }
    const dep = await this.#latestDeployment(ref.id, ctx.signal);
    const guid = dep ? str(dep['guid']) : undefined;
    if (!dep || !guid) throw new ProviderError('Conflict', 'cloudfoundry: no deployment to cancel', { code: 'NoDeployment' });
    try {
      await this.#call('cancelDeployment', 'POST', `/v3/deployments/${enc(guid)}/actions/cancel`, { idempotent: false, signal: ctx.signal });
    } catch (e) {
      if (!isUnprocessable(e)) throw e;
      throw await this.#notCancelable(guid, e as ProviderError, ctx.signal);
    }
  }

  /**
   * A 422 CF-UnprocessableEntity (code 10008) on cancel: the deployment is not cancelable (it finished,
   * or it is being superseded). Cloud Controllers word the detail differently, so the decision rests
   * on the status and code only: a Conflict (requeue and read again), never Invalid. The message
   * says the state a re-read finds.
   */
  async #notCancelable(guid: string, e: ProviderError, signal?: AbortSignal): Promise<ProviderError> {
    const now = await this.#json('getDeployment', `/v3/deployments/${enc(guid)}`, signal).catch(() => undefined);
    const state = now ? str(now['state']) : undefined;
    const status = now && isRecord(now['status']) ? `${str(now['status']['value']) ?? '?'}/${str(now['status']['reason']) ?? '?'}` : undefined;
    const what = state ? `is ${state}${status ? ` (${status})` : ''}` : 'is not cancelable';
    const more = state && !CANCELABLE_STATES.has(state) ? ': nothing left to cancel' : '';
    return new ProviderError('Conflict', `cloudfoundry: deployment ${guid} ${what}${more}`, { code: e.code ?? 'CF-UnprocessableEntity', httpStatus: 422 });
  }

  async delete(ref: Required<StackRef>, opts: { retainResources: boolean }, ctx: CallContext): Promise<void> {
    if (opts.retainResources) throw invalidInput('cloudfoundry cannot delete an app and keep its resources', 'spec.deletionPolicy');
    const res = await this.#call('deleteApp', 'DELETE', `/v3/apps/${enc(ref.id)}`, {
      idempotent: false, // no idempotency token in CF: a lost reply is settled by the next read
      signal: ctx.signal,
      accept: (s) => (s >= 200 && s < 300) || s === 404,
    });
    const location = res.headers['location'];
    if (res.status === 202 && location) {
      if (this.#deleting.size > 10_000) this.#deleting.clear();
      this.#deleting.set(ref.id, { jobUrl: new URL(location, `${this.#api}/`).toString(), name: ref.name });
    }
  }

  async setDeletionProtection(): Promise<void> {
    // Cloud Foundry has no deletion-protection flag: the operator enforces protection itself.
  }

  async outputs(ref: Required<StackRef>, ctx?: ReadContext): Promise<StackOutput[]> {
    const app = await this.#app(ref, ctx?.signal);
    if (!app) throw new ProviderError('NotFound', `cloudfoundry: app ${ref.id} not found`, { code: 'CF-ResourceNotFound', httpStatus: 404 });
    return this.#outputsOf(app);
  }

  async events(ref: Required<StackRef>, opts: { limit: number }, ctx?: ReadContext): Promise<StackEvent[]> {
    const n = Math.max(1, Math.min(100, Math.floor(opts.limit)));
    let body: Record<string, unknown>;
    try {
      body = await this.#json('listAuditEvents', `/v3/audit_events?target_guids=${enc(ref.id)}&order_by=-created_at&per_page=${n}`, ctx?.signal);
    } catch (e) {
      if (e instanceof ProviderError && e.kind === 'NotFound') return [];
      throw e;
    }
    const list = Array.isArray(body['resources']) ? body['resources'].filter(isRecord) : [];
    return list.slice(0, n).map((e) => {
      const target = isRecord(e['target']) ? str(e['target']['name']) : undefined;
      return { id: str(e['guid']) ?? '', time: str(e['created_at']) ?? '', status: str(e['type']) ?? '', ...(target ? { resourceName: target } : {}) };
    });
  }

  async checkConnection(ctx?: ReadContext): Promise<void> {
    await this.#call('listApps', 'GET', `/v3/apps?space_guids=${enc(this.#cfg.cloudFoundry.spaceGuid)}&per_page=1`, { idempotent: true, signal: ctx?.signal });
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
