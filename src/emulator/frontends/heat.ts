// OpenStack Heat orchestration API v1 (also Huawei / OTC RTS), convergence-engine behaviour.
import type { EmulatorContext } from '../context.ts';
import { EngineError, type StackEvent, type StackRecord } from '../engine/engine.ts';
import { parseTemplate, TemplateError, text, type Template } from '../engine/template.ts';
import { BadJson, empty, header, isObj, isoSeconds, json, parseJsonBody, type EmuRequest, type EmuResponse, type FrontEnd } from '../http.ts';
import { fetchText, UrlFetchError } from '../url-fetch.ts';

const TITLES: Record<number, [string, string]> = {
  400: ['Bad Request', 'The server could not comply with the request since it is either malformed or otherwise incorrect.'],
  401: ['Unauthorized', 'This server could not verify that you are authorized to access the document you requested. Either you supplied the wrong credentials (e.g., bad password), or your browser does not understand how to supply the credentials required.'],
  403: ['Forbidden', 'Access was denied to this resource.'],
  404: ['Not Found', 'The resource could not be found.'],
  405: ['Method Not Allowed', 'The method specified is not allowed for this resource.'],
  409: ['Conflict', 'There was a conflict when trying to complete your request.'],
  413: ['Request Entity Too Large', 'The request is too large.'],
  429: ['Too Many Requests', 'The rate limit has been exceeded.'],
  500: ['Internal Server Error', 'The server has either erred or is incapable of performing the requested operation.'],
  502: ['Bad Gateway', 'Bad gateway.'],
  503: ['Service Unavailable', 'The server is currently unavailable. Please try again at a later time.'],
  504: ['Gateway Timeout', 'The gateway has timed out.'],
};

/** Heat's fault-middleware error body. */
export function heatError(status: number, type: string, message: string, headers: Record<string, string> = {}): EmuResponse {
  const [title, explanation] = TITLES[status] ?? ['Error', message];
  return json(status, { code: status, title, explanation, error: { type, message, traceback: null } }, headers);
}

const ENGINE_ERRORS: Record<string, [number, string]> = {
  NotFound: [404, 'EntityNotFound'],
  Exists: [409, 'StackExists'],
  InProgress: [409, 'ActionInProgress'],
  NotSupported: [400, 'NotSupported'],
  Protected: [400, 'NotSupported'],
  UserParameterMissing: [400, 'UserParameterMissing'],
  UnknownUserParameter: [400, 'UnknownUserParameter'],
  ImmutableParameterModified: [400, 'ImmutableParameterModified'],
};

function fromError(e: unknown): EmuResponse {
  if (e instanceof EngineError) {
    const [status, type] = ENGINE_ERRORS[e.kind] ?? [500, 'Error'];
    return heatError(status, type, e.message);
  }
  if (e instanceof TemplateError) return heatError(400, e.kind === 'InvalidTemplate' ? 'InvalidTemplateVersion' : e.kind, e.message);
  if (e instanceof BadJson) return heatError(400, 'HTTPBadRequest', 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
  throw e;
}

const REDIRECT_SUBS_GET_POST = new Set(['resources', 'events', 'template', 'actions']);
const REDIRECT_SUBS_GET = new Set(['environment', 'files']);
const NAME_RE = /^[a-zA-Z][a-zA-Z0-9_.-]*$/;
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

function paramsFrom(v: unknown): Record<string, unknown> {
  return isObj(v) ? { ...v } : {};
}

function tagsFrom(v: unknown): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (Array.isArray(v)) return v.map((x) => text(x));
  return text(v)
    .split(',')
    .map((t) => t.trim())
    .filter((t) => t !== '');
}

function displayParam(v: unknown): string {
  if (typeof v === 'string') return v;
  if (typeof v === 'boolean') return v ? 'True' : 'False';
  if (Array.isArray(v)) return v.map((x) => text(x)).join(',');
  return text(v);
}

function wantsJson(req: EmuRequest): boolean {
  return (header(req, 'accept') ?? '').includes('application/json');
}

function truthy(v: unknown): boolean {
  return v === true || (typeof v === 'string' && ['true', '1', 'yes', 'y', 't', 'on'].includes(v.toLowerCase()));
}

export class HeatFrontEnd implements FrontEnd {
  readonly service = 'heat' as const;
  readonly prefix = '/heat';
  readonly #ctx: EmulatorContext;

  constructor(ctx: EmulatorContext) {
    this.#ctx = ctx;
  }

  operation(req: EmuRequest): string {
    const s = req.path.split('/').filter(Boolean);
    if (s[2] !== 'stacks') return 'other';
    const m = req.method;
    if (s.length === 3) return m === 'POST' ? 'create' : 'list';
    if (s.length === 4 && s[3] === 'preview' && m === 'POST') return 'preview';
    const sub = s.length >= 6 ? s[5] : s.length === 5 && (REDIRECT_SUBS_GET_POST.has(s[4]!) || REDIRECT_SUBS_GET.has(s[4]!)) ? s[4] : undefined;
    if (sub === 'actions') return 'cancel';
    if (sub) return sub;
    if (m === 'PUT' || m === 'PATCH') return 'update';
    if (m === 'DELETE') return 'delete';
    return 'get';
  }

  throttled(_req: EmuRequest, retryAfter: number): EmuResponse {
    return heatError(429, 'RequestLimitExceeded', 'Request limit exceeded: too many requests', { 'retry-after': String(retryAfter) });
  }

  serverError(_req: EmuRequest, status: number): EmuResponse {
    return heatError(status, status === 503 ? 'ServiceUnavailable' : 'InternalServerError', 'Injected fault: the emulator was asked to fail this request.');
  }

  async handle(req: EmuRequest): Promise<EmuResponse> {
    const res = (await this.#fetchTemplateUrl(req)) ?? this.#route(req);
    res.headers = { 'x-openstack-request-id': `req-${crypto.randomUUID()}`, ...res.headers };
    return res;
  }

  /**
   * Heat fetches template_url itself when no template is given (heat.common.urlfetch, limit
   * max_template_size 524288); the fetched text replaces the URL before routing. A failure is Heat's
   * 400 "Could not retrieve template: Failed to retrieve template: ...".
   */
  async #fetchTemplateUrl(req: EmuRequest): Promise<EmuResponse | undefined> {
    if (!['POST', 'PUT', 'PATCH'].includes(req.method) || !header(req, 'content-type')?.includes('json')) return undefined;
    let body: unknown;
    try {
      body = parseJsonBody(req);
    } catch {
      return undefined;
    }
    if (!isObj(body) || typeof body.template_url !== 'string' || (body.template !== undefined && body.template !== null)) return undefined;
    try {
      const template = await fetchText(body.template_url, { maxBytes: 524_288 });
      req.body = Buffer.from(JSON.stringify({ ...body, template }));
      return undefined;
    } catch (e) {
      if (!(e instanceof UrlFetchError)) throw e;
      return heatError(400, 'HTTPBadRequest', `Could not retrieve template: Failed to retrieve template: ${e.message}`);
    }
  }

  #route(req: EmuRequest): EmuResponse {
    const s = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (s.length === 0 && req.method === 'GET') {
      return json(300, { versions: [{ id: 'v1.0', status: 'CURRENT', links: [{ rel: 'self', href: `${req.svc('heat')}/v1/` }] }] });
    }
    if (s[0] !== 'v1' || s.length < 2) return heatError(404, 'HTTPNotFound', 'The resource could not be found.');
    if (!this.#ctx.options.heatNoAuth) {
      const token = this.#ctx.tokens.validate(header(req, 'x-auth-token'), 'keystone');
      if (!token) {
        return json(
          401,
          { error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' } },
          { 'www-authenticate': `Keystone uri="${req.svc('keystone')}"` },
        );
      }
    }
    const tenant = s[1]!;
    if (s[2] !== 'stacks') return heatError(404, 'HTTPNotFound', 'The resource could not be found.');
    try {
      if (s.length === 3) {
        if (req.method === 'GET') return this.#list(req, tenant);
        if (req.method === 'POST') return this.#create(req, tenant);
        return heatError(405, 'HTTPMethodNotAllowed', 'The method specified is not allowed for this resource.');
      }
      if (s.length === 4 && s[3] === 'preview' && req.method === 'POST') return this.#previewCreate(req, tenant);
      const name = s[3]!;
      const redirectable =
        s.length === 4 ||
        (s.length === 5 && (REDIRECT_SUBS_GET_POST.has(s[4]!) ? req.method === 'GET' || req.method === 'POST' : REDIRECT_SUBS_GET.has(s[4]!) && req.method === 'GET'));
      if (redirectable) {
        const stack = this.#lookup(tenant, name);
        if (!stack) return heatError(404, 'EntityNotFound', `The Stack (${name}) could not be found.`);
        const sub = s.length === 5 ? `/${s[4]}` : '';
        const q = req.rawQuery ? `?${req.rawQuery}` : '';
        const location = `${req.svc('heat')}/v1/${tenant}/stacks/${encodeURIComponent(stack.name)}/${stack.id}${sub}${q}`;
        if (wantsJson(req)) return json(302, { message: `The resource was found at <a href="${location}">${location}</a>;\nyou should be redirected automatically.\n\n`, code: '302 Found', title: 'Found' }, { location });
        return { status: 302, headers: { location, 'content-type': 'text/html; charset=UTF-8' }, body: `<html>\n <head>\n  <title>302 Found</title>\n </head>\n <body>\n  <h1>302 Found</h1>\n  The resource was found at <a href="${location}">${location}</a>;\nyou should be redirected automatically.\n\n\n </body>\n</html>` };
      }
      const id = s[4]!;
      const stack = this.#ctx.engine.get(id);
      if (!stack || stack.provider !== 'heat' || stack.scope !== tenant || stack.name !== name) {
        return heatError(404, 'EntityNotFound', `The Stack (${name}) could not be found.`);
      }
      const rest = s.slice(5);
      return this.#stackRoute(req, tenant, stack, rest);
    } catch (e) {
      return fromError(e);
    }
  }

  #lookup(tenant: string, nameOrId: string): StackRecord | undefined {
    const byName = this.#ctx.engine.findByName('heat', tenant, nameOrId);
    if (byName) return byName;
    if (UUID_RE.test(nameOrId)) {
      const s = this.#ctx.engine.get(nameOrId);
      if (s && s.provider === 'heat' && s.scope === tenant && !s.deleted) return s;
    }
    return undefined;
  }

  #selfLink(req: EmuRequest, tenant: string, s: StackRecord): string {
    return `${req.svc('heat')}/v1/${tenant}/stacks/${encodeURIComponent(s.name)}/${s.id}`;
  }

  #stackRoute(req: EmuRequest, tenant: string, stack: StackRecord, rest: string[]): EmuResponse {
    const m = req.method;
    const engine = this.#ctx.engine;
    if (rest.length === 0) {
      if (m === 'GET') {
        const resolveOutputs = req.url.searchParams.get('resolve_outputs');
        return json(200, { stack: this.#view(req, tenant, stack, true, resolveOutputs === null || truthy(resolveOutputs)) });
      }
      if (m === 'PUT' || m === 'PATCH') return this.#update(req, stack, m === 'PATCH');
      if (m === 'DELETE') {
        if (stack.deleted) return heatError(404, 'EntityNotFound', `The Stack (${stack.name}) could not be found.`);
        engine.delete(stack.id);
        return empty(204);
      }
      return heatError(405, 'HTTPMethodNotAllowed', 'The method specified is not allowed for this resource.');
    }
    const sub = rest[0]!;
    if (sub === 'actions' && m === 'POST') return this.#action(req, stack);
    if (sub === 'preview' && (m === 'PUT' || m === 'PATCH')) return this.#previewUpdate(req, stack, m === 'PATCH');
    if (m !== 'GET') return heatError(405, 'HTTPMethodNotAllowed', 'The method specified is not allowed for this resource.');
    switch (sub) {
      case 'outputs': {
        if (stack.deleted) return heatError(404, 'EntityNotFound', `The Stack (${stack.name}) could not be found.`);
        const outs = engine.outputs(stack);
        if (rest.length === 1) return json(200, { outputs: outs.map((o) => ({ output_key: o.key, description: o.description ?? 'No description given' })) });
        const o = outs.find((x) => x.key === rest[1]);
        if (!o) return heatError(404, 'NotFound', `Specified output key ${rest[1]} not found.`);
        return json(200, { output: this.#outputView(o) });
      }
      case 'events':
        return json(200, { events: this.#events(req, tenant, stack, undefined) });
      case 'resources': {
        if (rest.length === 1) return json(200, { resources: [...stack.resources.values()].map((r) => this.#resourceView(req, tenant, stack, r.name, false)) });
        const rname = rest[1]!;
        if (!stack.resources.has(rname)) return heatError(404, 'EntityNotFound', `The Resource (${rname}) could not be found.`);
        if (rest[2] === 'events') {
          const evs = this.#events(req, tenant, stack, rname);
          if (rest[3]) {
            const ev = evs.find((e) => e.id === rest[3]);
            return ev ? json(200, { event: ev }) : heatError(404, 'EntityNotFound', `The Event (${rest[3]}) could not be found.`);
          }
          return json(200, { events: evs });
        }
        return json(200, { resource: this.#resourceView(req, tenant, stack, rname, true) });
      }
      case 'template':
        return json(200, stack.template?.raw ?? {});
      case 'environment':
        return json(200, { parameters: {}, parameter_defaults: {}, resource_registry: { resources: {} }, encrypted_param_names: [], event_sinks: [], ...(isObj(stack.extra.environment) ? stack.extra.environment : {}) });
      case 'files':
        return json(200, isObj(stack.extra.files) ? stack.extra.files : {});
      default:
        return heatError(404, 'HTTPNotFound', 'The resource could not be found.');
    }
  }

  #parseTemplateField(body: Record<string, unknown>): Template | undefined {
    if (body.template !== undefined && body.template !== null) return parseTemplate(body.template, 'hot');
    return undefined;
  }

  #userParams(body: Record<string, unknown>, template: Template | undefined): Record<string, unknown> {
    const env = isObj(body.environment) ? body.environment : {};
    const params: Record<string, unknown> = {};
    const defaults = paramsFrom(env.parameter_defaults);
    for (const [k, v] of Object.entries(defaults)) if (!template || k in template.parameters) params[k] = v;
    Object.assign(params, paramsFrom(env.parameters), paramsFrom(body.parameters));
    return params;
  }

  #create(req: EmuRequest, tenant: string): EmuResponse {
    const body = parseJsonBody(req);
    if (!isObj(body)) return heatError(400, 'HTTPBadRequest', 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
    const name = body.stack_name;
    if (typeof name !== 'string' || name === '') return heatError(400, 'HTTPBadRequest', 'No stack name specified');
    if (!NAME_RE.test(name) || name.length > 255) {
      return heatError(400, 'StackValidationFailed', `Invalid stack name ${name} must contain only alphanumeric or "_-." characters, must start with alpha and must be 255 characters or less.`);
    }
    const template = this.#parseTemplateField(body);
    if (!template) return heatError(400, 'HTTPBadRequest', 'No template specified');
    const tags = tagsFrom(body.tags);
    const stack = this.#ctx.engine.create({
      provider: 'heat',
      scope: tenant,
      name,
      template,
      params: this.#userParams(body, template),
      disableRollback: body.disable_rollback === undefined ? true : truthy(body.disable_rollback),
      timeoutMins: typeof body.timeout_mins === 'number' ? body.timeout_mins : body.timeout_mins !== undefined && body.timeout_mins !== null ? Number(body.timeout_mins) : 60,
      ...(tags ? { tags } : {}),
      extra: { timeoutGiven: body.timeout_mins !== undefined && body.timeout_mins !== null, files: isObj(body.files) ? body.files : {}, environment: isObj(body.environment) ? body.environment : {} },
    });
    const href = this.#selfLink(req, tenant, stack);
    return json(201, { stack: { id: stack.id, links: [{ href, rel: 'self' }] } }, { location: href });
  }

  #update(req: EmuRequest, stack: StackRecord, patch: boolean): EmuResponse {
    const body = parseJsonBody(req) ?? {};
    if (!isObj(body)) return heatError(400, 'HTTPBadRequest', 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
    const existing = patch || truthy(body.existing);
    const template = this.#parseTemplateField(body);
    if (!template && !existing) return heatError(400, 'HTTPBadRequest', 'No template specified');
    if (stack.deleted) return heatError(404, 'EntityNotFound', `The Stack (${stack.name}) could not be found.`);
    const tags = tagsFrom(body.tags);
    const clear = Array.isArray(body.clear_parameters) ? body.clear_parameters.map(String) : [];
    if (existing && isObj(body.files)) stack.extra.files = { ...(isObj(stack.extra.files) ? stack.extra.files : {}), ...body.files };
    else if (!existing) stack.extra.files = isObj(body.files) ? body.files : {};
    this.#ctx.engine.update(stack.id, {
      ...(template ? { template } : {}),
      params: this.#userParams(body, template ?? stack.template ?? undefined),
      paramMode: existing ? 'patch' : 'replace',
      clearParams: clear,
      ...(tags !== undefined ? { tags } : existing ? {} : { tags: [] }),
      ...(body.disable_rollback !== undefined ? { disableRollback: truthy(body.disable_rollback) } : {}),
      ...(body.timeout_mins !== undefined && body.timeout_mins !== null ? { timeoutMins: Number(body.timeout_mins) } : {}),
      whileInProgress: 'supersede',
      waitInFlight: this.#ctx.options.heatCancelInterruptsInFlight !== true,
    });
    if (body.timeout_mins !== undefined && body.timeout_mins !== null) stack.extra.timeoutGiven = true;
    if (!wantsJson(req)) {
      return { status: 202, headers: { 'content-type': 'text/html; charset=UTF-8' }, body: '<html>\n <head>\n  <title>202 Accepted</title>\n </head>\n <body>\n  <h1>202 Accepted</h1>\n  The request is accepted for processing.<br /><br />\n\n\n\n </body>\n</html>' };
    }
    return json(202, { code: '202 Accepted', message: 'The request is accepted for processing.<br /><br />\n\n\n', title: 'Accepted' });
  }

  /** POST /stacks/preview: the stack as it would be created, every resource INIT (nothing is stored). */
  #previewCreate(req: EmuRequest, tenant: string): EmuResponse {
    const body = parseJsonBody(req);
    if (!isObj(body)) return heatError(400, 'HTTPBadRequest', 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
    const name = body.stack_name;
    if (typeof name !== 'string' || name === '') return heatError(400, 'HTTPBadRequest', 'No stack name specified');
    const template = this.#parseTemplateField(body);
    if (!template) return heatError(400, 'HTTPBadRequest', 'No template specified');
    if (this.#ctx.engine.findByName('heat', tenant, name)) return heatError(409, 'StackExists', `The Stack (${name}) already exists.`);
    const params = this.#userParams(body, template);
    this.#ctx.engine.validateParams(template, params);
    const resources = this.#ctx.engine.previewChanges(undefined, template, params).map((c) => ({
      resource_name: c.name,
      resource_type: c.type,
      resource_action: 'INIT',
      resource_status: 'COMPLETE',
      resource_status_reason: '',
      physical_resource_id: '',
      stack_name: name,
      required_by: [],
    }));
    return json(200, { stack: { id: 'None', stack_name: name, description: template.description || 'No description', disable_rollback: body.disable_rollback === undefined ? true : truthy(body.disable_rollback), resources } });
  }

  /** PUT|PATCH /stacks/{name}/{id}/preview: resource_changes by the same diff the update would run. */
  #previewUpdate(req: EmuRequest, stack: StackRecord, patch: boolean): EmuResponse {
    const body = parseJsonBody(req) ?? {};
    if (!isObj(body)) return heatError(400, 'HTTPBadRequest', 'The server could not comply with the request since it is either malformed or otherwise incorrect.');
    if (stack.deleted) return heatError(404, 'EntityNotFound', `The Stack (${stack.name}) could not be found.`);
    const existing = patch || truthy(body.existing);
    const template = this.#parseTemplateField(body) ?? (existing ? stack.template : null);
    if (!template) return heatError(400, 'HTTPBadRequest', 'No template specified');
    const given = this.#userParams(body, template);
    const params = existing ? { ...Object.fromEntries(Object.entries(stack.params).filter(([k]) => k in template.parameters)), ...given } : given;
    this.#ctx.engine.validateParams(template, params);
    const groups: Record<string, Record<string, unknown>[]> = { added: [], deleted: [], replaced: [], unchanged: [], updated: [] };
    const group = { create: 'added', delete: 'deleted', replace: 'replaced', unchanged: 'unchanged', update: 'updated' } as const;
    for (const c of this.#ctx.engine.previewChanges(stack, template, params)) {
      const r = stack.resources.get(c.name);
      groups[group[c.change]]!.push({
        resource_name: c.name,
        resource_type: c.type,
        resource_action: r?.action ?? 'INIT',
        resource_status: r?.status ?? 'COMPLETE',
        resource_status_reason: r?.statusReason ?? '',
        physical_resource_id: r?.physicalId ?? '',
        stack_identity: stack.id,
        stack_name: stack.name,
        updated_time: isoSeconds(r?.updatedAt ?? r?.createdAt ?? this.#ctx.engine.clock.now()),
      });
    }
    return json(200, { resource_changes: groups });
  }

  #action(req: EmuRequest, stack: StackRecord): EmuResponse {
    const body = parseJsonBody(req);
    if (!isObj(body) || Object.keys(body).length < 1) return heatError(400, 'HTTPBadRequest', 'No action specified');
    if (Object.keys(body).length > 1) return heatError(400, 'HTTPBadRequest', 'Multiple actions specified');
    const action = Object.keys(body)[0]!;
    const known = ['suspend', 'resume', 'check', 'cancel_update', 'cancel_without_rollback'];
    if (!known.includes(action)) return heatError(400, 'HTTPBadRequest', `Invalid action ${action} specified`);
    if (stack.deleted) return heatError(404, 'EntityNotFound', `The Stack (${stack.name}) could not be found.`);
    if (action === 'cancel_update' || action === 'cancel_without_rollback') {
      const withRollback = action === 'cancel_update';
      const allowed = withRollback ? ['UPDATE'] : ['UPDATE', 'CREATE'];
      if (!(stack.status === 'IN_PROGRESS' && allowed.includes(stack.action))) {
        this.#ctx.engine.countCall('heat', stack.scope, stack.name, 'rejected', stack.id);
        return heatError(400, 'NotSupported', `Cancelling update when stack is ${stack.action}_${stack.status} is not supported.`);
      }
      this.#ctx.engine.cancel(stack.id, { rollback: withRollback, waitInFlight: withRollback && this.#ctx.options.heatCancelInterruptsInFlight !== true });
      return { status: 200, headers: { 'content-type': 'application/json' }, body: 'null' };
    }
    return heatError(400, 'NotSupported', `Action ${action} is not supported.`);
  }

  #outputView(o: { key: string; value: unknown; description?: string; error?: string }): Record<string, unknown> {
    return {
      output_key: o.key,
      output_value: o.value,
      description: o.description ?? 'No description given',
      ...(o.error ? { output_error: o.error } : {}),
    };
  }

  #view(req: EmuRequest, tenant: string, s: StackRecord, detail: boolean, resolveOutputs: boolean): Record<string, unknown> {
    const base: Record<string, unknown> = {
      id: s.id,
      stack_name: s.name,
      description: s.description || 'No description',
      links: [{ href: this.#selfLink(req, tenant, s), rel: 'self' }],
      creation_time: isoSeconds(s.createdAt),
      updated_time: s.updatedAt !== undefined ? isoSeconds(s.updatedAt) : null,
      deletion_time: s.deletedAt !== undefined ? isoSeconds(s.deletedAt) : null,
      stack_status: `${s.action}_${s.status}`,
      stack_status_reason: s.statusReason,
      stack_owner: this.#ctx.credentials.keystone.username,
      parent: null,
      tags: Array.isArray(s.tags) ? s.tags : [],
      stack_user_project_id: tenant,
    };
    if (!detail) {
      // real Heat's list shows null tags when there are none and "" for a missing description
      return { ...base, tags: Array.isArray(s.tags) && s.tags.length > 0 ? s.tags : null, description: s.description };
    }
    const params: Record<string, string> = {};
    if (s.template) {
      let eff: Record<string, unknown> = {};
      try {
        eff = this.#ctx.engine.effectiveParams(s.template, s.params);
      } catch {
        eff = s.params;
      }
      for (const [k, v] of Object.entries(eff)) params[k] = s.template.parameters[k]?.hidden ? '******' : displayParam(v);
    }
    params['OS::stack_id'] = s.id;
    params['OS::stack_name'] = s.name;
    params['OS::project_id'] = tenant;
    return {
      ...base,
      template_description: s.template?.description ?? 'No description',
      disable_rollback: s.disableRollback,
      timeout_mins: s.extra.timeoutGiven === true ? s.timeoutMins : null,
      notification_topics: [],
      capabilities: [],
      parameters: params,
      ...(resolveOutputs ? { outputs: this.#ctx.engine.outputs(s).map((o) => this.#outputView(o)) } : {}),
    };
  }

  #resourceView(req: EmuRequest, tenant: string, s: StackRecord, name: string, detail: boolean): Record<string, unknown> {
    const r = s.resources.get(name)!;
    const self = this.#selfLink(req, tenant, s);
    return {
      resource_name: r.name,
      logical_resource_id: r.name,
      physical_resource_id: r.physicalId,
      resource_status: r.action === 'INIT' ? 'INIT_COMPLETE' : `${r.action}_${r.status}`,
      resource_status_reason: r.statusReason,
      resource_type: r.type,
      creation_time: isoSeconds(r.createdAt),
      updated_time: isoSeconds(r.updatedAt ?? r.createdAt),
      required_by: [],
      links: [
        { href: `${self}/resources/${encodeURIComponent(r.name)}`, rel: 'self' },
        { href: self, rel: 'stack' },
      ],
      ...(detail ? { attributes: r.attributes, description: '', parent_resource: null } : {}),
    };
  }

  #events(req: EmuRequest, tenant: string, s: StackRecord, resource: string | undefined): Record<string, unknown>[] {
    const q = req.url.searchParams;
    const self = this.#selfLink(req, tenant, s);
    let evs: StackEvent[] = s.events.filter((e) => resource === undefined || (!e.stack && e.resourceName === resource));
    const fAction = q.getAll('resource_action');
    const fStatus = q.getAll('resource_status');
    const fName = q.getAll('resource_name');
    const fType = q.getAll('resource_type');
    if (fAction.length) evs = evs.filter((e) => fAction.includes(e.action));
    if (fStatus.length) evs = evs.filter((e) => fStatus.includes(e.status));
    if (fName.length) evs = evs.filter((e) => fName.includes(e.resourceName));
    if (fType.length) evs = evs.filter((e) => fType.includes(e.resourceType));
    if (q.get('sort_dir') === 'desc') evs = [...evs].reverse();
    const marker = q.get('marker');
    if (marker) {
      const i = evs.findIndex((e) => e.id === marker);
      if (i >= 0) evs = evs.slice(i + 1);
    }
    const limit = Number(q.get('limit') ?? NaN);
    if (Number.isFinite(limit) && limit >= 0) evs = evs.slice(0, limit);
    return evs.map((e) => ({
      id: e.id,
      event_time: isoSeconds(e.time),
      resource_name: e.resourceName,
      logical_resource_id: e.resourceName,
      physical_resource_id: e.physicalResourceId,
      resource_status: `${e.action}_${e.status}`,
      resource_status_reason: e.reason,
      resource_type: e.resourceType,
      links: [
        { href: `${self}/resources/${encodeURIComponent(e.resourceName)}/events/${e.id}`, rel: 'self' },
        { href: `${self}/resources/${encodeURIComponent(e.resourceName)}`, rel: 'resource' },
        { href: self, rel: 'stack' },
      ],
    }));
  }

  #list(req: EmuRequest, tenant: string): EmuResponse {
    const q = req.url.searchParams;
    let stacks = this.#ctx.engine.list({ provider: 'heat', scope: tenant, includeDeleted: truthy(q.get('show_deleted')) });
    const f = (k: string): string[] => q.getAll(k);
    if (f('name').length) stacks = stacks.filter((s) => f('name').includes(s.name));
    if (f('id').length) stacks = stacks.filter((s) => f('id').includes(s.id));
    if (f('status').length) stacks = stacks.filter((s) => f('status').includes(s.status) || f('status').includes(`${s.action}_${s.status}`));
    if (f('action').length) stacks = stacks.filter((s) => f('action').includes(s.action));
    const tagList = (k: string): string[] => (q.get(k) ?? '').split(',').filter((t) => t !== '');
    const has = (s: StackRecord, t: string): boolean => Array.isArray(s.tags) && s.tags.includes(t);
    if (q.has('tags')) stacks = stacks.filter((s) => tagList('tags').every((t) => has(s, t)));
    if (q.has('tags_any')) stacks = stacks.filter((s) => tagList('tags_any').some((t) => has(s, t)));
    if (q.has('not_tags')) stacks = stacks.filter((s) => !tagList('not_tags').every((t) => has(s, t)));
    if (q.has('not_tags_any')) stacks = stacks.filter((s) => !tagList('not_tags_any').some((t) => has(s, t)));
    const dir = q.get('sort_dir') === 'asc' ? 1 : -1;
    const key = q.get('sort_keys') ?? 'created_at';
    stacks.sort((a, b) => {
      const va = key === 'stack_name' ? a.name : key === 'stack_status' ? `${a.action}_${a.status}` : key === 'updated_at' ? (a.updatedAt ?? 0) : a.createdAt;
      const vb = key === 'stack_name' ? b.name : key === 'stack_status' ? `${b.action}_${b.status}` : key === 'updated_at' ? (b.updatedAt ?? 0) : b.createdAt;
      return va < vb ? -dir : va > vb ? dir : 0;
    });
    const count = stacks.length;
    const marker = q.get('marker');
    if (marker) {
      const i = stacks.findIndex((s) => s.id === marker);
      if (i >= 0) stacks = stacks.slice(i + 1);
    }
    const limit = Number(q.get('limit') ?? NaN);
    if (Number.isFinite(limit) && limit >= 0) stacks = stacks.slice(0, limit);
    return json(200, { stacks: stacks.map((s) => this.#view(req, tenant, s, false, false)), ...(truthy(q.get('with_count')) ? { count } : {}) });
  }
}
