// Alibaba Cloud ROS legacy REST API (2015-09-01, ROA style, "acs AK:signature"). Shares the ROS stack
// store with the RPC front-end (same region scope).
import type { EmulatorContext } from '../context.ts';
import { EngineError, type StackRecord } from '../engine/engine.ts';
import { parseTemplate, TemplateError } from '../engine/template.ts';
import { BadJson, empty, header, isObj, json, parseJsonBody, requestId, type EmuRequest, type EmuResponse, type FrontEnd } from '../http.ts';
import { verifyRoa } from '../signing.ts';
import { rosStatus, rosTime } from './ros.ts';

function legacyError(status: number, code: string, message: string): EmuResponse {
  const rid = requestId().toUpperCase();
  return json(status, { Code: code, Message: message, RequestId: rid, HostId: 'ros.aliyuncs.com' }, { 'x-acs-request-id': rid });
}

class LegacyFail extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function fail(status: number, code: string, message: string): never {
  throw new LegacyFail(status, code, message);
}

const NAME_RE = /^[a-zA-Z][a-zA-Z0-9_.-]{0,254}$/;

export class RosLegacyFrontEnd implements FrontEnd {
  readonly service = 'rosLegacy' as const;
  readonly prefix = '/ros-legacy';
  readonly #ctx: EmulatorContext;

  constructor(ctx: EmulatorContext) {
    this.#ctx = ctx;
  }

  operation(req: EmuRequest): string {
    const s = req.path.split('/').filter(Boolean);
    if (s[0] !== 'stacks') return 'other';
    if (s.length === 1) return req.method === 'POST' ? 'CreateStack' : 'ListStacks';
    if (s.length === 2) return 'FindStack';
    if (s.length === 3) return req.method === 'PUT' ? 'UpdateStack' : req.method === 'DELETE' ? 'DeleteStack' : 'DescribeStack';
    return s[3] === 'events' ? 'DescribeEvents' : s[3] === 'resources' ? 'DescribeResources' : 'other';
  }

  throttled(): EmuResponse {
    return legacyError(400, 'Throttling.User', 'Request was denied due to user flow control.');
  }

  serverError(_req: EmuRequest, status: number): EmuResponse {
    return legacyError(status, status === 503 ? 'ServiceUnavailable' : 'InternalError', 'Server-side unknown exception (injected fault).');
  }

  handle(req: EmuRequest): EmuResponse {
    try {
      const v = verifyRoa({ method: req.method, rawPath: req.rawPath, rawQuery: req.rawQuery, headers: req.headers, body: req.body }, (ak) => this.#ctx.rosKeys.secret(ak));
      if (!v.ok) {
        if (v.reason === 'unknown-key') fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
        if (v.reason === 'missing' || v.reason === 'malformed') fail(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards. ${v.detail}`);
        fail(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
      }
      const version = header(req, 'x-acs-version');
      if (version !== undefined && version !== '2015-09-01') fail(400, 'InvalidVersion', `Specified parameter Version is not valid: ${version}.`);
      const res = this.#route(req);
      res.headers = { 'x-acs-request-id': requestId().toUpperCase(), ...res.headers };
      return res;
    } catch (e) {
      if (e instanceof LegacyFail) return legacyError(e.status, e.code, e.message);
      if (e instanceof BadJson) return legacyError(400, 'InvalidParameter', 'The request body is not valid JSON.');
      if (e instanceof TemplateError) return legacyError(400, e.kind === 'InvalidTemplate' ? 'InvalidSchemaError' : e.kind, e.message);
      if (e instanceof EngineError) {
        const map: Record<string, [number, string]> = {
          NotFound: [404, 'StackNotFound'],
          Exists: [409, 'StackExists'],
          InProgress: [409, 'ActionInProgress'],
          NotSupported: [404, 'NotSupported'],
          Protected: [400, 'InvalidOperation.DeletionProtection'],
          UserParameterMissing: [400, 'UserParameterMissing'],
          UnknownUserParameter: [400, 'UnknownUserParameter'],
          ImmutableParameterModified: [400, 'StackValidationFailed'],
        };
        const [status, code] = map[e.kind] ?? [500, 'InternalError'];
        return legacyError(status, code, e.message);
      }
      throw e;
    }
  }

  #region(req: EmuRequest): string {
    return header(req, 'x-acs-region-id') ?? req.url.searchParams.get('RegionId') ?? fail(400, 'MissingParameter', 'x-acs-region-id is mandatory for this request.');
  }

  #find(region: string, name: string, id: string): StackRecord {
    const s = this.#ctx.engine.get(id);
    if (!s || s.provider !== 'ros' || s.scope !== region || s.name !== name || s.deleted) fail(404, 'StackNotFound', `The Stack (${name}) could not be found.`);
    return s;
  }

  /** Seed 003 (Update a stack): a parameter the API does not have is 404 NotSupported "%(feature)s is not supported." */
  #body(req: EmuRequest, allowed: readonly string[]): Record<string, unknown> {
    const b = parseJsonBody(req);
    if (!isObj(b)) fail(400, 'InvalidParameter', 'The request body must be a JSON object.');
    const extra = Object.keys(b).find((k) => !allowed.includes(k));
    if (extra !== undefined) fail(404, 'NotSupported', `${extra} is not supported.`);
    return b;
  }

  #route(req: EmuRequest): EmuResponse {
    const s = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    const engine = this.#ctx.engine;
    if (s[0] !== 'stacks') fail(404, 'NotFound', 'The resource could not be found.');
    const region = this.#region(req);
    if (s.length === 1 && req.method === 'POST') return this.#create(req, region);
    if (s.length === 1 && req.method === 'GET') {
      const list = engine.list({ provider: 'ros', scope: region });
      return json(200, { TotalCount: list.length, PageNumber: 1, PageSize: list.length, Stacks: list.map((x) => this.#summary(x, region)) });
    }
    if (s.length === 2 && req.method === 'GET') {
      const st = engine.findByName('ros', region, s[1]!);
      if (!st) fail(404, 'StackNotFound', `The Stack (${s[1]}) could not be found.`);
      return { status: 302, headers: { location: `${req.svc('rosLegacy')}/stacks/${encodeURIComponent(st.name)}/${st.id}` }, body: '' };
    }
    if (s.length < 3) fail(404, 'NotFound', 'The resource could not be found.');
    const st = this.#find(region, s[1]!, s[2]!);
    if (s.length === 3) return this.#stackItem(req, st, region);
    if (s[3] === 'events' && req.method === 'GET') return this.#events(st);
    if (s[3] === 'resources' && req.method === 'GET') {
      return json(
        200,
        [...st.resources.values()].map((r) => ({ Id: r.name, Name: r.name, Type: r.type, PhysicalId: r.physicalId, Status: `${r.action}_${r.status}`, StatusReason: r.statusReason, Created: rosTime(r.createdAt), Updated: rosTime(r.updatedAt ?? r.createdAt) })),
      );
    }
    fail(404, 'NotFound', 'The resource could not be found.');
  }

  #create(req: EmuRequest, region: string): EmuResponse {
    const b = this.#body(req, ['Name', 'Template', 'Parameters', 'DisableRollback', 'TimeoutMins']);
    const name = b.Name;
    if (typeof name !== 'string' || !NAME_RE.test(name)) fail(400, 'InvalidParameter', 'Name is mandatory and must match ^[a-zA-Z][a-zA-Z0-9_.-]*$.');
    if (b.Template === undefined) fail(400, 'InvalidTemplateVersion', 'Template version was not provided.');
    const template = parseTemplate(b.Template, 'ros');
    const st = this.#ctx.engine.create({
      provider: 'ros',
      scope: region,
      name,
      template,
      params: isObj(b.Parameters) ? b.Parameters : {},
      disableRollback: b.DisableRollback === true,
      timeoutMins: typeof b.TimeoutMins === 'number' ? b.TimeoutMins : 60,
    });
    return json(201, { Id: st.id, Name: st.name });
  }

  /** GET / PUT / DELETE on /stacks/:name/:id (PATCH is refused as the legacy API does). */
  #stackItem(req: EmuRequest, st: StackRecord, region: string): EmuResponse {
    if (req.method === 'GET') return json(200, this.#detail(st, region));
    if (req.method === 'PATCH') fail(404, 'NotSupported', 'PATCH update is not supported.');
    if (req.method === 'PUT') return this.#update(req, st);
    if (req.method === 'DELETE') {
      if (st.status === 'IN_PROGRESS' && st.action !== 'DELETE') {
        this.#ctx.engine.countCall('ros', st.scope, st.name, 'rejected', st.id);
        fail(409, 'ActionInProgress', `Stack ${st.name} already has an action (${st.action}) in progress.`);
      }
      this.#ctx.engine.delete(st.id);
      return empty(204);
    }
    fail(405, 'MethodNotAllowed', 'The method is not allowed for this resource.');
  }

  #update(req: EmuRequest, st: StackRecord): EmuResponse {
    const engine = this.#ctx.engine;
    const b = this.#body(req, ['Template', 'Parameters', 'DisableRollback', 'TimeoutMins']);
    if (b.Template === undefined) fail(400, 'InvalidTemplateVersion', 'Template version was not provided.');
    if (st.status === 'IN_PROGRESS') {
      engine.countCall('ros', st.scope, st.name, 'rejected', st.id);
      fail(409, 'ActionInProgress', `Stack ${st.name} already has an action (${st.action}) in progress.`);
    }
    engine.update(st.id, {
      template: parseTemplate(b.Template, 'ros'),
      params: isObj(b.Parameters) ? b.Parameters : {},
      paramMode: 'replace',
      ...(typeof b.DisableRollback === 'boolean' ? { disableRollback: b.DisableRollback } : {}),
      ...(typeof b.TimeoutMins === 'number' ? { timeoutMins: b.TimeoutMins } : {}),
      whileInProgress: 'reject',
    });
    return json(200, { Id: st.id, Name: st.name });
  }

  #events(st: StackRecord): EmuResponse {
    const events = [...st.events].reverse().map((e) => ({
      Id: e.id,
      LogicalResourceId: e.resourceName,
      PhysicalResourceId: e.physicalResourceId,
      ResourceType: e.stack ? 'ALIYUN::ROS::Stack' : e.resourceType,
      Status: e.stack && e.action === 'ROLLBACK' ? rosStatus({ action: 'ROLLBACK', status: e.status, rollbackOf: st.operations.find((o) => o.id === st.operations.find((x) => x.id === e.opId)?.rollbackOf)?.action }) : `${e.action}_${e.status}`,
      StatusReason: e.reason,
      Time: rosTime(e.time),
    }));
    return json(200, { TotalCount: events.length, PageNumber: 1, PageSize: events.length, Events: events });
  }

  #summary(s: StackRecord, region: string): Record<string, unknown> {
    return {
      Id: s.id,
      Name: s.name,
      Region: region,
      Status: rosStatus(s),
      StatusReason: s.statusReason,
      Description: s.description,
      Created: rosTime(s.createdAt),
      Updated: s.updatedAt !== undefined ? rosTime(s.updatedAt) : null,
      DisableRollback: s.disableRollback,
      TimeoutMins: s.timeoutMins,
    };
  }

  #detail(s: StackRecord, region: string): Record<string, unknown> {
    const engine = this.#ctx.engine;
    let params: Record<string, unknown> = {};
    if (s.template) {
      try {
        params = engine.effectiveParams(s.template, s.params);
      } catch {
        params = { ...s.params };
      }
    }
    const display: Record<string, string> = {};
    for (const [k, v] of Object.entries(params)) display[k] = typeof v === 'string' ? v : JSON.stringify(v);
    Object.assign(display, { 'ALIYUN::Region': region, 'ALIYUN::StackId': s.id, 'ALIYUN::StackName': s.name });
    return {
      ...this.#summary(s, region),
      TemplateDescription: s.template?.description ?? '',
      Parameters: display,
      Outputs: s.status === 'IN_PROGRESS' ? [] : engine.outputs(s).map((o) => ({ OutputKey: o.key, OutputValue: o.value, Description: o.description ?? '' })),
    };
  }
}
