// Alibaba Cloud ROS legacy REST API (2015-09-01, ROA style), for providers with
// spec.ros.apiVersion "2015-09-01". JSON bodies, region in x-acs-region-id (and RegionId on reads),
// "acs AK:signature" HMAC-SHA1 over the canonical ROA string, signed on every attempt.
// This API has no tags, no ClientToken, no deletion protection, no cancel and no retain-on-delete:
// ownership goes into the template's Description as `[stackoperator.dev/uid=<uid>]` and is read
// back from TemplateDescription.
import { randomUUID } from 'node:crypto';
import type { ResolvedProviderConfig } from '../config.ts';
import type { HttpClient, HttpMethod, HttpResponse, PreparedRequest } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import { contentMd5, roaStringToSign, signRoa } from '../auth/acs-signer.ts';
import { invalidInput, isRecord, readOwnerMark, str, templateObject, withOwnerMark } from '../common.ts';
import {
  ProviderError,
  type CallContext,
  type CancelMode,
  type ProviderCapabilities,
  type ReadContext,
  type StackEvent,
  type StackInput,
  type StackOutput,
  type StackProviderClient,
  type StackRef,
  type StackView,
} from '../types.ts';
import { rosPhase } from './status.ts';

type RosConfig = Extract<ResolvedProviderConfig, { type: 'ros' }>;
export const ROS_LEGACY_VERSION = '2015-09-01';

export const ROS_LEGACY_CAPABILITIES: ProviderCapabilities = Object.freeze({
  cancelModes: [] as CancelMode[],
  retainOnDelete: false,
  nativeDeletionProtection: false,
  tags: false,
  idempotencyTokens: false,
});

/** The template as JSON text with the ownership mark in its Description. Pure (tested). */
export function legacyTemplate(template: unknown, ownerUid: string, templateUrl?: string): string {
  // The 2015-09-01 API takes the template body only (no URL parameter), and the ownership mark
  // lives in the template: a URL cannot be used with it.
  if (templateUrl) throw invalidInput('ros 2015-09-01 has no template URL; use inline or configMapRef (or apiVersion 2019-09-10, which has TemplateURL)', 'spec.template.url');
  const obj = templateObject(template);
  if (!obj) throw invalidInput('ros 2015-09-01 needs a JSON (or YAML) object template', 'spec.template');
  const desc = typeof obj['Description'] === 'string' ? obj['Description'] : undefined;
  return JSON.stringify({ ...obj, Description: withOwnerMark(desc, ownerUid, 1024) });
}

/**
 * The stored parameters to re-send for "use previous parameters": never a NoEcho parameter of the
 * template and never a masked value ("****"): re-sending the mask would set it as the new value.
 * Such a parameter is left out, so ROS keeps or defaults it. Pure (tested).
 */
export function previousParameters(stored: Record<string, string>, template: unknown): Record<string, string> {
  const params = templateObject(template)?.['Parameters'];
  const noEcho = (k: string): boolean => isRecord(params) && isRecord(params[k]) && (params[k]['NoEcho'] === true || params[k]['NoEcho'] === 'true');
  return Object.fromEntries(Object.entries(stored).filter(([k, v]) => !noEcho(k) && !/^\*{3,}$/.test(v)));
}

export function legacyStackView(s: Record<string, unknown>): StackView {
  const rawStatus = str(s['Status']) ?? 'UNKNOWN';
  const { phase, operation } = rosPhase(rawStatus);
  const ownerUid = readOwnerMark(str(s['TemplateDescription']) ?? str(s['Description']));
  const parameters: Record<string, string> = {};
  const p = s['Parameters'];
  if (isRecord(p)) {
    for (const [k, v] of Object.entries(p)) {
      const val = str(v);
      if (val !== undefined && !k.startsWith('ALIYUN::')) parameters[k] = val;
    }
  } else if (Array.isArray(p)) {
    for (const e of p.filter(isRecord)) {
      const k = str(e['ParameterKey']);
      const val = str(e['ParameterValue']);
      if (k && val !== undefined && !k.startsWith('ALIYUN::')) parameters[k] = val;
    }
  }
  const outputs = Array.isArray(s['Outputs'])
    ? s['Outputs'].filter(isRecord).flatMap((o): StackOutput[] => {
        const key = str(o['OutputKey']);
        const description = str(o['Description']);
        return key ? [{ key, value: o['OutputValue'], ...(description ? { description } : {}) }] : [];
      })
    : undefined;
  const reason = str(s['StatusReason']);
  const createdAt = str(s['Created']) ?? str(s['CreateTime']);
  const updatedAt = str(s['Updated']) ?? str(s['UpdateTime']);
  return {
    id: str(s['Id']) ?? str(s['StackId']) ?? '',
    name: str(s['Name']) ?? str(s['StackName']) ?? '',
    phase,
    operation,
    rawStatus,
    ...(reason ? { reason } : {}),
    ...(ownerUid ? { ownerUid } : {}),
    ...(outputs ? { outputs } : {}),
    parameters,
    ...(createdAt ? { createdAt } : {}),
    ...(updatedAt ? { updatedAt } : {}),
  };
}

const enc = encodeURIComponent;

export class RosLegacyClient implements StackProviderClient {
  readonly type = 'ros' as const;
  readonly capabilities = ROS_LEGACY_CAPABILITIES;
  readonly #http: HttpClient;
  readonly #cfg: RosConfig;
  readonly #endpoint: string;

  constructor(config: RosConfig, http: HttpClient) {
    this.#cfg = config;
    this.#http = http;
    this.#endpoint = (config.ros.endpoint ?? 'https://ros.aliyuncs.com').replace(/\/+$/, '');
  }

  #sign = (r: PreparedRequest): void => {
    const h = r.headers;
    h['accept'] = 'application/json';
    h['date'] = new Date().toUTCString();
    if (r.body) {
      h['content-type'] = 'application/json;charset=utf-8';
      h['content-md5'] = contentMd5(r.body);
    }
    h['x-acs-signature-method'] = 'HMAC-SHA1';
    h['x-acs-signature-version'] = '1.0';
    h['x-acs-signature-nonce'] = randomUUID();
    h['x-acs-version'] = ROS_LEGACY_VERSION;
    h['x-acs-region-id'] = this.#cfg.ros.regionId;
    if (this.#cfg.credentials.securityToken) h['x-acs-security-token'] = this.#cfg.credentials.securityToken;
    const query: Record<string, string> = {};
    for (const [k, v] of r.url.searchParams) query[k] = v;
    const sts = roaStringToSign(r.method, decodeURIComponent(r.url.pathname), h, query);
    h['authorization'] = `acs ${this.#cfg.credentials.accessKeyId}:${signRoa(sts, this.#cfg.credentials.secret)}`;
  };

  async #call(
    operation: string,
    method: HttpMethod,
    path: string,
    opts: { body?: unknown; idempotent: boolean; signal?: AbortSignal | undefined; accept?: (s: number) => boolean },
  ): Promise<HttpResponse> {
    const sep = path.includes('?') ? '&' : '?';
    const url = method === 'GET' || method === 'DELETE' ? `${this.#endpoint}${path}${sep}RegionId=${enc(this.#cfg.ros.regionId)}` : `${this.#endpoint}${path}`;
    return this.#http.send({
      operation,
      method,
      url,
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      idempotent: opts.idempotent,
      signal: opts.signal,
      ...(opts.accept ? { accept: opts.accept } : {}),
      prepare: this.#sign,
    });
  }

  async get(ref: StackRef, ctx?: ReadContext): Promise<StackView | null> {
    const signal = ctx?.signal;
    let id = ref.id;
    if (!id) {
      const res = await this.#call('ListStacks', 'GET', `/stacks?Name=${enc(ref.name)}`, { idempotent: true, signal });
      const body = parseJson(res.text);
      const stacks = isRecord(body) && Array.isArray(body['Stacks']) ? body['Stacks'].filter(isRecord) : [];
      const live = stacks.find((s) => (str(s['Name']) ?? str(s['StackName'])) === ref.name && str(s['Status']) !== 'DELETE_COMPLETE');
      id = live ? (str(live['Id']) ?? str(live['StackId'])) : undefined;
      if (!id) return null;
    }
    let res: HttpResponse;
    try {
      res = await this.#call('GetStack', 'GET', `/stacks/${enc(ref.name)}/${enc(id)}`, { idempotent: true, signal });
    } catch (e) {
      if (e instanceof ProviderError && e.kind === 'NotFound') return null;
      throw e;
    }
    const body = parseJson(res.text);
    if (!isRecord(body)) throw new ProviderError('Transient', 'ros legacy: stack show is not an object', { code: 'BadResponse' });
    const view = legacyStackView(body);
    if (view.id && view.id !== id) return null;
    if (view.name && view.name !== ref.name) return null;
    if (view.phase === 'Deleted') return null;
    return view;
  }

  async create(input: StackInput, ctx: CallContext): Promise<{ id: string }> {
    const res = await this.#call(
      'CreateStack',
      'POST',
      '/stacks',
      {
        body: {
          Name: input.name,
          Template: legacyTemplate(input.template, input.ownerUid, input.templateUrl),
          Parameters: input.parameters,
          DisableRollback: input.disableRollback,
          TimeoutMins: input.timeoutMinutes,
        },
        idempotent: false, // no ClientToken in this API: a lost response shows up as 409 StackExists
        signal: ctx.signal,
      },
    );
    const body = parseJson(res.text);
    const id = isRecord(body) ? (str(body['Id']) ?? str(body['StackId'])) : undefined;
    if (!id) throw new ProviderError('Transient', 'ros legacy: create returned no Id', { code: 'BadResponse' });
    return { id };
  }

  async update(ref: Required<StackRef>, input: StackInput, ctx: CallContext): Promise<void> {
    legacyTemplate(input.template, input.ownerUid, input.templateUrl); // refuse before any call
    let parameters = input.parameters;
    if (input.usePreviousParameters) {
      const cur = await this.get(ref, { ...(ctx.signal ? { signal: ctx.signal } : {}) });
      if (!cur) throw new ProviderError('NotFound', `ros legacy: stack ${ref.name} (${ref.id}) not found`, { code: 'StackNotFound', httpStatus: 404 });
      parameters = { ...previousParameters(cur.parameters ?? {}, input.template), ...input.parameters };
    }
    await this.#call('UpdateStack', 'PUT', `/stacks/${enc(ref.name)}/${enc(ref.id)}`, {
      body: {
        Template: legacyTemplate(input.template, input.ownerUid, input.templateUrl),
        Parameters: parameters,
        DisableRollback: input.disableRollback,
        TimeoutMins: input.timeoutMinutes,
      },
      idempotent: false,
      signal: ctx.signal,
    });
  }

  async cancelUpdate(): Promise<void> {
    throw new ProviderError('Invalid', 'ros 2015-09-01 has no cancel operation: wait for the update to finish', { code: 'NotSupported', field: 'spec.updatePolicy' });
  }

  async delete(ref: Required<StackRef>, opts: { retainResources: boolean }, ctx: CallContext): Promise<void> {
    if (opts.retainResources) throw invalidInput('ros 2015-09-01 cannot delete a stack and keep its resources', 'spec.deletionPolicy');
    await this.#call('DeleteStack', 'DELETE', `/stacks/${enc(ref.name)}/${enc(ref.id)}`, {
      idempotent: false, // no token in this API: a lost reply is settled by the next read
      signal: ctx.signal,
      accept: (s) => (s >= 200 && s < 300) || s === 404,
    });
  }

  async setDeletionProtection(): Promise<void> {
    // No deletion-protection flag in the legacy API: the operator enforces protection itself.
  }

  async outputs(ref: Required<StackRef>, ctx?: ReadContext): Promise<StackOutput[]> {
    const view = await this.get(ref, ctx);
    if (!view) throw new ProviderError('NotFound', `ros legacy: stack ${ref.name} (${ref.id}) not found`, { code: 'StackNotFound', httpStatus: 404 });
    return view.outputs ?? [];
  }

  async events(ref: Required<StackRef>, opts: { limit: number }, ctx?: ReadContext): Promise<StackEvent[]> {
    const res = await this.#call('ListStackEvents', 'GET', `/stacks/${enc(ref.name)}/${enc(ref.id)}/events`, { idempotent: true, signal: ctx?.signal });
    const body = parseJson(res.text);
    const list = (Array.isArray(body) ? body : isRecord(body) && Array.isArray(body['Events']) ? body['Events'] : []).filter(isRecord);
    const events = list.map((e): StackEvent => {
      const resourceName = str(e['ResourceName']) ?? str(e['LogicalResourceId']);
      const reason = str(e['StatusReason']) ?? str(e['ResourceStatusReason']);
      return {
        id: str(e['Id']) ?? str(e['EventId']) ?? '',
        time: str(e['Time']) ?? str(e['CreateTime']) ?? str(e['EventTime']) ?? '',
        status: str(e['Status']) ?? str(e['ResourceStatus']) ?? '',
        ...(resourceName ? { resourceName } : {}),
        ...(reason ? { reason } : {}),
      };
    });
    events.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    return events.slice(0, Math.max(0, opts.limit));
  }

  async checkConnection(ctx?: ReadContext): Promise<void> {
    await this.#call('ListStacks', 'GET', '/stacks?PageSize=1', { idempotent: true, signal: ctx?.signal });
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
