// Huawei Cloud RFS (Resource Formation Service, API "aos" v1) adapter.
// Auth: SDK-HMAC-SHA256 AK/SK signing on every attempt (fresh X-Sdk-Date), X-Security-Token for
// temporary credentials, X-Project-Id. Client-Request-Id (mandatory, 36..128 chars) carries the
// controller's idempotency token on mutations (shaped by shapeToken) and a random UUID on reads.
// Ownership: RFS stacks have no tags; the mark `[stackoperator.dev/uid=<uid>]` goes into the
// description. Every call on an existing stack passes stack_id (the id guard: a mismatch is 400
// RF.10011015, read as "our stack is gone").
import { randomUUID } from 'node:crypto';
import type { ResolvedProviderConfig } from '../config.ts';
import type { HttpClient, HttpMethod, HttpResponse, PreparedRequest } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import { sdkDate, signHuawei } from '../auth/huawei-signer.ts';
import { invalidInput, isRecord, maybeJson, readOwnerMark, shapeToken, str, templateSource, withOwnerMark } from '../common.ts';
import {
  ProviderError,
  type CallContext,
  type CancelMode,
  type PreviewContext,
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
import { applyPlan, deletePlan, makePlan, type Call } from './execution-plans.ts';
import { rfsPhase } from './status.ts';

type RfsConfig = Extract<ResolvedProviderConfig, { type: 'rfs' }>;

// Client-Request-Id is a request id "to locate a request" (RFS API reference, DeleteStack), not an
// idempotency key: RFS makes no promise that a repeated id is answered without acting twice.
export const RFS_CAPABILITIES: ProviderCapabilities = Object.freeze({
  cancelModes: [] as CancelMode[],
  retainOnDelete: true,
  nativeDeletionProtection: true,
  tags: false,
  idempotencyTokens: false,
});

/** Client-Request-Id from the controller's token: as is when 36..128 of [A-Za-z0-9._:-], else sha256 hex (64). */
export function rfsRequestId(token: string): string {
  return shapeToken(token, { minLen: 36, maxLen: 128, alphabet: /^[A-Za-z0-9._:-]+$/ });
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;

/** template_body, or template_uri (an OBS URL RFS fetches itself); never neither. Pure (tested). */
export function rfsTemplate(input: Pick<StackInput, 'template' | 'templateUrl'>): { template_body: string } | { template_uri: string } {
  const source = templateSource(input, 'rfs');
  return 'url' in source ? { template_uri: source.url } : { template_body: source.body };
}

export function rfsStackView(m: Record<string, unknown>): StackView {
  const rawStatus = str(m['status']) ?? 'UNKNOWN';
  const { phase, operation } = rfsPhase(rawStatus);
  const description = str(m['description']);
  const ownerUid = readOwnerMark(description);
  // Created without a template and never deployed: it holds an execution plan only (docs/plan-approve.md).
  const planOnly = rawStatus === 'CREATION_COMPLETE';
  const params: Record<string, string> = {};
  if (Array.isArray(m['vars_structure'])) {
    for (const v of m['vars_structure']) {
      if (!isRecord(v) || isRecord(v['encryption'])) continue;
      const k = str(v['var_key']);
      const val = str(v['var_value']);
      if (k && val !== undefined) params[k] = val;
    }
  }
  const reason = str(m['status_message']);
  const createdAt = str(m['create_time']);
  const updatedAt = str(m['update_time']);
  const prot = m['enable_deletion_protection'];
  return {
    id: str(m['stack_id']) ?? '',
    name: str(m['stack_name']) ?? '',
    phase,
    operation,
    rawStatus,
    ...(reason ? { reason } : {}),
    ...(ownerUid ? { ownerUid } : {}),
    ...(typeof prot === 'boolean' ? { deletionProtection: prot } : {}),
    parameters: params,
    ...(createdAt ? { createdAt } : {}),
    ...(updatedAt ? { updatedAt } : {}),
    ...(planOnly ? { planOnly } : {}),
  };
}

const enc = encodeURIComponent;

export class RfsClient implements StackProviderClient {
  readonly type = 'rfs' as const;
  readonly capabilities = RFS_CAPABILITIES;
  readonly #http: HttpClient;
  readonly #cfg: RfsConfig;
  readonly #base: string;

  constructor(config: RfsConfig, http: HttpClient) {
    this.#cfg = config;
    this.#http = http;
    const endpoint = (config.rfs.endpoint ?? `https://aos.${config.rfs.region}.myhuaweicloud.com`).replace(/\/+$/, '');
    this.#base = `${endpoint}/v1/${enc(config.rfs.projectId)}`;
  }

  #sign = (r: PreparedRequest): void => {
    r.headers['X-Sdk-Date'] = sdkDate(new Date());
    r.headers['X-Project-Id'] = this.#cfg.rfs.projectId;
    r.headers['host'] = r.url.host;
    if (this.#cfg.credentials.securityToken) r.headers['X-Security-Token'] = this.#cfg.credentials.securityToken;
    const path = r.url.pathname.split('/').map((s) => decodeURIComponent(s)).join('/');
    const { authorization } = signHuawei({
      method: r.method,
      path,
      query: [...r.url.searchParams.entries()],
      headers: r.headers,
      body: r.body,
      accessKeyId: this.#cfg.credentials.accessKeyId,
      secretKey: this.#cfg.credentials.secret,
    });
    r.headers['Authorization'] = authorization;
    delete r.headers['host']; // undici sets Host itself; the value signed is the same
  };

  async #call(
    operation: string,
    method: HttpMethod,
    path: string,
    opts: { body?: unknown; requestId?: string; signal?: AbortSignal | undefined; accept?: (s: number) => boolean },
  ): Promise<HttpResponse> {
    // Mutations carry the controller's token as Client-Request-Id (to trace them), reads a fresh UUID.
    // Only reads are retried by the HTTP layer: a mutation whose reply was lost is settled by a read.
    return this.#http.send({
      operation,
      method,
      url: `${this.#base}${path}`,
      headers: {
        'Client-Request-Id': opts.requestId ?? randomUUID(),
        accept: 'application/json',
        ...(opts.body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      idempotent: method === 'GET',
      signal: opts.signal,
      ...(opts.accept ? { accept: opts.accept } : {}),
      prepare: this.#sign,
    });
  }

  async #metadata(ref: StackRef, signal?: AbortSignal): Promise<Record<string, unknown> | null> {
    const q = ref.id ? `?stack_id=${enc(ref.id)}` : '';
    try {
      const res = await this.#call('get', 'GET', `/stacks/${enc(ref.name)}/metadata${q}`, { signal });
      const body = parseJson(res.text);
      if (!isRecord(body)) throw new ProviderError('Transient', 'rfs: metadata is not an object', { code: 'BadResponse' });
      return body;
    } catch (e) {
      if (e instanceof ProviderError && e.kind === 'NotFound') return null;
      throw e;
    }
  }

  async get(ref: StackRef, ctx?: ReadContext): Promise<StackView | null> {
    const m = await this.#metadata(ref, ctx?.signal);
    if (!m) return null;
    const view = rfsStackView(m);
    if (ref.id && view.id && view.id !== ref.id) return null;
    if (view.phase === 'Deleted') return null;
    return view;
  }

  #vars(params: Record<string, string>): Array<{ var_key: string; var_value: string }> {
    return Object.entries(params).map(([var_key, var_value]) => ({ var_key, var_value }));
  }

  readonly #plainCall: Call = (operation, method, path, opts) => this.#call(operation, method, path, opts);

  /** CreateStack's body without the template: the stack's settings and the ownership mark. */
  #stackBody(input: StackInput): Record<string, unknown> {
    if (!NAME_RE.test(input.name)) {
      throw invalidInput('rfs stack names are 1..128 letters, digits, "_" or "-", starting with a letter (no dots)', 'spec.stackName');
    }
    const o = input.options;
    const agencies = Array.isArray(o['agencies'])
      ? o['agencies'].filter(isRecord).map((a) => ({ provider_name: a['providerName'], agency_name: a['agencyName'] }))
      : undefined;
    return {
      stack_name: input.name,
      description: withOwnerMark(str(o['description']), input.ownerUid, 1024),
      enable_deletion_protection: input.deletionProtection,
      enable_auto_rollback: typeof o['enableAutoRollback'] === 'boolean' ? o['enableAutoRollback'] : !input.disableRollback,
      ...(agencies?.length ? { agencies } : {}),
    };
  }

  /**
   * The plan: an execution plan of `ref`, or for a create of the stack that holds it, made without a
   * template first (CreateExecutionPlan needs an existing stack: 404 otherwise, RFS reference). A
   * superseded plan of that stack is deleted.
   */
  async preview(input: StackInput, ref: Required<StackRef> | undefined, ctx: PreviewContext): Promise<StackPreview> {
    const template = rfsTemplate(input);
    const stack = ref ?? ctx.holder ?? (await this.#createEmpty(input, ctx));
    if (ctx.supersedes) await deletePlan(this.#plainCall, stack, ctx.supersedes, { requestId: rfsRequestId(`${ctx.token}-supersede`), signal: ctx.signal });
    let params = input.parameters;
    if (ref && input.usePreviousParameters) {
      const meta = await this.#metadata(ref, ctx.signal);
      params = { ...(meta ? rfsStackView(meta).parameters : {}), ...input.parameters };
    }
    const request = { ...template, ...(Object.keys(params).length ? { vars_structure: this.#vars(params) } : {}) };
    return makePlan(this.#plainCall, stack, ctx.token, request, { requestId: rfsRequestId(`${ctx.token}-plan`), signal: ctx.signal });
  }

  async #createEmpty(input: StackInput, ctx: PreviewContext): Promise<Required<StackRef>> {
    const res = await this.#call('create', 'POST', '/stacks', { body: this.#stackBody(input), requestId: rfsRequestId(`${ctx.token}-stack`), signal: ctx.signal });
    const parsed = parseJson(res.text);
    const id = isRecord(parsed) ? str(parsed['stack_id']) : undefined;
    if (!id) throw new ProviderError('Transient', 'rfs: create returned no stack_id', { code: 'BadResponse' });
    return { name: input.name, id };
  }

  async create(input: StackInput, ctx: CallContext): Promise<{ id: string }> {
    if (ctx.providerPlanId) {
      // The approved plan lives on the stack made for it: apply it there.
      const holder = await this.get({ name: input.name }, { ...(ctx.signal ? { signal: ctx.signal } : {}) });
      if (!holder) throw new ProviderError('NotFound', `rfs: stack ${input.name} holding the approved plan is gone`, { code: 'RF.10013001', httpStatus: 404 });
      await applyPlan(this.#plainCall, { name: input.name, id: holder.id }, ctx.providerPlanId, { requestId: rfsRequestId(ctx.token), signal: ctx.signal });
      return { id: holder.id };
    }
    const body = this.#stackBody(input);
    Object.assign(body, rfsTemplate(input));
    if (Object.keys(input.parameters).length) body['vars_structure'] = this.#vars(input.parameters);
    const res = await this.#call('create', 'POST', '/stacks', { body, requestId: rfsRequestId(ctx.token), signal: ctx.signal });
    const parsed = parseJson(res.text);
    const id = isRecord(parsed) ? str(parsed['stack_id']) : undefined;
    if (!id) throw new ProviderError('Transient', 'rfs: create returned no stack_id', { code: 'BadResponse' });
    return { id };
  }

  async update(ref: Required<StackRef>, input: StackInput, ctx: CallContext): Promise<void> {
    const template = rfsTemplate(input); // before any call: no template, no update (never "{}")
    let params = input.parameters;
    const autoRollback = typeof input.options['enableAutoRollback'] === 'boolean' ? input.options['enableAutoRollback'] : !input.disableRollback;
    const meta = await this.#metadata(ref, ctx.signal);
    if (!meta) throw new ProviderError('NotFound', `rfs: stack ${ref.name} (${ref.id}) not found`, { code: 'RF.10013001', httpStatus: 404 });
    if (input.usePreviousParameters) {
      // RFS has no "use previous parameters": merge the stored (non-encrypted) vars under the new ones.
      params = { ...rfsStackView(meta).parameters, ...input.parameters };
    }
    if (ctx.providerPlanId) {
      await applyPlan(this.#plainCall, ref, ctx.providerPlanId, { requestId: rfsRequestId(ctx.token), signal: ctx.signal });
      return;
    }
    if (typeof meta['enable_auto_rollback'] === 'boolean' && meta['enable_auto_rollback'] !== autoRollback) {
      await this.#call('update.metadata', 'PATCH', `/stacks/${enc(ref.name)}`, {
        body: { stack_id: ref.id, enable_auto_rollback: autoRollback },
        requestId: rfsRequestId(`${ctx.token}-meta`),
        signal: ctx.signal,
        accept: (s) => (s >= 200 && s < 300),
      });
    }
    await this.#call('update', 'POST', `/stacks/${enc(ref.name)}/deployments`, {
      body: { stack_id: ref.id, ...template, ...(Object.keys(params).length ? { vars_structure: this.#vars(params) } : {}) },
      requestId: rfsRequestId(ctx.token),
      signal: ctx.signal,
    });
  }

  async cancelUpdate(): Promise<void> {
    throw new ProviderError('Invalid', 'rfs has no cancel operation: wait for the deployment to finish', { code: 'NotSupported', field: 'spec.updatePolicy' });
  }

  async delete(ref: Required<StackRef>, opts: { retainResources: boolean }, ctx: CallContext): Promise<void> {
    const requestId = rfsRequestId(ctx.token);
    const gone = (s: number): boolean => (s >= 200 && s < 300) || s === 404;
    if (opts.retainResources) {
      await this.#call('delete', 'POST', `/stacks/${enc(ref.name)}/deletion`, {
        body: { stack_id: ref.id, retain_all_resources: true },
        requestId,
        signal: ctx.signal,
        accept: gone,
      });
    } else {
      await this.#call('delete', 'DELETE', `/stacks/${enc(ref.name)}?stack_id=${enc(ref.id)}`, { requestId, signal: ctx.signal, accept: gone });
    }
  }

  async setDeletionProtection(ref: Required<StackRef>, enabled: boolean, ctx: CallContext): Promise<void> {
    try {
      await this.#call('setDeletionProtection', 'PATCH', `/stacks/${enc(ref.name)}`, {
        body: { stack_id: ref.id, enable_deletion_protection: enabled },
        requestId: rfsRequestId(`${ctx.token}-protect`),
        signal: ctx.signal,
      });
    } catch (e) {
      if (e instanceof ProviderError && e.code === 'RF.10011084') return; // nothing to modify: already set
      throw e;
    }
  }

  async outputs(ref: Required<StackRef>, ctx?: ReadContext): Promise<StackOutput[]> {
    const res = await this.#call('outputs', 'GET', `/stacks/${enc(ref.name)}/outputs?stack_id=${enc(ref.id)}`, { signal: ctx?.signal });
    const body = parseJson(res.text);
    const list = isRecord(body) && Array.isArray(body['outputs']) ? body['outputs'] : [];
    const out: StackOutput[] = [];
    for (const o of list) {
      if (!isRecord(o)) continue;
      const key = str(o['name']);
      if (!key) continue;
      const sensitive = o['sensitive'] === true;
      const description = str(o['description']);
      out.push({ key, value: sensitive ? undefined : maybeJson(o['value']), ...(description ? { description } : {}), ...(sensitive ? { sensitive } : {}) });
    }
    return out;
  }

  async events(ref: Required<StackRef>, opts: { limit: number }, ctx?: ReadContext): Promise<StackEvent[]> {
    const res = await this.#call('events', 'GET', `/stacks/${enc(ref.name)}/events?stack_id=${enc(ref.id)}`, { signal: ctx?.signal });
    const body = parseJson(res.text);
    const list = isRecord(body) && Array.isArray(body['stack_events']) ? body['stack_events'] : [];
    const out: StackEvent[] = [];
    for (const e of list) {
      if (!isRecord(e)) continue;
      const time = str(e['time']) ?? '';
      const resourceName = str(e['resource_name']);
      const status = str(e['event_type']) ?? '';
      const reason = str(e['event_message']);
      out.push({ id: `${time}/${resourceName ?? ''}/${status}`, time, status, ...(resourceName ? { resourceName } : {}), ...(reason ? { reason } : {}) });
    }
    // RFS sorts newest first already; keep that order.
    return out.slice(0, Math.max(0, opts.limit));
  }

  async checkConnection(ctx?: ReadContext): Promise<void> {
    await this.#call('list', 'GET', '/stacks', { signal: ctx?.signal });
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
