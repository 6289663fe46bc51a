// Cloud Foundry v3 (apps, droplets, revisions, deployments, jobs) and UAA token endpoint.
// An app is an engine stack; each deployment is an UPDATE operation of that stack whose behaviour comes
// from the droplet's (or the deployment's) `emulator.stackoperator.dev/template` annotation.
import type { EmulatorContext } from '../context.ts';
import { EngineError, type Operation, type StackRecord } from '../engine/engine.ts';
import { parseTemplate, TemplateError, type Template } from '../engine/template.ts';
import { BadJson, empty, header, isObj, isoSeconds, json, parseJsonBody, type EmuRequest, type EmuResponse, type FrontEnd } from '../http.ts';

export const TEMPLATE_ANNOTATION = 'emulator.stackoperator.dev/template';

export function cfError(status: number, code: number, title: string, detail: string, headers: Record<string, string> = {}): EmuResponse {
  return json(status, { errors: [{ code, title, detail }] }, headers);
}

class CfFail extends Error {
  readonly res: EmuResponse;
  constructor(res: EmuResponse) {
    super('cf');
    this.res = res;
  }
}

function fail(status: number, code: number, title: string, detail: string): never {
  throw new CfFail(cfError(status, code, title, detail));
}

function unprocessable(detail: string): never {
  fail(422, 10008, 'CF-UnprocessableEntity', detail);
}

function notFound(what: string): never {
  fail(404, 10010, 'CF-ResourceNotFound', `${what} not found`);
}

interface Droplet {
  guid: string;
  appGuid: string;
  template: Template | null;
  processTypes: Record<string, string>;
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  createdAt: number;
}

interface Revision {
  guid: string;
  appGuid: string;
  version: number;
  dropletGuid: string;
  createdAt: number;
}

interface Deployment {
  guid: string;
  appGuid: string;
  opId: string;
  dropletGuid: string;
  previousDropletGuid: string | null;
  revision: Revision;
  strategy: 'rolling' | 'canary';
  options: Record<string, unknown>;
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  createdAt: number;
  updatedAt: number;
  canceledAt?: number;
  lastStatusChange: number;
  lastKey?: string;
}

interface Job {
  guid: string;
  appGuid: string;
  opId: string;
  createdAt: number;
}

interface AppExtra {
  currentDroplet: string | null;
  lifecycle: unknown;
  metadata: { labels: Record<string, string>; annotations: Record<string, string> };
  revisions: number;
}

function meta(v: unknown): { labels: Record<string, string>; annotations: Record<string, string> } {
  const m = isObj(v) ? v : {};
  const strMap = (x: unknown): Record<string, string> => (isObj(x) ? Object.fromEntries(Object.entries(x).filter(([, y]) => typeof y === 'string') as [string, string][]) : {});
  return { labels: strMap(m.labels), annotations: strMap(m.annotations) };
}

const DEFAULT_TEMPLATE = { resources: { web: { type: 'cf_process', properties: { value: 'web' } } } };

export class CloudFoundryFrontEnd implements FrontEnd {
  readonly service = 'cloudFoundry' as const;
  readonly prefix = '/cf';
  readonly #ctx: EmulatorContext;
  readonly #droplets = new Map<string, Droplet>();
  readonly #revisions = new Map<string, Revision>();
  readonly #deployments = new Map<string, Deployment>();
  readonly #jobs = new Map<string, Job>();

  constructor(ctx: EmulatorContext) {
    this.#ctx = ctx;
  }

  operation(req: EmuRequest): string {
    const s = req.path.split('/').filter(Boolean);
    const m = req.method;
    if (s[1] === 'deployments') {
      if (s.length === 2) return m === 'POST' ? 'create_deployment' : 'list_deployments';
      if (s[3] === 'actions') return s[4] === 'cancel' ? 'cancel_deployment' : 'continue_deployment';
      return m === 'PATCH' ? 'update_deployment' : 'get_deployment';
    }
    if (s[1] === 'apps') {
      if (s.length === 2) return m === 'POST' ? 'create_app' : 'list_apps';
      if (s.length === 3) return m === 'DELETE' ? 'delete_app' : m === 'PATCH' ? 'update_app' : 'get_app';
      return `app_${s[3]}`;
    }
    if (s[1] === 'jobs') return 'get_job';
    if (s[1] === 'droplets') return m === 'POST' ? 'create_droplet' : 'get_droplet';
    if (s[1] === 'revisions') return 'get_revision';
    return 'other';
  }

  throttled(_req: EmuRequest, retryAfter: number, limit: number): EmuResponse {
    const r = cfError(429, 10013, 'CF-RateLimitExceeded', 'Rate Limit Exceeded', {
      'retry-after': String(retryAfter),
      'x-ratelimit-limit': String(limit),
      'x-ratelimit-remaining': '0',
      'x-ratelimit-reset': String(Math.ceil(this.#ctx.clock.now() / 1000) + retryAfter),
    });
    r.headers = { ...r.headers, 'content-type': 'text/plain' };
    return r;
  }

  rateLimitHeaders(limit: number, remaining: number): Record<string, string> {
    return { 'x-ratelimit-limit': String(limit), 'x-ratelimit-remaining': String(remaining), 'x-ratelimit-reset': String(Math.ceil(this.#ctx.clock.now() / 1000) + 60) };
  }

  serverError(_req: EmuRequest, status: number): EmuResponse {
    if (status === 502 || status === 503) return cfError(status, 10015, 'CF-ServiceUnavailable', 'Injected fault: service unavailable');
    return cfError(status, 10001, 'UnknownError', 'An unknown error occurred.');
  }

  handle(req: EmuRequest): EmuResponse {
    const s = req.path.split('/').filter(Boolean).map(decodeURIComponent);
    const base = req.svc('cloudFoundry');
    if (s.length === 0) {
      return json(200, {
        links: {
          self: { href: base },
          cloud_controller_v2: null,
          cloud_controller_v3: { href: `${base}/v3`, meta: { version: '3.180.0' } },
          uaa: { href: req.svc('uaa') },
          login: { href: req.svc('uaa') },
        },
      });
    }
    if (s[0] !== 'v3') return cfError(404, 10000, 'CF-NotFound', 'Unknown request');
    if (s.length === 1) {
      return json(200, { links: { self: { href: `${base}/v3` }, apps: { href: `${base}/v3/apps` }, deployments: { href: `${base}/v3/deployments` }, droplets: { href: `${base}/v3/droplets` } } });
    }
    const auth = header(req, 'authorization');
    if (!auth) return cfError(401, 10002, 'CF-NotAuthenticated', 'Authentication error');
    const m = /^bearer\s+(\S+)$/i.exec(auth);
    if (!m || !this.#ctx.tokens.validate(m[1], 'uaa')) return cfError(401, 1000, 'CF-InvalidAuthToken', 'Invalid Auth Token');
    try {
      return this.#route(req, s.slice(1), base);
    } catch (e) {
      if (e instanceof CfFail) return e.res;
      if (e instanceof BadJson) return cfError(400, 1001, 'CF-MessageParseError', 'Request invalid due to parse error: invalid request body');
      if (e instanceof TemplateError) return unprocessableRes(`Invalid emulator template: ${e.message}`);
      if (e instanceof EngineError) {
        if (e.kind === 'NotFound') return cfError(404, 10010, 'CF-ResourceNotFound', 'App not found');
        return unprocessableRes(e.message);
      }
      throw e;
    }
  }

  #app(guid: string): StackRecord {
    const s = this.#ctx.engine.get(guid);
    if (!s || s.provider !== 'cloudfoundry' || s.deleted) notFound('App');
    return s;
  }

  #route(req: EmuRequest, s: string[], base: string): EmuResponse {
    switch (s[0]) {
      case 'apps':
        return this.#appsRoute(req, s, base);
      case 'droplets':
        return this.#dropletsRoute(req, s, base);
      case 'revisions': {
        const r = s[1] ? this.#revisions.get(s[1]) : undefined;
        if (!r) notFound('Revision');
        return json(200, this.#revisionView(r, base));
      }
      case 'jobs': {
        const j = s[1] ? this.#jobs.get(s[1]) : undefined;
        if (!j) notFound('Job');
        return json(200, this.#jobView(j, base));
      }
      case 'deployments':
        return this.#deploymentsRoute(req, s, base);
      default:
        return cfError(404, 10000, 'CF-NotFound', 'Unknown request');
    }
  }

  /** /v3/apps and everything under one app. */
  #appsRoute(req: EmuRequest, s: string[], base: string): EmuResponse {
    const m = req.method;
    if (s.length === 1 && m === 'POST') return this.#createApp(req, base);
    if (s.length === 1 && m === 'GET') return this.#listApps(req, base);
    const app = this.#app(s[1]!);
    // A bare /apps/:guid with an unserved method has no sub-resource to match, so it ends in the 404 below.
    if (s.length === 2) return this.#appItem(req, app, base) ?? cfError(404, 10000, 'CF-NotFound', 'Unknown request');
    if (s[2] === 'droplets' && m === 'GET') return this.#appDroplets(app, s[3], base);
    if (s[2] === 'relationships' && s[3] === 'current_droplet' && m === 'PATCH') return this.#setCurrentDroplet(req, app, base);
    if (s[2] === 'environment_variables' && (m === 'GET' || m === 'PATCH')) return this.#appEnv(req, app, base);
    if (s[2] === 'revisions' && m === 'GET') {
      const list = [...this.#revisions.values()].filter((r) => r.appGuid === app.id).map((r) => this.#revisionView(r, base));
      return json(200, this.#page(base, `apps/${app.id}/revisions`, list));
    }
    return cfError(404, 10000, 'CF-NotFound', 'Unknown request');
  }

  #listApps(req: EmuRequest, base: string): EmuResponse {
    const q = req.url.searchParams;
    let apps = this.#ctx.engine.list({ provider: 'cloudfoundry' });
    const names = q.get('names')?.split(',');
    const spaces = q.get('space_guids')?.split(',');
    const guids = q.get('guids')?.split(',');
    if (names) apps = apps.filter((a) => names.includes(a.name));
    if (spaces) apps = apps.filter((a) => spaces.includes(a.scope));
    if (guids) apps = apps.filter((a) => guids.includes(a.id));
    return json(200, this.#page(base, 'apps', apps.map((a) => this.#appView(a, base))));
  }

  /** GET / DELETE / PATCH on /apps/:guid; undefined for any other method. */
  #appItem(req: EmuRequest, app: StackRecord, base: string): EmuResponse | undefined {
    const m = req.method;
    if (m === 'GET') return json(200, this.#appView(app, base));
    if (m === 'DELETE') {
      const op = this.#ctx.engine.delete(app.id);
      const job: Job = { guid: crypto.randomUUID(), appGuid: app.id, opId: op.id, createdAt: this.#ctx.clock.now() };
      this.#jobs.set(job.guid, job);
      return empty(202, { location: `${base}/v3/jobs/${job.guid}` });
    }
    if (m === 'PATCH') {
      const b = parseJsonBody(req);
      if (isObj(b) && isObj(b.metadata)) {
        const x = app.extra as unknown as AppExtra;
        const mm = meta(b.metadata);
        x.metadata = { labels: { ...x.metadata.labels, ...mm.labels }, annotations: { ...x.metadata.annotations, ...mm.annotations } };
      }
      return json(200, this.#appView(app, base));
    }
    return undefined;
  }

  /** GET /apps/:guid/droplets and /apps/:guid/droplets/current. */
  #appDroplets(app: StackRecord, which: string | undefined, base: string): EmuResponse {
    const x = app.extra as unknown as AppExtra;
    if (which === 'current') {
      const d = x.currentDroplet ? this.#droplets.get(x.currentDroplet) : undefined;
      if (!d) notFound('Droplet');
      return json(200, this.#dropletView(d, base));
    }
    const list = [...this.#droplets.values()].filter((d) => d.appGuid === app.id).map((d) => this.#dropletView(d, base));
    return json(200, this.#page(base, `apps/${app.id}/droplets`, list));
  }

  #setCurrentDroplet(req: EmuRequest, app: StackRecord, base: string): EmuResponse {
    const b = parseJsonBody(req);
    const guid = isObj(b) && isObj(b.data) ? b.data.guid : undefined;
    const d = typeof guid === 'string' ? this.#droplets.get(guid) : undefined;
    if (!d || d.appGuid !== app.id) unprocessable('Unable to assign current droplet. Ensure the droplet exists and belongs to this app.');
    (app.extra as unknown as AppExtra).currentDroplet = d.guid;
    return json(200, { data: { guid: d.guid }, links: { self: { href: `${base}/v3/apps/${app.id}/relationships/current_droplet` }, related: { href: `${base}/v3/apps/${app.id}/droplets/current` } } });
  }

  /** GET / PATCH /apps/:guid/environment_variables. */
  #appEnv(req: EmuRequest, app: StackRecord, base: string): EmuResponse {
    // CF v3: PATCH merges `var` (a null value removes the variable); both answer the full set.
    const x = app.extra as unknown as { env?: Record<string, string> };
    x.env ??= {};
    if (req.method === 'PATCH') {
      const b = parseJsonBody(req);
      const vars = isObj(b) && isObj(b.var) ? b.var : {};
      for (const [k, v] of Object.entries(vars)) {
        if (v === null) delete x.env[k];
        else x.env[k] = typeof v === 'string' ? v : JSON.stringify(v);
      }
    }
    return json(200, { var: x.env, links: { self: { href: `${base}/v3/apps/${app.id}/environment_variables` }, app: { href: `${base}/v3/apps/${app.id}` } } });
  }

  /** /v3/droplets (create) and /v3/droplets/:guid (get). */
  #dropletsRoute(req: EmuRequest, s: string[], base: string): EmuResponse {
    if (s.length === 1 && req.method === 'POST') return this.#createDroplet(req, base);
    const d = s[1] ? this.#droplets.get(s[1]) : undefined;
    if (!d) notFound('Droplet');
    if (req.method === 'GET') return json(200, this.#dropletView(d, base));
    return cfError(404, 10000, 'CF-NotFound', 'Unknown request');
  }

  #createDroplet(req: EmuRequest, base: string): EmuResponse {
    const b = parseJsonBody(req);
    if (!isObj(b)) unprocessable('Request body must be an object');
    const rel = isObj(b.relationships) && isObj(b.relationships.app) && isObj(b.relationships.app.data) ? b.relationships.app.data.guid : undefined;
    if (typeof rel !== 'string') unprocessable("Relationships 'relationships' must include one or more valid relationships");
    const app = this.#ctx.engine.get(rel);
    if (!app || app.provider !== 'cloudfoundry' || app.deleted) unprocessable('App is invalid. Ensure it exists and you have access to it.');
    const md = meta(b.metadata);
    const tmplText = md.annotations[TEMPLATE_ANNOTATION];
    const d: Droplet = {
      guid: crypto.randomUUID(),
      appGuid: app.id,
      template: tmplText ? parseTemplate(tmplText, 'any') : null,
      processTypes: isObj(b.process_types) ? (b.process_types as Record<string, string>) : { web: 'bundle exec rackup' },
      metadata: md,
      createdAt: this.#ctx.clock.now(),
    };
    this.#droplets.set(d.guid, d);
    return json(201, this.#dropletView(d, base));
  }

  #createApp(req: EmuRequest, base: string): EmuResponse {
    const b = parseJsonBody(req);
    if (!isObj(b)) unprocessable('Request body must be an object');
    const name = b.name;
    if (typeof name !== 'string' || name === '') unprocessable("Name can't be blank");
    const space = isObj(b.relationships) && isObj(b.relationships.space) && isObj(b.relationships.space.data) ? b.relationships.space.data.guid : undefined;
    if (typeof space !== 'string') unprocessable("Relationships Space can't be blank");
    if (this.#ctx.engine.findByName('cloudfoundry', space, name)) fail(422, 10016, 'CF-UniquenessError', `App with the name '${name}' already exists.`);
    const extra: AppExtra = { currentDroplet: null, lifecycle: b.lifecycle ?? { type: 'buildpack', data: { buildpacks: [], stack: 'cflinuxfs4' } }, metadata: meta(b.metadata), revisions: 0 };
    const app = this.#ctx.engine.create({
      provider: 'cloudfoundry',
      scope: space,
      name,
      template: null,
      disableRollback: true,
      timeoutMins: 0,
      extra: extra as unknown as Record<string, unknown>,
    });
    return json(201, this.#appView(app, base));
  }

  #deploymentsRoute(req: EmuRequest, s: string[], base: string): EmuResponse {
    const m = req.method;
    const engine = this.#ctx.engine;
    if (s.length === 1 && m === 'POST') return this.#createDeployment(req, base);
    if (s.length === 1 && m === 'GET') {
      const q = req.url.searchParams;
      let list = [...this.#deployments.values()];
      const apps = q.get('app_guids')?.split(',');
      if (apps) list = list.filter((d) => apps.includes(d.appGuid));
      const views = list.map((d) => this.#deploymentView(d, base));
      const values = q.get('status_values')?.split(',');
      const reasons = q.get('status_reasons')?.split(',');
      const states = q.get('states')?.split(',');
      const filtered = views.filter((v) => {
        const st = v.status as { value: string; reason: string };
        return (!values || values.includes(st.value)) && (!reasons || reasons.includes(st.reason)) && (!states || states.includes(String(v.state)));
      });
      if (q.get('order_by') === '-created_at') filtered.reverse();
      return json(200, this.#page(base, 'deployments', filtered));
    }
    const d = s[1] ? this.#deployments.get(s[1]) : undefined;
    if (!d) notFound('Deployment');
    if (s.length === 2 && m === 'GET') return json(200, this.#deploymentView(d, base));
    if (s.length === 2 && m === 'PATCH') {
      const b = parseJsonBody(req);
      if (isObj(b) && isObj(b.metadata)) {
        const mm = meta(b.metadata);
        d.metadata = { labels: { ...d.metadata.labels, ...mm.labels }, annotations: { ...d.metadata.annotations, ...mm.annotations } };
        d.updatedAt = this.#ctx.clock.now();
      }
      return json(200, this.#deploymentView(d, base));
    }
    if (s[2] === 'actions' && m === 'POST') {
      const app = engine.get(d.appGuid);
      const { state, status } = this.#state(d);
      if (s[3] === 'cancel') {
        if (!app || !['DEPLOYING', 'PREPAUSED', 'PAUSED', 'CANCELING'].includes(state)) {
          if (app) engine.countCall('cloudfoundry', app.scope, app.name, 'rejected', app.id);
          unprocessable(`Cannot cancel a deployment with status: ${status.value} and reason: ${status.reason}`);
        }
        if (state !== 'CANCELING') {
          if (app.status === 'IN_PROGRESS') engine.cancel(app.id, { rollback: true });
          else engine.rollbackFailed(app.id);
          (app.extra as unknown as AppExtra).currentDroplet = d.previousDropletGuid;
          d.canceledAt = this.#ctx.clock.now();
          d.updatedAt = d.canceledAt;
        }
        return { status: 200, headers: { 'content-type': 'application/json' }, body: '' };
      }
      if (s[3] === 'continue') {
        if (!app || state !== 'PAUSED') unprocessable(`Cannot continue a deployment with status: ${status.value} and reason: ${status.reason}`);
        engine.continueOperation(app.id);
        d.updatedAt = this.#ctx.clock.now();
        return { status: 200, headers: { 'content-type': 'application/json' }, body: '' };
      }
    }
    return cfError(404, 10000, 'CF-NotFound', 'Unknown request');
  }

  #createDeployment(req: EmuRequest, base: string): EmuResponse {
    const engine = this.#ctx.engine;
    const b = parseJsonBody(req);
    if (!isObj(b)) unprocessable('Request body must be an object');
    const appGuid = isObj(b.relationships) && isObj(b.relationships.app) && isObj(b.relationships.app.data) ? b.relationships.app.data.guid : undefined;
    if (typeof appGuid !== 'string') unprocessable("Relationships App can't be blank");
    const app = engine.get(appGuid);
    if (!app || app.provider !== 'cloudfoundry' || app.deleted) unprocessable('Unable to use app. Ensure that the app exists and you have access to it.');
    const x = app.extra as unknown as AppExtra;
    const dropletArg = isObj(b.droplet) ? b.droplet.guid : undefined;
    const revisionArg = isObj(b.revision) ? b.revision.guid : undefined;
    if (dropletArg !== undefined && revisionArg !== undefined) unprocessable('Cannot set both droplet and revision');
    let dropletGuid: string | null = null;
    if (typeof revisionArg === 'string') {
      const r = this.#revisions.get(revisionArg);
      if (!r || r.appGuid !== app.id) unprocessable('The revision does not exist');
      dropletGuid = r.dropletGuid;
    } else if (typeof dropletArg === 'string') {
      const d = this.#droplets.get(dropletArg);
      if (!d || d.appGuid !== app.id) unprocessable('Unable to assign current droplet. Ensure the droplet exists and belongs to this app.');
      dropletGuid = d.guid;
    } else dropletGuid = x.currentDroplet;
    if (!dropletGuid) unprocessable('Invalid droplet. Please specify a droplet in the request or set a current droplet for the app.');
    const strategy = b.strategy ?? 'rolling';
    if (strategy !== 'rolling' && strategy !== 'canary') unprocessable("Strategy must be one of 'rolling', 'canary'");
    const opts = isObj(b.options) ? b.options : {};
    const mif = opts.max_in_flight ?? 1;
    if (typeof mif !== 'number' || !Number.isInteger(mif) || mif < 1) unprocessable('Max in flight must be an integer greater than 0');
    const md = meta(b.metadata);
    const droplet = this.#droplets.get(dropletGuid)!;
    const tmplText = md.annotations[TEMPLATE_ANNOTATION];
    const template = tmplText ? parseTemplate(tmplText, 'any') : (droplet.template ?? parseTemplate({ ...DEFAULT_TEMPLATE, resources: { web: { type: 'cf_process', properties: { value: droplet.guid } } } }, 'tf'));
    const previous = x.currentDroplet;
    const op = engine.update(app.id, { template, params: {}, paramMode: 'replace', whileInProgress: 'supersede', pauseBeforeComplete: strategy === 'canary', disableRollback: true });
    x.revisions++;
    const revision: Revision = { guid: crypto.randomUUID(), appGuid: app.id, version: x.revisions, dropletGuid, createdAt: this.#ctx.clock.now() };
    this.#revisions.set(revision.guid, revision);
    x.currentDroplet = dropletGuid;
    const now = this.#ctx.clock.now();
    const dep: Deployment = {
      guid: crypto.randomUUID(),
      appGuid: app.id,
      opId: op.id,
      dropletGuid,
      previousDropletGuid: previous,
      revision,
      strategy,
      options: {
        max_in_flight: mif,
        web_instances: typeof opts.web_instances === 'number' ? opts.web_instances : 1,
        memory_in_mb: typeof opts.memory_in_mb === 'number' ? opts.memory_in_mb : null,
        disk_in_mb: typeof opts.disk_in_mb === 'number' ? opts.disk_in_mb : null,
        log_rate_limit_in_bytes_per_second: typeof opts.log_rate_limit_in_bytes_per_second === 'number' ? opts.log_rate_limit_in_bytes_per_second : null,
        ...(strategy === 'canary' ? { canary: isObj(opts.canary) ? opts.canary : { steps: [{ instance_weight: 1 }] } } : {}),
      },
      metadata: md,
      createdAt: now,
      updatedAt: now,
      lastStatusChange: now,
    };
    this.#deployments.set(dep.guid, dep);
    return json(201, this.#deploymentView(dep, base));
  }

  /** Derive the deployment's state from its engine operation. */
  #state(d: Deployment): { state: string; status: { value: string; reason: string }; error?: string } {
    const app = this.#ctx.engine.get(d.appGuid);
    const op: Operation | undefined = app?.operations.find((o) => o.id === d.opId);
    const fin = (reason: string): { state: string; status: { value: string; reason: string } } => ({ state: reason, status: { value: 'FINALIZED', reason } });
    if (!app || !op) return fin('DEPLOYED');
    if (op.outcome === 'SUPERSEDED') return fin(app.action === 'DELETE' ? 'CANCELED' : 'SUPERSEDED');
    if (op.outcome === 'COMPLETE') return fin('DEPLOYED');
    if (op.outcome === 'CANCELLED' || op.outcome === 'FAILED') {
      const rb = app.operations.find((o) => o.rollbackOf === op.id);
      if (rb && !rb.outcome) return { state: 'CANCELING', status: { value: 'ACTIVE', reason: 'CANCELING' } };
      if (rb) return fin(rb.outcome === 'SUPERSEDED' ? 'SUPERSEDED' : 'CANCELED');
      return { state: 'DEPLOYING', status: { value: 'ACTIVE', reason: 'DEPLOYING' }, error: op.reason ?? app.statusReason };
    }
    if (op.paused) return { state: 'PAUSED', status: { value: 'ACTIVE', reason: 'PAUSED' } };
    return { state: 'DEPLOYING', status: { value: 'ACTIVE', reason: 'DEPLOYING' } };
  }

  #deploymentView(d: Deployment, base: string): Record<string, unknown> {
    const st = this.#state(d);
    const key = `${st.status.value}/${st.status.reason}`;
    if (d.lastKey !== key) {
      if (d.lastKey !== undefined) d.lastStatusChange = this.#ctx.clock.now();
      d.lastKey = key;
    }
    const canary = d.strategy === 'canary' ? { canary: { steps: { current: st.state === 'DEPLOYING' && !d.canceledAt ? 1 : 1, total: Array.isArray((d.options.canary as { steps?: unknown[] } | undefined)?.steps) ? (d.options.canary as { steps: unknown[] }).steps.length : 1 } } } : {};
    return {
      guid: d.guid,
      created_at: isoSeconds(d.createdAt),
      updated_at: isoSeconds(Math.max(d.updatedAt, d.lastStatusChange)),
      state: st.state,
      status: {
        value: st.status.value,
        reason: st.status.reason,
        details: {
          last_successful_healthcheck: isoSeconds(d.lastStatusChange),
          last_status_change: isoSeconds(d.lastStatusChange),
          ...(st.error ? { error: st.error } : {}),
        },
        ...canary,
      },
      strategy: d.strategy,
      options: d.options,
      droplet: { guid: d.dropletGuid },
      previous_droplet: { guid: d.previousDropletGuid },
      new_processes: [{ guid: `${d.guid.slice(0, 24)}web000000000`.slice(0, 36), type: 'web' }],
      revision: { guid: d.revision.guid, version: d.revision.version },
      relationships: { app: { data: { guid: d.appGuid } } },
      metadata: d.metadata,
      links: {
        self: { href: `${base}/v3/deployments/${d.guid}` },
        app: { href: `${base}/v3/apps/${d.appGuid}` },
        cancel: { href: `${base}/v3/deployments/${d.guid}/actions/cancel`, method: 'POST' },
        ...(d.strategy === 'canary' ? { continue: { href: `${base}/v3/deployments/${d.guid}/actions/continue`, method: 'POST' } } : {}),
      },
    };
  }

  #appView(app: StackRecord, base: string): Record<string, unknown> {
    const x = app.extra as unknown as AppExtra;
    return {
      guid: app.id,
      name: app.name,
      state: x.currentDroplet ? 'STARTED' : 'STOPPED',
      created_at: isoSeconds(app.createdAt),
      updated_at: isoSeconds(app.updatedAt ?? app.createdAt),
      lifecycle: x.lifecycle,
      relationships: { space: { data: { guid: app.scope } }, current_droplet: { data: x.currentDroplet ? { guid: x.currentDroplet } : null } },
      metadata: x.metadata,
      links: {
        self: { href: `${base}/v3/apps/${app.id}` },
        space: { href: `${base}/v3/spaces/${app.scope}` },
        droplets: { href: `${base}/v3/apps/${app.id}/droplets` },
        current_droplet: { href: `${base}/v3/apps/${app.id}/droplets/current` },
        revisions: { href: `${base}/v3/apps/${app.id}/revisions` },
        deployed_revisions: { href: `${base}/v3/apps/${app.id}/revisions/deployed` },
      },
    };
  }

  #dropletView(d: Droplet, base: string): Record<string, unknown> {
    return {
      guid: d.guid,
      state: 'STAGED',
      error: null,
      lifecycle: { type: 'buildpack', data: {} },
      execution_metadata: '',
      process_types: d.processTypes,
      checksum: null,
      buildpacks: [],
      stack: 'cflinuxfs4',
      image: null,
      created_at: isoSeconds(d.createdAt),
      updated_at: isoSeconds(d.createdAt),
      relationships: { app: { data: { guid: d.appGuid } } },
      metadata: d.metadata,
      links: {
        self: { href: `${base}/v3/droplets/${d.guid}` },
        app: { href: `${base}/v3/apps/${d.appGuid}` },
        assign_current_droplet: { href: `${base}/v3/apps/${d.appGuid}/relationships/current_droplet`, method: 'PATCH' },
      },
    };
  }

  #revisionView(r: Revision, base: string): Record<string, unknown> {
    return {
      guid: r.guid,
      version: r.version,
      droplet: { guid: r.dropletGuid },
      processes: { web: { command: null } },
      sidecars: [],
      description: r.version === 1 ? 'Initial revision.' : 'New droplet deployed.',
      deployable: true,
      created_at: isoSeconds(r.createdAt),
      updated_at: isoSeconds(r.createdAt),
      relationships: { app: { data: { guid: r.appGuid } } },
      metadata: { labels: {}, annotations: {} },
      links: { self: { href: `${base}/v3/revisions/${r.guid}` }, app: { href: `${base}/v3/apps/${r.appGuid}` }, environment_variables: { href: `${base}/v3/revisions/${r.guid}/environment_variables` } },
    };
  }

  #jobView(j: Job, base: string): Record<string, unknown> {
    const app = this.#ctx.engine.get(j.appGuid);
    const op = app?.operations.find((o) => o.id === j.opId);
    let state = 'PROCESSING';
    let errors: unknown[] = [];
    if (!op || op.outcome === 'COMPLETE') state = 'COMPLETE';
    else if (op.outcome === 'FAILED') {
      state = 'FAILED';
      errors = [{ code: 10008, title: 'CF-UnprocessableEntity', detail: op.reason ?? 'App deletion failed' }];
    } else if (op.outcome) {
      state = 'FAILED';
      errors = [{ code: 10001, title: 'UnknownError', detail: `App deletion was interrupted (${op.outcome})` }];
    }
    return {
      guid: j.guid,
      created_at: isoSeconds(j.createdAt),
      updated_at: isoSeconds(op?.endedAt ?? j.createdAt),
      operation: 'app.delete',
      state,
      errors,
      warnings: [],
      links: { self: { href: `${base}/v3/jobs/${j.guid}` } },
    };
  }

  #page(base: string, path: string, resources: Record<string, unknown>[]): Record<string, unknown> {
    return {
      pagination: {
        total_results: resources.length,
        total_pages: 1,
        first: { href: `${base}/v3/${path}?page=1&per_page=${Math.max(50, resources.length)}` },
        last: { href: `${base}/v3/${path}?page=1&per_page=${Math.max(50, resources.length)}` },
        next: null,
        previous: null,
      },
      resources,
    };
  }
}

function unprocessableRes(detail: string): EmuResponse {
  return cfError(422, 10008, 'CF-UnprocessableEntity', detail);
}

// ------------------------------------------------------------------------------------------ UAA

export class UaaFrontEnd implements FrontEnd {
  readonly service = 'uaa' as const;
  readonly prefix = '/uaa';
  readonly #ctx: EmulatorContext;

  constructor(ctx: EmulatorContext) {
    this.#ctx = ctx;
  }

  operation(req: EmuRequest): string {
    return req.path.startsWith('/oauth/token') ? 'token' : 'info';
  }

  throttled(_req: EmuRequest, retryAfter: number): EmuResponse {
    return cfError(429, 20008, 'CF-UaaRateLimited', 'Rate limit exceeded', { 'retry-after': String(retryAfter) });
  }

  serverError(_req: EmuRequest, status: number): EmuResponse {
    return json(status, { error: 'server_error', error_description: 'Injected fault' });
  }

  handle(req: EmuRequest): EmuResponse {
    const p = req.path.replace(/\/+$/, '');
    if ((p === '/info' || p === '/login') && req.method === 'GET') {
      return json(200, { app: { version: '77.0.0' }, links: { uaa: req.svc('uaa'), login: req.svc('uaa') }, zone_name: 'uaa', prompts: { username: ['text', 'Email'], password: ['password', 'Password'] } });
    }
    if (p !== '/oauth/token' || req.method !== 'POST') return json(404, { error: 'not_found', error_description: 'Not Found' });
    const cf = this.#ctx.credentials.cloudFoundry;
    const form = new URLSearchParams(req.body.toString('utf8'));
    let clientId = form.get('client_id') ?? undefined;
    let clientSecret = form.get('client_secret') ?? undefined;
    const basic = /^basic\s+(\S+)$/i.exec(header(req, 'authorization') ?? '');
    if (basic) {
      const decoded = Buffer.from(basic[1]!, 'base64').toString('utf8');
      const i = decoded.indexOf(':');
      clientId = decodeURIComponent(i < 0 ? decoded : decoded.slice(0, i));
      clientSecret = decodeURIComponent(i < 0 ? '' : decoded.slice(i + 1));
    }
    const bad = (): EmuResponse => json(401, { error: 'unauthorized', error_description: 'Bad credentials' }, { 'www-authenticate': 'Basic realm="UAA/client", error="unauthorized", error_description="Bad credentials"' });
    const mainClient = clientId === cf.clientId && (clientSecret ?? '') === cf.clientSecret;
    const pwClient = clientId === cf.passwordClientId && (clientSecret ?? '') === cf.passwordClientSecret;
    if (!mainClient && !pwClient) return bad();
    const grant = form.get('grant_type');
    const scope = ['cloud_controller.read', 'cloud_controller.write', 'openid', 'uaa.user'];
    const issue = (subject: string, withRefresh: boolean, refresh?: string): EmuResponse => {
      const t = this.#ctx.tokens.issue({ kind: 'uaa', subject, scope, clientId: clientId! }, cf.tokenTtlSeconds);
      return json(200, {
        access_token: t.token,
        token_type: 'bearer',
        expires_in: cf.tokenTtlSeconds,
        scope: scope.join(' '),
        jti: t.token.slice(-32),
        ...(withRefresh ? { refresh_token: refresh ?? this.#ctx.tokens.newRefreshToken(subject, clientId!, scope) } : {}),
      }, { 'cache-control': 'no-store', pragma: 'no-cache' });
    };
    if (grant === 'client_credentials') {
      if (!mainClient) return bad();
      return issue(clientId!, false);
    }
    if (grant === 'password') {
      if (form.get('username') !== cf.username || form.get('password') !== cf.password) return bad();
      return issue(cf.username, true);
    }
    if (grant === 'refresh_token') {
      const r = form.get('refresh_token') ?? '';
      const rec = this.#ctx.tokens.useRefreshToken(r);
      if (!rec || rec.clientId !== clientId) return json(401, { error: 'invalid_token', error_description: `Invalid refresh token (expired): ${r.slice(0, 8)}` });
      return issue(rec.subject, true, r);
    }
    return json(400, { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${grant ?? ''}` });
  }
}
