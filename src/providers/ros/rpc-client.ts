// Alibaba Cloud ROS, RPC API 2019-09-10. POST to "/", parameters in the query string except the
// large bodies (TemplateBody, StackPolicy*Body) which go in an x-www-form-urlencoded body, JSON
// responses. Signed on every attempt (fresh nonce and date) with ACS3-HMAC-SHA256 (default) or the
// RPC signature V1 (HMAC-SHA1; the signature covers query and form parameters).
// ClientToken (≤64 of [A-Za-z0-9_-]) = the controller's token, shaped by shapeToken.
// Ownership: the tag `stackoperator.dev/uid` = <uid>.
import { randomUUID } from 'node:crypto';
import type { ResolvedProviderConfig } from '../config.ts';
import type { HttpClient, HttpResponse, PreparedRequest } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import { acsDate, sha256HexOf, signAcs3, signRpcV1 } from '../auth/acs-signer.ts';
import { percentEncode } from '../auth/encoding.ts';
import { OWNER_KEY, invalidInput, isRecord, shapeToken, str, templateSource } from '../common.ts';
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
import { awaitChangeSet, changeSetName, defaultSleep, deleteChangeSet, executeChangeSet, type Rpc } from './change-sets.ts';
import { rosPhase } from './status.ts';

type RosConfig = Extract<ResolvedProviderConfig, { type: 'ros' }>;
export const ROS_VERSION = '2019-09-10';

// Cancel: CancelUpdateStack stops an update (CancelType Safe or Quick); what state follows is not
// documented (docs/providers.md), and ROS has no "cancel without rollback" like Heat's: Rollback only.
export const ROS_CAPABILITIES: ProviderCapabilities = Object.freeze({
  cancelModes: ['Rollback'] as CancelMode[],
  retainOnDelete: true,
  nativeDeletionProtection: true,
  tags: true,
  idempotencyTokens: true,
});

/** ClientToken from the controller's token: as is when ≤64 of [A-Za-z0-9_-], else the first 64 hex chars of its SHA-256. */
export function rosClientToken(token: string): string {
  return shapeToken(token, { maxLen: 64, alphabet: /^[A-Za-z0-9_-]+$/ });
}

/** Cancel mode → CancelType: options.cancelType wins; else Rollback → Safe, NoRollback → Quick. */
export function rosCancelType(mode: CancelMode, options: Record<string, unknown>): 'Safe' | 'Quick' {
  const o = options['cancelType'];
  if (o === 'Safe' || o === 'Quick') return o;
  return mode === 'Rollback' ? 'Safe' : 'Quick';
}

/** TemplateBody, or TemplateURL (http(s) or oss:// that ROS fetches itself); never neither. Pure (tested). */
export function rosTemplate(input: Pick<StackInput, 'template' | 'templateUrl'>): Record<string, string> {
  const source = templateSource(input, 'ros');
  return 'url' in source ? { TemplateURL: source.url } : { TemplateBody: source.body };
}

/** One of a Body / URL pair (the ROS API reference: "You can specify only one of"). Pure (tested). */
export function rosPolicy(o: Record<string, unknown>, body: string, url: string, param: string): Record<string, string> {
  const b = isRecord(o[body]) ? JSON.stringify(o[body]) : undefined;
  const u = typeof o[url] === 'string' && o[url] !== '' ? o[url] : undefined;
  if (b && u) throw invalidInput(`ros: set ${body} or ${url}, not both`, `spec.providerOptions.ros.${url}`);
  if (b) return { [`${param}Body`]: b };
  if (u) return { [`${param}URL`]: u };
  return {};
}

/** "Update the completely same stack" (and older wordings): an update with nothing to change. */
export function isNoChangeUpdate(e: unknown): boolean {
  return e instanceof ProviderError && e.code === 'NotSupported' && /completely same|no (effective )?change|not changed|nothing to update/i.test(e.message);
}

/** Flatten a list into `Prefix.N.Field` parameters (N from 1). Pure (tested). */
export function flattenList(prefix: string, items: Array<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  items.forEach((item, i) => {
    for (const [k, v] of Object.entries(item)) out[`${prefix}.${i + 1}.${k}`] = v;
  });
  return out;
}

const BODY_PARAMS = new Set(['TemplateBody', 'StackPolicyBody', 'StackPolicyDuringUpdateBody']);

export function rosStackView(s: Record<string, unknown>): StackView {
  const rawStatus = str(s['Status']) ?? 'UNKNOWN';
  const { phase, operation } = rosPhase(rawStatus);
  const tags: Record<string, string> = {};
  let ownerUid: string | undefined;
  if (Array.isArray(s['Tags'])) {
    for (const t of s['Tags']) {
      if (!isRecord(t)) continue;
      const k = str(t['Key']);
      const v = str(t['Value']) ?? '';
      if (!k) continue;
      if (k === OWNER_KEY) ownerUid = v;
      else tags[k] = v;
    }
  }
  const parameters: Record<string, string> = {};
  if (Array.isArray(s['Parameters'])) {
    for (const p of s['Parameters']) {
      if (!isRecord(p)) continue;
      const k = str(p['ParameterKey']);
      const v = str(p['ParameterValue']);
      if (k && v !== undefined && !k.startsWith('ALIYUN::') && v !== '******') parameters[k] = v;
    }
  }
  const outputs = Array.isArray(s['Outputs'])
    ? s['Outputs'].flatMap((o): StackOutput[] => {
        if (!isRecord(o)) return [];
        const key = str(o['OutputKey']);
        const description = str(o['Description']);
        return key ? [{ key, value: o['OutputValue'], ...(description ? { description } : {}) }] : [];
      })
    : undefined;
  const dp = str(s['DeletionProtection']);
  const reason = str(s['StatusReason']);
  const createdAt = str(s['CreateTime']);
  const updatedAt = str(s['UpdateTime']);
  return {
    id: str(s['StackId']) ?? '',
    name: str(s['StackName']) ?? '',
    phase,
    operation,
    rawStatus,
    ...(reason ? { reason } : {}),
    ...(ownerUid ? { ownerUid } : {}),
    ...(dp ? { deletionProtection: dp === 'Enabled' } : {}),
    ...(outputs ? { outputs } : {}),
    parameters,
    tags,
    ...(createdAt ? { createdAt } : {}),
    ...(updatedAt ? { updatedAt } : {}),
    // A CREATE change set's stack, not executed: it holds the plan only (docs/plan-approve.md).
    ...(rawStatus === 'REVIEW_IN_PROGRESS' ? { planOnly: true } : {}),
  };
}

export class RosRpcClient implements StackProviderClient {
  readonly type = 'ros' as const;
  readonly capabilities = ROS_CAPABILITIES;
  readonly #http: HttpClient;
  readonly #cfg: RosConfig;
  readonly #endpoint: string;
  readonly #v1: boolean;

  constructor(config: RosConfig, http: HttpClient) {
    this.#cfg = config;
    this.#http = http;
    this.#endpoint = (config.ros.endpoint ?? 'https://ros.aliyuncs.com').replace(/\/+$/, '');
    this.#v1 = config.ros.signatureVersion === 'HMAC-SHA1';
  }

  async #rpc(
    action: string,
    params: Record<string, string>,
    opts: { idempotent: boolean; signal?: AbortSignal | undefined },
  ): Promise<Record<string, unknown>> {
    const all: Record<string, string> = { RegionId: this.#cfg.ros.regionId, ...params };
    const query: Record<string, string> = {};
    const form: Record<string, string> = {};
    for (const [k, v] of Object.entries(all)) (BODY_PARAMS.has(k) ? form : query)[k] = v;
    const body = Object.keys(form)
      .map((k) => `${percentEncode(k)}=${percentEncode(form[k] ?? '')}`)
      .join('&');
    const res: HttpResponse = await this.#http.send({
      operation: action,
      method: 'POST',
      url: `${this.#endpoint}/`,
      headers: { accept: 'application/json', ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      body,
      idempotent: opts.idempotent,
      signal: opts.signal,
      prepare: (r) => (this.#v1 ? this.#signV1(r, action, query, form) : this.#signV3(r, action, query)),
    });
    const parsed = parseJson(res.text);
    if (!isRecord(parsed)) throw new ProviderError('Transient', `ros ${action}: response is not JSON`, { code: 'BadResponse' });
    return parsed;
  }

  #setQuery(r: PreparedRequest, query: Record<string, string>): void {
    r.url.search = Object.keys(query)
      .sort()
      .map((k) => `${percentEncode(k)}=${percentEncode(query[k] ?? '')}`)
      .join('&');
  }

  #signV3(r: PreparedRequest, action: string, query: Record<string, string>): void {
    this.#setQuery(r, query);
    const h = r.headers;
    h['host'] = r.url.host;
    h['x-acs-action'] = action;
    h['x-acs-version'] = ROS_VERSION;
    h['x-acs-date'] = acsDate(new Date());
    h['x-acs-signature-nonce'] = randomUUID();
    h['x-acs-content-sha256'] = sha256HexOf(r.body);
    if (this.#cfg.credentials.securityToken) h['x-acs-security-token'] = this.#cfg.credentials.securityToken;
    h['authorization'] = signAcs3({
      method: r.method,
      path: r.url.pathname, // "/" on the real service; the emulator may mount ROS under a prefix
      query,
      headers: h,
      hashedPayload: h['x-acs-content-sha256'],
      accessKeyId: this.#cfg.credentials.accessKeyId,
      secret: this.#cfg.credentials.secret,
    }).authorization;
    delete h['host'];
  }

  #signV1(r: PreparedRequest, action: string, query: Record<string, string>, form: Record<string, string>): void {
    const common: Record<string, string> = {
      Action: action,
      Version: ROS_VERSION,
      Format: 'JSON',
      AccessKeyId: this.#cfg.credentials.accessKeyId,
      SignatureMethod: 'HMAC-SHA1',
      SignatureVersion: '1.0',
      SignatureNonce: randomUUID(),
      Timestamp: acsDate(new Date()),
      ...(this.#cfg.credentials.securityToken ? { SecurityToken: this.#cfg.credentials.securityToken } : {}),
    };
    const q = { ...query, ...common };
    const signature = signRpcV1(r.method, { ...q, ...form }, this.#cfg.credentials.secret);
    this.#setQuery(r, { ...q, Signature: signature });
  }

  async get(ref: StackRef, ctx?: ReadContext): Promise<StackView | null> {
    const signal = ctx?.signal;
    let id = ref.id;
    if (!id) {
      const list = await this.#rpc('ListStacks', { 'StackName.1': ref.name, PageSize: '50' }, { idempotent: true, signal });
      const stacks = Array.isArray(list['Stacks']) ? list['Stacks'].filter(isRecord) : [];
      const live = stacks.find((s) => str(s['StackName']) === ref.name && str(s['Status']) !== 'DELETE_COMPLETE');
      id = live ? str(live['StackId']) : undefined;
      if (!id) return null;
    }
    let s: Record<string, unknown>;
    try {
      s = await this.#rpc('GetStack', { StackId: id }, { idempotent: true, signal });
    } catch (e) {
      if (e instanceof ProviderError && e.kind === 'NotFound') return null;
      throw e;
    }
    const view = rosStackView(s);
    if (view.name && view.name !== ref.name) return null; // the id guard: another stack's id
    if (view.phase === 'Deleted') return null;
    return view;
  }

  #tags(input: StackInput): Record<string, string> {
    const tags = Object.entries({ ...input.tags, [OWNER_KEY]: input.ownerUid });
    if (tags.length > 20) throw invalidInput('ros allows at most 20 tags, one of which is the ownership tag: use at most 19', 'spec.tags');
    return flattenList('Tags', tags.map(([Key, Value]) => ({ Key, Value })));
  }

  #params(input: StackInput): Record<string, string> {
    return flattenList(
      'Parameters',
      Object.entries(input.parameters).map(([ParameterKey, ParameterValue]) => ({ ParameterKey, ParameterValue })),
    );
  }

  #options(input: StackInput, update: boolean): Record<string, string> {
    const o = input.options;
    const out: Record<string, string> = {};
    if (typeof o['ramRoleName'] === 'string') out['RamRoleName'] = o['ramRoleName'];
    if (typeof o['parallelism'] === 'number') out['Parallelism'] = String(o['parallelism']);
    Object.assign(out, rosPolicy(o, 'stackPolicyBody', 'stackPolicyURL', 'StackPolicy'));
    if (update) {
      if (o['replacementOption'] === 'Enabled' || o['replacementOption'] === 'Disabled') out['ReplacementOption'] = o['replacementOption'];
      Object.assign(out, rosPolicy(o, 'stackPolicyDuringUpdateBody', 'stackPolicyDuringUpdateURL', 'StackPolicyDuringUpdate'));
    }
    return out;
  }

  readonly #call: Rpc = (action, params, opts) => this.#rpc(action, params, opts);

  /**
   * The plan: a change set (CREATE for a new stack, UPDATE for `ref`). A superseded change set is
   * deleted first; a stack holding only a superseded create plan is deleted, as a CREATE change set
   * cannot target an existing stack (ROS CreateChangeSet reference).
   */
  async preview(input: StackInput, ref: Required<StackRef> | undefined, ctx: PreviewContext): Promise<StackPreview> {
    const signal = ctx.signal;
    if (ctx.supersedes) await deleteChangeSet(this.#call, ctx.supersedes, signal);
    if (!ref && ctx.holder) {
      // This very plan already made (an earlier preview's reply was lost): read it, never replace it.
      const mine = await this.#rpc('ListChangeSets', { StackId: ctx.holder.id, 'ChangeSetName.1': changeSetName(ctx.token) }, { idempotent: true, signal });
      const existing = Array.isArray(mine['ChangeSets']) ? mine['ChangeSets'].filter(isRecord).map((c) => str(c['ChangeSetId'])).find(Boolean) : undefined;
      if (existing) return awaitChangeSet(this.#call, existing, signal);
      await this.#replaceHolder(ctx.holder, ctx);
    }
    const common = {
      ChangeSetName: changeSetName(ctx.token),
      ...rosTemplate(input),
      ...this.#params(input),
      TimeoutInMinutes: String(input.timeoutMinutes),
      ...this.#options(input, ref !== undefined),
      // The plan id is only unique per Stack (generation and desired hash): the owner makes it global.
      ClientToken: rosClientToken(`plan-${input.ownerUid}-${ctx.token}`),
    };
    const params = ref
      ? { ...common, ChangeSetType: 'UPDATE', StackId: ref.id, UsePreviousParameters: String(input.usePreviousParameters) }
      : { ...common, ChangeSetType: 'CREATE', StackName: input.name, DisableRollback: String(input.disableRollback), ...this.#tags(input) };
    const res = await this.#rpc('CreateChangeSet', params, { idempotent: true, signal });
    const id = str(res['ChangeSetId']);
    if (!id) throw new ProviderError('Transient', 'ros CreateChangeSet returned no ChangeSetId', { code: 'BadResponse' });
    return awaitChangeSet(this.#call, id, signal);
  }

  /** Delete a REVIEW_IN_PROGRESS stack of ours and wait (bounded) until its name is free again. */
  async #replaceHolder(holder: Required<StackRef>, ctx: PreviewContext): Promise<void> {
    await this.delete(holder, { retainResources: false }, { token: `${ctx.token}-replace`, ...(ctx.signal ? { signal: ctx.signal } : {}) });
    for (let i = 0; i < 25; i++) {
      if (!(await this.get({ name: holder.name }, { ...(ctx.signal ? { signal: ctx.signal } : {}) }))) return;
      await defaultSleep(200, ctx.signal);
    }
    throw new ProviderError('Conflict', `ros: stack ${holder.name} holding the superseded create plan is still being deleted`, { code: 'StackExists' });
  }

  async create(input: StackInput, ctx: CallContext): Promise<{ id: string }> {
    if (ctx.providerPlanId) {
      const done = await executeChangeSet(this.#call, ctx.providerPlanId, rosClientToken(ctx.token), undefined, ctx.signal);
      this.#remember(done.id, input.options);
      return done;
    }
    const res = await this.#rpc(
      'CreateStack',
      {
        StackName: input.name,
        ...rosTemplate(input),
        ...this.#params(input),
        DisableRollback: String(input.disableRollback),
        TimeoutInMinutes: String(input.timeoutMinutes),
        DeletionProtection: input.deletionProtection ? 'Enabled' : 'Disabled',
        ...this.#tags(input),
        ...this.#options(input, false),
        ClientToken: rosClientToken(ctx.token),
      },
      { idempotent: true, signal: ctx.signal },
    );
    const id = str(res['StackId']);
    if (!id) throw new ProviderError('Transient', 'ros CreateStack returned no StackId', { code: 'BadResponse' });
    this.#remember(id, input.options);
    return { id };
  }

  async update(ref: Required<StackRef>, input: StackInput, ctx: CallContext): Promise<void> {
    this.#remember(ref.id, input.options);
    if (ctx.providerPlanId) {
      await executeChangeSet(this.#call, ctx.providerPlanId, rosClientToken(ctx.token), ref.id, ctx.signal);
      return;
    }
    try {
      await this.#rpc(
        'UpdateStack',
        {
          StackId: ref.id,
          ...rosTemplate(input),
          ...this.#params(input),
          UsePreviousParameters: String(input.usePreviousParameters),
          TimeoutInMinutes: String(input.timeoutMinutes),
          // No DisableRollback: "cannot take effect when the stack is being updated" (ROS UpdateStack
          // reference): a failed update always rolls back, so sending it would only pretend.
          ...this.#tags(input),
          ...this.#options(input, true),
          ClientToken: rosClientToken(ctx.token),
        },
        { idempotent: true, signal: ctx.signal },
      );
    } catch (e) {
      // ROS answers an unchanged update (tags included) with 400 NotSupported: nothing to do is success.
      if (isNoChangeUpdate(e)) return;
      throw e;
    }
  }

  async cancelUpdate(ref: Required<StackRef>, mode: CancelMode, ctx: CallContext): Promise<void> {
    if (!this.capabilities.cancelModes.includes(mode)) {
      throw invalidInput(
        'ros has no cancel without rollback: CancelUpdateStack stops the update (providerOptions.ros.cancelType Safe or Quick); use updatePolicy.cancelMode Rollback',
        'spec.updatePolicy.cancelMode',
      );
    }
    // options.cancelType comes from ctx.options (the Stack's providerOptions.ros) or, failing that,
    // from the options of the last update this client started for the stack.
    const options = ctx.options ?? this.#lastOptions.get(ref.id) ?? {};
    // CancelUpdateStack takes no ClientToken: not re-sent by the HTTP layer.
    await this.#rpc('CancelUpdateStack', { StackId: ref.id, CancelType: rosCancelType(mode, options) }, { idempotent: false, signal: ctx.signal });
  }

  /** Options of the last create/update per stack id (bounded), for cancelType when ctx.options is absent. */
  readonly #lastOptions = new Map<string, Record<string, unknown>>();
  #remember(id: string, options: Record<string, unknown>): void {
    this.#lastOptions.delete(id);
    this.#lastOptions.set(id, options);
    if (this.#lastOptions.size > 10_000) {
      const oldest = this.#lastOptions.keys().next().value;
      if (oldest !== undefined) this.#lastOptions.delete(oldest);
    }
  }

  async delete(ref: Required<StackRef>, opts: { retainResources: boolean }, ctx: CallContext): Promise<void> {
    try {
      // RamRoleName is not inherited by DeleteStack (ROS API reference): pass the stack's role again.
      // DeleteStack takes no ClientToken: not re-sent by the HTTP layer.
      const options = ctx.options ?? this.#lastOptions.get(ref.id) ?? {};
      const role: Record<string, string> = typeof options['ramRoleName'] === 'string' && options['ramRoleName'] !== '' ? { RamRoleName: options['ramRoleName'] } : {};
      await this.#rpc('DeleteStack', { StackId: ref.id, RetainAllResources: String(opts.retainResources), ...role }, { idempotent: false, signal: ctx.signal });
    } catch (e) {
      if (e instanceof ProviderError && e.kind === 'NotFound') return;
      throw e;
    }
  }

  async setDeletionProtection(ref: Required<StackRef>, enabled: boolean, ctx: CallContext): Promise<void> {
    await this.#rpc('SetDeletionProtection', { StackId: ref.id, DeletionProtection: enabled ? 'Enabled' : 'Disabled' }, { idempotent: true, signal: ctx.signal });
  }

  async outputs(ref: Required<StackRef>, ctx?: ReadContext): Promise<StackOutput[]> {
    const view = await this.get(ref, ctx);
    if (!view) throw new ProviderError('NotFound', `ros: stack ${ref.name} (${ref.id}) not found`, { code: 'StackNotFound', httpStatus: 404 });
    return view.outputs ?? [];
  }

  async events(ref: Required<StackRef>, opts: { limit: number }, ctx?: ReadContext): Promise<StackEvent[]> {
    const size = Math.max(1, Math.min(50, Math.floor(opts.limit)));
    const res = await this.#rpc('ListStackEvents', { StackId: ref.id, PageSize: String(size), PageNumber: '1' }, { idempotent: true, signal: ctx?.signal });
    const list = Array.isArray(res['Events']) ? res['Events'].filter(isRecord) : [];
    const events = list.map((e): StackEvent => {
      const resourceName = str(e['LogicalResourceId']);
      const reason = str(e['StatusReason']);
      return { id: str(e['EventId']) ?? '', time: str(e['CreateTime']) ?? '', status: str(e['Status']) ?? '', ...(resourceName ? { resourceName } : {}), ...(reason ? { reason } : {}) };
    });
    events.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    return events.slice(0, size);
  }

  async checkConnection(ctx?: ReadContext): Promise<void> {
    await this.#rpc('ListStacks', { PageSize: '1' }, { idempotent: true, signal: ctx?.signal });
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
