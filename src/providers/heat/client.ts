// OpenStack Heat v1 (and Huawei / OTC RTS, same wire shape) adapter.
// Ownership: the tag `stackoperator.dev/uid=<uid>` (Heat tags are plain strings; user tags are sent
// as `key=value` strings and read back the same way). Name-only reads follow the 302 name→id
// redirect by hand with the same method; every mutation uses the /stacks/{name}/{id} URL.
import type { HeatCredentials, ResolvedProviderConfig } from '../config.ts';
import type { HttpClient, HttpMethod, HttpResponse } from '../http/client.ts';
import { parseJson } from '../http/client.ts';
import { KeystoneAuth } from '../auth/keystone.ts';
import { OWNER_KEY, invalidInput, isRecord, str, templateSource } from '../common.ts';
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
import { heatCreatePreview, heatUpdatePreview } from './preview.ts';
import { heatPhase } from './status.ts';

type HeatConfig = Extract<ResolvedProviderConfig, { type: 'heat' }>;

export const HEAT_CAPABILITIES: ProviderCapabilities = Object.freeze({
  cancelModes: ['Rollback', 'NoRollback'] as CancelMode[],
  retainOnDelete: false,
  nativeDeletionProtection: false,
  tags: true,
  idempotencyTokens: false,
});

/** Heat tags: `key=value` strings (comma-separated on the wire). Pure (tested). */
export function heatTags(tags: Record<string, string>, ownerUid: string): string {
  const all: Record<string, string> = { ...tags, [OWNER_KEY]: ownerUid };
  const out: string[] = [];
  for (const [k, v] of Object.entries(all)) {
    const t = v === '' ? k : `${k}=${v}`;
    if (t.includes(',')) throw invalidInput(`heat tags cannot contain commas: ${JSON.stringify(k)}`, `spec.tags.${k}`);
    if (t.length > 80) throw invalidInput(`heat tag longer than 80 characters: ${JSON.stringify(k)}`, `spec.tags.${k}`);
    out.push(t);
  }
  return out.join(',');
}

export function parseHeatTags(tags: unknown): Record<string, string> {
  const list = Array.isArray(tags) ? tags : typeof tags === 'string' ? tags.split(',') : [];
  const out: Record<string, string> = {};
  for (const t of list) {
    if (typeof t !== 'string' || t === '') continue;
    const i = t.indexOf('=');
    if (i < 0) out[t] = '';
    else out[t.slice(0, i)] = t.slice(i + 1);
  }
  return out;
}

export function heatStackView(stack: Record<string, unknown>): StackView {
  const rawStatus = str(stack['stack_status']) ?? 'UNKNOWN';
  const { phase, operation } = heatPhase(rawStatus);
  const allTags = parseHeatTags(stack['tags']);
  const ownerUid = allTags[OWNER_KEY];
  const tags = { ...allTags };
  delete tags[OWNER_KEY];
  const params: Record<string, string> = {};
  if (isRecord(stack['parameters'])) {
    for (const [k, v] of Object.entries(stack['parameters'])) {
      if (k.startsWith('OS::')) continue;
      const s = str(v);
      if (s !== undefined && s !== '******') params[k] = s;
    }
  }
  const outputs = Array.isArray(stack['outputs']) ? stack['outputs'].flatMap((o) => heatOutput(o)) : undefined;
  const reason = str(stack['stack_status_reason']);
  const createdAt = str(stack['creation_time']);
  const updatedAt = str(stack['updated_time']);
  return {
    id: str(stack['id']) ?? '',
    name: str(stack['stack_name']) ?? '',
    phase,
    operation,
    rawStatus,
    ...(reason ? { reason } : {}),
    ...(ownerUid ? { ownerUid } : {}),
    ...(outputs ? { outputs } : {}),
    parameters: params,
    tags,
    ...(createdAt ? { createdAt } : {}),
    ...(updatedAt ? { updatedAt } : {}),
  };
}

function heatOutput(o: unknown): StackOutput[] {
  if (!isRecord(o)) return [];
  const key = str(o['output_key']);
  if (!key) return [];
  const description = str(o['description']);
  return [{ key, value: o['output_value'], ...(description ? { description } : {}) }];
}

const enc = encodeURIComponent;

export class HeatClient implements StackProviderClient {
  readonly type = 'heat' as const;
  readonly capabilities = HEAT_CAPABILITIES;
  readonly #http: HttpClient;
  readonly #auth: KeystoneAuth;

  constructor(config: HeatConfig, http: HttpClient) {
    this.#http = http;
    this.#auth = new KeystoneAuth(http, config.heat, config.credentials satisfies HeatCredentials);
  }

  async #call(
    operation: string,
    method: HttpMethod,
    pathOrUrl: string,
    opts: { body?: unknown; idempotent: boolean; signal?: AbortSignal | undefined; accept?: (s: number) => boolean },
  ): Promise<HttpResponse> {
    const first = await this.#auth.token(opts.signal);
    const url = /^https?:\/\//.test(pathOrUrl) ? pathOrUrl : `${first.endpoint}${pathOrUrl}`;
    return this.#http.send({
      operation,
      method,
      url,
      headers: { accept: 'application/json', ...(opts.body !== undefined ? { 'content-type': 'application/json' } : {}) },
      ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}),
      idempotent: opts.idempotent,
      signal: opts.signal,
      ...(opts.accept ? { accept: opts.accept } : {}),
      prepare: async (r) => {
        r.headers['x-auth-token'] = (await this.#auth.token(opts.signal)).token;
      },
      onUnauthorized: () => this.#auth.invalidate(),
    });
  }

  /** Resolve a Location from a 302 against our endpoint's origin (Heat builds it from its own host name). */
  async #follow(location: string): Promise<string> {
    const endpoint = new URL((await this.#auth.token()).endpoint);
    const loc = new URL(location, endpoint);
    return `${endpoint.origin}${loc.pathname}${loc.search}`;
  }

  async get(ref: StackRef, ctx?: ReadContext): Promise<StackView | null> {
    const signal = ctx?.signal;
    const okOr404 = (s: number): boolean => (s >= 200 && s < 300) || s === 404;
    let res: HttpResponse;
    if (ref.id) {
      res = await this.#call('get', 'GET', `/stacks/${enc(ref.name)}/${enc(ref.id)}`, { idempotent: true, signal, accept: okOr404 });
    } else {
      res = await this.#call('get', 'GET', `/stacks/${enc(ref.name)}`, {
        idempotent: true,
        signal,
        accept: (s) => okOr404(s) || s === 302 || s === 301 || s === 307,
      });
      const location = res.headers['location'];
      if (res.status >= 300 && res.status < 400 && location) {
        res = await this.#call('get', 'GET', await this.#follow(location), { idempotent: true, signal, accept: okOr404 });
      }
    }
    if (res.status === 404) return null;
    const body = parseJson(res.text);
    const stack = isRecord(body) && isRecord(body['stack']) ? body['stack'] : undefined;
    if (!stack) throw new ProviderError('Transient', 'heat: stack show returned no stack object', { code: 'BadResponse' });
    const view = heatStackView(stack);
    if (ref.id && view.id !== ref.id) return null;
    if (view.name && view.name !== ref.name) return null;
    if (view.phase === 'Deleted') return null;
    return view;
  }

  #body(input: StackInput, forCreate: boolean): Record<string, unknown> {
    const environment = input.environment ?? input.options['environment'];
    const files = input.files ?? (isRecord(input.options['files']) ? input.options['files'] : undefined);
    // Heat takes the template as an object or a string, or fetches template_url itself.
    const source = templateSource(input, 'heat');
    return {
      ...(forCreate ? { stack_name: input.name } : {}),
      ...('url' in source ? { template_url: source.url } : { template: input.template }),
      parameters: input.parameters,
      ...(environment !== undefined ? { environment } : {}),
      ...(files !== undefined ? { files } : {}),
      disable_rollback: input.disableRollback,
      timeout_mins: input.timeoutMinutes,
      tags: heatTags(input.tags, input.ownerUid),
    };
  }

  async create(input: StackInput, ctx: CallContext): Promise<{ id: string }> {
    // Heat has no idempotency token: a create is never re-sent blindly. A lost response surfaces as
    // 409 StackExists on the next try (Conflict), after which the controller finds the stack by name.
    const res = await this.#call('create', 'POST', '/stacks', { body: this.#body(input, true), idempotent: false, signal: ctx.signal });
    const body = parseJson(res.text);
    const id = isRecord(body) && isRecord(body['stack']) ? str(body['stack']['id']) : undefined;
    if (!id) throw new ProviderError('Transient', 'heat: create returned no stack id', { code: 'BadResponse' });
    return { id };
  }

  async update(ref: Required<StackRef>, input: StackInput, ctx: CallContext): Promise<void> {
    // PATCH (existing=true) merges parameters over the stored ones: that is usePreviousParameters.
    const method = input.usePreviousParameters ? 'PATCH' : 'PUT';
    await this.#call('update', method, `/stacks/${enc(ref.name)}/${enc(ref.id)}`, {
      body: this.#body(input, false),
      idempotent: false,
      signal: ctx.signal,
    });
  }

  async cancelUpdate(ref: Required<StackRef>, mode: CancelMode, ctx: CallContext): Promise<void> {
    if (!this.capabilities.cancelModes.includes(mode)) throw invalidInput(`heat: unknown cancel mode ${mode}`, 'spec.updatePolicy.cancelMode');
    const action = mode === 'Rollback' ? { cancel_update: null } : { cancel_without_rollback: null };
    // No idempotency token: the HTTP layer does not re-send it; the controller reads and decides.
    await this.#call('cancel', 'POST', `/stacks/${enc(ref.name)}/${enc(ref.id)}/actions`, { body: action, idempotent: false, signal: ctx.signal });
  }

  async delete(ref: Required<StackRef>, opts: { retainResources: boolean }, ctx: CallContext): Promise<void> {
    if (opts.retainResources) throw invalidInput('heat cannot delete a stack and keep its resources', 'spec.deletionPolicy');
    await this.#call('delete', 'DELETE', `/stacks/${enc(ref.name)}/${enc(ref.id)}`, {
      idempotent: false, // no idempotency token: a lost reply is settled by the next read, not a blind re-send
      signal: ctx.signal,
      accept: (s) => (s >= 200 && s < 300) || s === 404,
    });
  }

  async setDeletionProtection(): Promise<void> {
    // Heat has no deletion-protection flag: the operator enforces protection itself.
  }

  async outputs(ref: Required<StackRef>, ctx?: ReadContext): Promise<StackOutput[]> {
    const view = await this.get(ref, ctx);
    if (!view) throw new ProviderError('NotFound', `heat: stack ${ref.name}/${ref.id} not found`, { code: 'EntityNotFound', httpStatus: 404 });
    return view.outputs ?? [];
  }

  async events(ref: Required<StackRef>, opts: { limit: number }, ctx?: ReadContext): Promise<StackEvent[]> {
    const limit = Math.max(1, Math.min(100, Math.floor(opts.limit)));
    const res = await this.#call('events', 'GET', `/stacks/${enc(ref.name)}/${enc(ref.id)}/events?limit=${limit}&sort_dir=desc`, {
      idempotent: true,
      signal: ctx?.signal,
    });
    const body = parseJson(res.text);
    const list = isRecord(body) && Array.isArray(body['events']) ? body['events'] : [];
    const events: StackEvent[] = [];
    for (const e of list) {
      if (!isRecord(e)) continue;
      const reason = str(e['resource_status_reason']);
      const resourceName = str(e['resource_name']) ?? str(e['logical_resource_id']);
      const action = str(e['resource_action']);
      let status = str(e['resource_status']) ?? '';
      if (action && !status.startsWith(`${action}_`)) status = `${action}_${status}`;
      events.push({ id: str(e['id']) ?? '', time: str(e['event_time']) ?? '', status, ...(resourceName ? { resourceName } : {}), ...(reason ? { reason } : {}) });
    }
    events.sort((a, b) => (a.time < b.time ? 1 : a.time > b.time ? -1 : 0));
    return events.slice(0, limit);
  }

  /** Plan / approve: Heat's own previews, which change nothing (docs/plan-approve.md). */
  async preview(input: StackInput, ref: Required<StackRef> | undefined, ctx: CallContext): Promise<StackPreview> {
    if (!ref) {
      const res = await this.#call('preview', 'POST', '/stacks/preview', { body: this.#body(input, true), idempotent: true, signal: ctx.signal });
      return heatCreatePreview(parseJson(res.text));
    }
    // The same method and body as the update it previews (PATCH is usePreviousParameters).
    const method = input.usePreviousParameters ? 'PATCH' : 'PUT';
    const res = await this.#call('preview', method, `/stacks/${enc(ref.name)}/${enc(ref.id)}/preview`, {
      body: this.#body(input, false),
      idempotent: true,
      signal: ctx.signal,
    });
    return heatUpdatePreview(parseJson(res.text));
  }

  async checkConnection(ctx?: ReadContext): Promise<void> {
    await this.#call('list', 'GET', '/stacks?limit=1', { idempotent: true, signal: ctx?.signal });
  }

  async close(): Promise<void> {
    await this.#http.close();
  }
}
