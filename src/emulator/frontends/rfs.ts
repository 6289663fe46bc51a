// Huawei Cloud RFS (Resource Formation Service, SDK service "aos") v1, AK/SK SDK-HMAC-SHA256 signed.
import type { EmulatorContext } from '../context.ts';
import { EngineError, type StackEvent, type StackRecord } from '../engine/engine.ts';
import { parseHclSubset, parseTemplate, TemplateError, type Template } from '../engine/template.ts';
import { BadJson, empty, header, isObj, isoSeconds, json, parseJsonBody, requestId, type EmuRequest, type EmuResponse, type FrontEnd } from '../http.ts';
import { verifyHuaweiSdkHmac } from '../signing.ts';
import { ExecutionPlans, PlanFail } from './rfs-plans.ts';
import { fetchText, UrlFetchError } from '../url-fetch.ts';

export function rfsError(status: number, code: string, msg: string): EmuResponse {
  return json(status, { error_code: code, error_msg: msg }, { 'x-request-id': requestId() });
}

const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,127}$/;

/** RFS stack status from the engine's (action, status). */
export function rfsStatus(s: StackRecord): string {
  if (s.empty && s.action === 'CREATE' && s.status === 'COMPLETE') return 'CREATION_COMPLETE';
  switch (s.action) {
    case 'CREATE':
    case 'UPDATE':
      return `DEPLOYMENT_${s.status}`;
    case 'ROLLBACK':
      return `ROLLBACK_${s.status}`;
    case 'DELETE':
      return `DELETION_${s.status}`;
  }
}

class RfsFail extends Error {
  readonly res: EmuResponse;
  constructor(res: EmuResponse) {
    super('rfs');
    this.res = res;
  }
}

function fail(status: number, code: string, msg: string): never {
  throw new RfsFail(rfsError(status, code, msg));
}

function parseVarsBody(text: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const raw of text.split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (!line) continue;
    const m = /^([A-Za-z_][A-Za-z0-9_-]*)\s*=\s*(.+)$/.exec(line);
    if (!m) fail(400, 'RF.10011001', `vars_body is invalid near: ${line}`);
    const v = m[2]!.trim();
    out[m[1]!] = v.startsWith('"') && v.endsWith('"') ? v.slice(1, -1) : v;
  }
  return out;
}

export class RfsFrontEnd implements FrontEnd {
  readonly service = 'rfs' as const;
  readonly prefix = '/rfs';
  readonly #ctx: EmulatorContext;
  readonly #replies = new Map<string, EmuResponse>();
  readonly #plans: ExecutionPlans;

  constructor(ctx: EmulatorContext) {
    this.#ctx = ctx;
    this.#plans = new ExecutionPlans(ctx.engine, ctx.options.rfsExecutionPlanDelayMs ?? 200);
  }

  operation(req: EmuRequest): string {
    const s = req.path.split('/').filter(Boolean);
    const m = req.method;
    if (s.length === 3) return m === 'POST' ? 'CreateStack' : 'ListStacks';
    if (s.length === 4) return m === 'PATCH' ? 'UpdateStack' : m === 'DELETE' ? 'DeleteStack' : 'other';
    const sub = s[4];
    if (sub === 'execution-plans') return planOperation(m, s.length);
    const map: Record<string, string> = {
      metadata: 'GetStackMetadata',
      deployments: 'DeployStack',
      deletion: 'DeleteStackEnhanced',
      events: 'ListStackEvents',
      outputs: 'ListStackOutputs',
      resources: 'ListStackResources',
      continuations: 'ContinueDeployStack',
    };
    return (sub && map[sub]) ?? 'other';
  }

  throttled(): EmuResponse {
    return rfsError(429, 'RF.10014001', 'Too many requests, please try again later.');
  }

  serverError(_req: EmuRequest, status: number): EmuResponse {
    return rfsError(status, 'RF.10010001', 'Internal server error (injected fault).');
  }

  async handle(req: EmuRequest): Promise<EmuResponse> {
    const v = verifyHuaweiSdkHmac({ method: req.method, rawPath: req.rawPath, rawQuery: req.rawQuery, headers: req.headers, body: req.body }, (ak) => this.#ctx.rfsKeys.secret(ak));
    if (!v.ok) {
      return json(401, { error_code: 'APIGW.0301', error_msg: `Incorrect IAM authentication information: ${v.detail}`, request_id: requestId() });
    }
    const fetchFailed = await this.#fetchTemplateUri(req);
    if (fetchFailed) return fetchFailed;
    const cri = header(req, 'client-request-id');
    if (!cri || cri.length < 36 || cri.length > 128) {
      return rfsError(400, 'RF.10011001', 'The request header Client-Request-Id is missing or invalid (36 to 128 characters).');
    }
    const op = this.operation(req);
    const mutating = ['CreateStack', 'UpdateStack', 'DeleteStack', 'DeployStack', 'DeleteStackEnhanced', 'ContinueDeployStack', 'CreateExecutionPlan', 'ApplyExecutionPlan', 'DeleteExecutionPlan'].includes(op);
    const dedupeKey = `${op}:${cri}`;
    if (mutating && this.#ctx.options.rfsDedupeClientRequestId) {
      const prior = this.#replies.get(dedupeKey);
      if (prior) return prior;
    }
    let res: EmuResponse;
    try {
      res = this.#route(req, op);
    } catch (e) {
      if (e instanceof RfsFail) res = e.res;
      else if (e instanceof PlanFail) res = rfsError(e.status, e.code, e.message);
      else if (e instanceof BadJson) res = rfsError(400, 'RF.10011033', 'The request body is not valid JSON.');
      else if (e instanceof TemplateError) res = rfsError(400, 'RF.10011073', `Invalid template body: ${e.message}`);
      else if (e instanceof EngineError) res = this.#engineError(e);
      else throw e;
    }
    if (mutating && this.#ctx.options.rfsDedupeClientRequestId && res.status < 300) {
      this.#replies.set(dedupeKey, res);
      if (this.#replies.size > 10_000) this.#replies.delete(this.#replies.keys().next().value!);
    }
    res.headers = { 'x-request-id': cri, ...res.headers };
    return res;
  }

  #engineError(e: EngineError): EmuResponse {
    switch (e.kind) {
      case 'NotFound':
        return rfsError(404, 'RF.10013001', 'Stack is not exist.');
      case 'Exists':
        return rfsError(409, 'RF.10013502', `The stack name already exists: ${e.message}`);
      case 'InProgress':
        return rfsError(409, 'RF.10013503', 'Another request is being processed on the stack, please try again later.');
      case 'Protected':
        return rfsError(403, 'RF.10012544', 'Stack cannot be deleted because deletion protection is enabled.');
      default:
        return rfsError(400, 'RF.10011001', e.message);
    }
  }

  #route(req: EmuRequest, op: string): EmuResponse {
    const s = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    if (s[0] !== 'v1' || s[2] !== 'stacks') fail(404, 'RF.10013001', 'The resource could not be found.');
    const project = s[1]!;
    const engine = this.#ctx.engine;
    if (op === 'CreateStack') return this.#create(req, project);
    if (op === 'ListStacks') return this.#listStacks(project);
    const name = s[3]!;
    const body = req.method === 'POST' || req.method === 'PATCH' ? parseJsonBody(req) : undefined;
    const b = isObj(body) ? body : {};
    const stackIdArg = typeof b.stack_id === 'string' ? b.stack_id : (req.url.searchParams.get('stack_id') ?? undefined);
    const stack = engine.findByName('rfs', project, name);
    if (!stack) fail(404, 'RF.10013001', 'Stack is not exist.');
    if (stackIdArg !== undefined && stackIdArg !== stack.id) {
      engine.countCall('rfs', project, name, 'rejected', stack.id);
      fail(400, 'RF.10011015', `The stack_id ${stackIdArg} does not match the stack ${name}.`);
    }
    switch (op) {
      case 'GetStackMetadata':
        return json(200, this.#metadata(stack));
      case 'ListStackOutputs':
        return this.#listOutputs(stack);
      case 'ListStackEvents':
        return json(200, { stack_events: this.#events(req, stack) });
      case 'ListStackResources':
        return this.#listResources(stack);
      case 'UpdateStack':
        return this.#updateMeta(stack, b);
      case 'DeployStack':
        return this.#deploy(stack, b);
      case 'ContinueDeployStack': {
        if (rfsStatus(stack) !== 'DEPLOYMENT_FAILED') fail(403, 'RF.10012547', `The stack cannot be continued in status ${rfsStatus(stack)}.`);
        const opr = engine.update(stack.id, { whileInProgress: 'reject', paramMode: 'patch' });
        return json(202, { deployment_id: opr.id });
      }
      case 'CreateExecutionPlan':
      case 'ListExecutionPlans':
      case 'GetExecutionPlan':
      case 'GetExecutionPlanMetadata':
      case 'ApplyExecutionPlan':
      case 'DeleteExecutionPlan':
        return this.#executionPlan(op, req, stack, b, s[5]);
      case 'DeleteStack':
      case 'DeleteStackEnhanced': {
        if (stack.status === 'IN_PROGRESS') {
          engine.countCall('rfs', project, name, 'rejected', stack.id);
          fail(403, 'RF.10012544', `Stack cannot be deleted due to invalid stack status: ${rfsStatus(stack)}.`);
        }
        engine.delete(stack.id, { retainResources: op === 'DeleteStackEnhanced' && b.retain_all_resources === true });
        return empty(202);
      }
      default:
        fail(404, 'RF.10013001', 'The resource could not be found.');
    }
  }

  /** The execution-plan APIs of one stack (rfs-plans.ts). */
  #executionPlan(op: string, req: EmuRequest, stack: StackRecord, b: Record<string, unknown>, planName: string | undefined): EmuResponse {
    const plans = this.#plans;
    if (op === 'ListExecutionPlans') return json(200, { execution_plans: plans.list(stack).map((p) => plans.summary(p, stack)) });
    if (op === 'CreateExecutionPlan') {
      const template = this.#template(b, true)!;
      const plan = plans.create(stack, b.execution_plan_name, template, this.#vars(b), { description: b.description, varsStructure: b.vars_structure });
      return json(201, { execution_plan_id: plan.id });
    }
    const id = typeof b.execution_plan_id === 'string' ? b.execution_plan_id : req.url.searchParams.get('execution_plan_id');
    const plan = plans.find(stack, planName ?? '', id);
    switch (op) {
      case 'GetExecutionPlan':
        return json(200, { execution_plan_items: plans.items(plan, stack) });
      case 'GetExecutionPlanMetadata':
        return json(200, plans.metadata(plan, stack));
      case 'ApplyExecutionPlan':
        return json(202, { deployment_id: plans.apply(plan, stack) });
      default:
        plans.delete(plan, stack);
        return empty(204);
    }
  }

  #listStacks(project: string): EmuResponse {
    return json(200, {
      stacks: this.#ctx.engine.list({ provider: 'rfs', scope: project }).map((x) => ({
        stack_name: x.name,
        stack_id: x.id,
        description: x.description,
        status: rfsStatus(x),
        ...(x.status === 'FAILED' ? { status_message: x.statusReason } : {}),
        create_time: isoSeconds(x.createdAt),
        update_time: isoSeconds(x.updatedAt ?? x.createdAt),
      })),
    });
  }

  #listOutputs(stack: StackRecord): EmuResponse {
    if (stack.status === 'IN_PROGRESS') return json(200, { outputs: [] });
    return json(200, {
      outputs: this.#ctx.engine.outputs(stack).map((o) => ({
        name: o.key,
        description: o.description ?? '',
        type: o.sensitive ? '<sensitive>' : typeof o.value === 'number' ? 'number' : typeof o.value === 'boolean' ? 'bool' : Array.isArray(o.value) ? 'tuple' : isObj(o.value) ? 'object' : 'string',
        value: o.sensitive ? '<sensitive>' : JSON.stringify(o.value ?? null),
        sensitive: o.sensitive,
      })),
    });
  }

  #listResources(stack: StackRecord): EmuResponse {
    return json(200, {
      stack_resources: [...stack.resources.values()].map((r) => {
        // RFS resource names are `<terraform type>.<name>`; split them back into type and logical name.
        const [type, rname] = r.name.includes('.') ? [r.name.split('.')[0]!, r.name.split('.').slice(1).join('.')] : [r.type, r.name];
        return {
          physical_resource_id: r.physicalId,
          physical_resource_name: rname,
          logical_resource_name: rname,
          logical_resource_type: type,
          resource_status: r.action === 'DELETE' ? `DELETION_${r.status}` : r.action === 'UPDATE' ? `UPDATE_${r.status}` : `CREATION_${r.status}`,
          status_message: r.status === 'FAILED' ? r.statusReason : '',
          resource_attributes: Object.entries(r.attributes).map(([key, value]) => ({ key, value: typeof value === 'string' ? value : JSON.stringify(value) })),
        };
      }),
    });
  }

  /**
   * RFS reads template_uri itself (reference: an OBS URL of a .tf or .tf.json file, at most 1 MB; .zip
   * archives are not emulated). An http(s) URL is fetched and stands in for template_body; a failure is
   * 400 RF.10011074 (invalid template).
   */
  async #fetchTemplateUri(req: EmuRequest): Promise<EmuResponse | undefined> {
    if (req.method !== 'POST' || req.body.length === 0) return undefined;
    let b: unknown;
    try {
      b = parseJsonBody(req);
    } catch {
      return undefined;
    }
    if (!isObj(b) || typeof b.template_uri !== 'string' || (b.template_body !== undefined && b.template_body !== null)) return undefined;
    if (b.template_uri.length > 2048) return rfsError(400, 'RF.10011074', 'template_uri is longer than 2048 characters.');
    if (/\.zip(\?|$)/i.test(b.template_uri)) return rfsError(400, 'RF.10011074', 'template_uri: .zip archives are not supported by the emulator.');
    try {
      const text = await fetchText(b.template_uri, { maxBytes: 1024 * 1024 });
      const { template_uri: _uri, ...rest } = b;
      req.body = Buffer.from(JSON.stringify({ ...rest, template_body: text }));
      return undefined;
    } catch (e) {
      if (!(e instanceof UrlFetchError)) throw e;
      return rfsError(400, 'RF.10011074', `The template could not be obtained from template_uri: ${e.message}`);
    }
  }

  #template(b: Record<string, unknown>, required: boolean): Template | undefined {
    const hasBody = b.template_body !== undefined && b.template_body !== null;
    const hasUri = b.template_uri !== undefined && b.template_uri !== null;
    if (hasBody && hasUri) fail(400, 'RF.10011003', 'Only one of template_body and template_uri can be specified.');
    if (!hasBody && !hasUri) {
      if (required) fail(400, 'RF.10011056', 'Either template_body or template_uri must be specified.');
      return undefined;
    }
    if (hasUri) fail(400, 'RF.10011074', 'template_uri is not supported by the emulator; send template_body.');
    const text = b.template_body;
    if (typeof text !== 'string') fail(400, 'RF.10011073', 'template_body must be a string.');
    if (text.length > 51200) fail(400, 'RF.10011073', 'template_body is longer than 51200 characters.');
    const t = text.trim();
    if (!t.startsWith('{') && /^(resource|variable|output|terraform|provider)\s/m.test(t)) return parseTemplate(parseHclSubset(t), 'tf');
    return parseTemplate(t, 'tf');
  }

  #vars(b: Record<string, unknown>): Record<string, unknown> {
    const vars: Record<string, unknown> = {};
    if (b.vars_uri !== undefined) fail(400, 'RF.10011074', 'vars_uri is not supported by the emulator; send vars_body or vars_structure.');
    if (Array.isArray(b.vars_structure)) {
      for (const v of b.vars_structure) {
        if (!isObj(v) || typeof v.var_key !== 'string') fail(400, 'RF.10011001', 'vars_structure items need var_key and var_value.');
        vars[v.var_key] = v.var_value;
      }
    }
    if (typeof b.vars_body === 'string') {
      for (const [k, v] of Object.entries(parseVarsBody(b.vars_body))) {
        if (k in vars) fail(400, 'RF.10011001', `The variable ${k} is defined in more than one source.`);
        vars[k] = v;
      }
    }
    return vars;
  }

  #create(req: EmuRequest, project: string): EmuResponse {
    const body = parseJsonBody(req);
    if (body === undefined) fail(400, 'RF.10011032', 'The request body is missing.');
    if (!isObj(body)) fail(400, 'RF.10011033', 'The request body is not a JSON object.');
    const name = body.stack_name;
    if (typeof name !== 'string') fail(400, 'RF.10011001', 'stack_name is required.');
    if (!NAME_RE.test(name)) fail(400, 'RF.10011001', `stack_name ${name} is invalid: 1 to 128 letters, digits, _ or -, starting with a letter.`);
    const template = this.#template(body, false);
    const vars = this.#vars(body);
    const stack = this.#ctx.engine.create({
      provider: 'rfs',
      scope: project,
      name,
      template: template ?? null,
      params: vars,
      description: typeof body.description === 'string' ? body.description : '',
      disableRollback: body.enable_auto_rollback !== true,
      deletionProtection: body.enable_deletion_protection === true,
      timeoutMins: 360,
      extra: { agencies: Array.isArray(body.agencies) ? body.agencies : [], varsBody: typeof body.vars_body === 'string' ? body.vars_body : undefined, varsStructure: Array.isArray(body.vars_structure) ? body.vars_structure : undefined },
    });
    return json(201, { stack_id: stack.id, ...(template && stack.op ? { deployment_id: stack.op.id } : {}) });
  }

  #deploy(stack: StackRecord, b: Record<string, unknown>): EmuResponse {
    const template = this.#template(b, true)!;
    const vars = this.#vars(b);
    if (stack.status === 'IN_PROGRESS') {
      this.#ctx.engine.countCall('rfs', stack.scope, stack.name, 'rejected', stack.id);
      fail(409, 'RF.10013503', 'Another request is being processed on the stack, please try again later.');
    }
    const op = this.#ctx.engine.update(stack.id, { template, params: vars, paramMode: 'replace', whileInProgress: 'reject' });
    stack.extra.varsBody = typeof b.vars_body === 'string' ? b.vars_body : undefined;
    stack.extra.varsStructure = Array.isArray(b.vars_structure) ? b.vars_structure : undefined;
    return json(202, { deployment_id: op.id });
  }

  #updateMeta(stack: StackRecord, b: Record<string, unknown>): EmuResponse {
    const fields = ['description', 'enable_deletion_protection', 'enable_auto_rollback', 'agencies'];
    if (!fields.some((f) => b[f] !== undefined)) fail(400, 'RF.10011084', 'Nothing to modify.');
    if (stack.status === 'IN_PROGRESS') {
      this.#ctx.engine.countCall('rfs', stack.scope, stack.name, 'rejected', stack.id);
      fail(409, 'RF.10013503', 'Another request is being processed on the stack, please try again later.');
    }
    if (b.enable_auto_rollback === true && stack.disableRollback && stack.status === 'FAILED') {
      fail(403, 'RF.10012546', `Auto rollback cannot be enabled while the stack is ${rfsStatus(stack)}.`);
    }
    if (typeof b.description === 'string') stack.description = b.description;
    if (typeof b.enable_auto_rollback === 'boolean') stack.disableRollback = !b.enable_auto_rollback;
    if (Array.isArray(b.agencies)) stack.extra.agencies = b.agencies;
    if (typeof b.enable_deletion_protection === 'boolean') this.#ctx.engine.setDeletionProtection(stack.id, b.enable_deletion_protection);
    else this.#ctx.engine.countCall('rfs', stack.scope, stack.name, 'other', stack.id);
    stack.updatedAt = this.#ctx.clock.now();
    return empty(204);
  }

  #metadata(s: StackRecord): Record<string, unknown> {
    const vs = Array.isArray(s.extra.varsStructure) ? s.extra.varsStructure : undefined;
    return {
      stack_id: s.id,
      stack_name: s.name,
      description: s.description,
      ...(vs ? { vars_structure: (vs as unknown[]).map((v: unknown) => (isObj(v) && isObj(v.encryption) ? { ...v, var_value: undefined } : v)) } : {}),
      ...(typeof s.extra.varsBody === 'string' ? { vars_body: s.extra.varsBody } : {}),
      enable_deletion_protection: s.deletionProtection,
      enable_auto_rollback: !s.disableRollback,
      status: rfsStatus(s),
      ...(s.status === 'FAILED' ? { status_message: s.statusReason } : {}),
      agencies: Array.isArray(s.extra.agencies) ? s.extra.agencies : [],
      create_time: isoSeconds(s.createdAt),
      update_time: isoSeconds(s.updatedAt ?? s.createdAt),
    };
  }

  #events(req: EmuRequest, s: StackRecord): Record<string, unknown>[] {
    const q = req.url.searchParams;
    let evs: StackEvent[] = s.events;
    const dep = q.get('deployment_id');
    if (dep) {
      const ops = new Set(s.operations.filter((o) => o.id === dep || o.rollbackOf === dep).map((o) => o.id));
      if (ops.size === 0) fail(404, 'RF.10013001', `The deployment ${dep} does not exist.`);
      evs = evs.filter((e) => ops.has(e.opId));
    }
    const mapped = evs.map((e) => this.#event(s, e, evs));
    let out = mapped;
    const filter = q.get('filter');
    if (filter) {
      const groups = filter.split(',').map((g) =>
        g.split('|').map((c) => {
          const m = /^([a-z_]+)==(.*)$/.exec(c);
          if (!m) fail(400, 'RF.10011088', `Invalid filter method in ${c}: only == is supported.`);
          if (!['event_type', 'resource_name', 'resource_type'].includes(m[1]!)) fail(400, 'RF.10011089', `Invalid filter key ${m[1]}.`);
          return [m[1]!, m[2]!] as const;
        }),
      );
      out = out.filter((e) => groups.every((g) => g.some(([k, v]) => e[k] === v)));
    }
    return out.reverse();
  }

  #event(s: StackRecord, e: StackEvent, all: StackEvent[]): Record<string, unknown> {
    if (e.stack) {
      const type = e.status === 'FAILED' ? 'ERROR' : e.status === 'COMPLETE' ? 'SUMMARY' : 'LOG';
      const start = [...all].reverse().find((x) => x.opId === e.opId && x.stack && x.status === 'IN_PROGRESS');
      return {
        event_type: type,
        event_message: e.status === 'COMPLETE' ? `${e.reason}. Stack status: ${rfsStatusOf(e.action, 'COMPLETE')}` : e.reason,
        time: isoSeconds(e.time),
        ...(e.status !== 'IN_PROGRESS' && start ? { elapsed_seconds: Math.round((e.time - start.time) / 1000) } : {}),
      };
    }
    const [type, rname] = e.resourceName.includes('.') ? [e.resourceName.split('.')[0]!, e.resourceName.split('.').slice(1).join('.')] : [e.resourceType, e.resourceName];
    const prefix = e.action === 'DELETE' ? 'DELETION' : e.action === 'UPDATE' ? 'UPDATE' : 'CREATION';
    return {
      resource_type: type,
      resource_name: rname,
      resource_id_key: 'id',
      resource_id_value: e.physicalResourceId,
      time: isoSeconds(e.time),
      event_type: `${prefix}_${e.status}`,
      event_message: e.reason,
      ...(s.id ? {} : {}),
    };
  }
}

/** The execution-plan operation from the method and path depth (.../execution-plans[/{name}[/metadata]]). */
function planOperation(m: string, depth: number): string {
  if (depth === 5) return m === 'POST' ? 'CreateExecutionPlan' : 'ListExecutionPlans';
  if (depth === 6) return m === 'POST' ? 'ApplyExecutionPlan' : m === 'DELETE' ? 'DeleteExecutionPlan' : 'GetExecutionPlan';
  return depth === 7 && m === 'GET' ? 'GetExecutionPlanMetadata' : 'other';
}

function rfsStatusOf(action: string, status: string): string {
  if (action === 'CREATE' || action === 'UPDATE') return `DEPLOYMENT_${status}`;
  if (action === 'DELETE') return `DELETION_${status}`;
  return `${action}_${status}`;
}
