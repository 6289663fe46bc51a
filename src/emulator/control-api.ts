// HTTP control API under /_emulator/ (tests and benchmarks): stacks, mutation counters, faults,
// latency, rate limits, operation speed, tokens, access keys, reset.
import type { EmulatorContext } from './context.ts';
import type { FaultRule } from './control.ts';
import type { ProviderType, StackRecord } from './engine/engine.ts';
import { empty, isObj, isoSeconds, json, parseJsonBody, SERVICES, type EmuRequest, type EmuResponse, type ServiceName } from './http.ts';

export function stackSummary(engine: EmulatorContext['engine'], s: StackRecord, detail = false): Record<string, unknown> {
  return {
    id: s.id,
    provider: s.provider,
    scope: s.scope,
    name: s.name,
    action: s.action,
    status: s.status,
    state: `${s.action}_${s.status}`,
    statusReason: s.statusReason,
    rollbackOf: s.rollbackOf ?? null,
    deleted: s.deleted,
    deletionProtection: s.deletionProtection,
    disableRollback: s.disableRollback,
    createdAt: isoSeconds(s.createdAt),
    updatedAt: s.updatedAt !== undefined ? isoSeconds(s.updatedAt) : null,
    tags: s.tags,
    ...(detail
      ? {
          params: s.params,
          extra: s.extra,
          outputs: engine.outputs(s),
          resources: [...s.resources.values()].map((r) => ({ name: r.name, type: r.type, physicalId: r.physicalId, state: `${r.action}_${r.status}`, reason: r.statusReason })),
          operations: s.operations.map((o) => ({ id: o.id, action: o.action, outcome: o.outcome ?? null, reason: o.reason ?? null, paused: o.paused, startedAt: isoSeconds(o.startedAt), endedAt: o.endedAt !== undefined ? isoSeconds(o.endedAt) : null })),
          events: s.events.map((e) => ({ time: isoSeconds(e.time), resource: e.resourceName, state: `${e.action}_${e.status}`, reason: e.reason })),
        }
      : {}),
  };
}

function err(status: number, message: string): EmuResponse {
  return json(status, { error: message });
}

const PROVIDERS = new Set(['heat', 'rfs', 'ros', 'cloudfoundry']);
const FAULT_KINDS = ['error', 'drop', 'slow', 'reset-after', 'hide-new'];

/** One parsed control request: path segments, method, query, JSON body (`b` is the body when it is an object). */
interface ControlCall {
  ctx: EmulatorContext;
  s: string[];
  m: string;
  q: URLSearchParams;
  body: unknown;
  b: Record<string, unknown>;
}

type ControlHandler = (c: ControlCall) => EmuResponse;

export function handleControl(ctx: EmulatorContext, req: EmuRequest): EmuResponse {
  const s = req.path.split('/').filter(Boolean).map(decodeURIComponent);
  let body: unknown;
  try {
    body = parseJsonBody(req);
  } catch {
    return err(400, 'invalid JSON');
  }
  const c: ControlCall = { ctx, s, m: req.method, q: req.url.searchParams, body, b: isObj(body) ? body : {} };
  // Resource groups answer for every method under their prefix; a method they do not serve ends in the 404 below.
  const group = s[0] !== undefined ? GROUP_ROUTES.get(s[0]) : undefined;
  const res = group ? group(c) : SINGLE_ROUTES.get(`${c.m} /${s.join('/')}`)?.(c);
  return res ?? err(404, 'unknown control route');
}

function stacksRoute(c: ControlCall): EmuResponse {
  const { s, m, q, b } = c;
  const { engine } = c.ctx;
  if (s.length === 1 && m === 'GET') {
    const provider = q.get('provider');
    if (provider && !PROVIDERS.has(provider)) return err(400, `unknown provider ${provider}`);
    const list = engine.list({ ...(provider ? { provider: provider as ProviderType } : {}), includeDeleted: q.get('includeDeleted') === 'true', includeHidden: true });
    const name = q.get('name');
    return json(200, { stacks: list.filter((x) => !name || x.name === name).map((x) => stackSummary(engine, x)) });
  }
  const stack = s[1] ? engine.get(s[1], { includeHidden: true }) : undefined;
  if (!stack) return err(404, 'no such stack');
  if (s.length === 2 && m === 'GET') return json(200, stackSummary(engine, stack, true));
  if (s[2] === 'deletion-protection' && m === 'PUT') {
    stack.deletionProtection = b.enabled === true;
    return json(200, stackSummary(engine, stack));
  }
  return err(404, 'unknown control route');
}

function callsRoute(c: ControlCall): EmuResponse | undefined {
  const { engine } = c.ctx;
  if (c.m === 'GET') {
    const provider = c.q.get('provider');
    return json(200, { calls: engine.mutationCounts((provider ?? undefined) as ProviderType | undefined, c.q.get('name') ?? undefined) });
  }
  if (c.m === 'DELETE') {
    engine.resetCounts();
    return empty(204);
  }
  return undefined;
}

function requestsRoute(c: ControlCall): EmuResponse | undefined {
  const { control } = c.ctx;
  if (c.m === 'GET') return json(200, { requests: control.requestCounts(), throttled: control.throttledCount });
  if (c.m === 'DELETE') {
    control.resetCounters();
    return empty(204);
  }
  return undefined;
}

function faultsRoute(c: ControlCall): EmuResponse | undefined {
  const { s, m } = c;
  const { control } = c.ctx;
  if (s.length === 1 && m === 'GET') return json(200, { faults: control.faults() });
  if (s.length === 1 && m === 'POST') {
    const rule = c.b as unknown as FaultRule;
    if (!FAULT_KINDS.includes(String(rule.kind))) return err(400, `kind must be one of ${FAULT_KINDS.join(', ')}`);
    if (rule.service && rule.service !== '*' && !SERVICES.includes(rule.service)) return err(400, `unknown service ${String(rule.service)}`);
    return json(201, { id: control.addFault(rule) });
  }
  if (s.length === 1 && m === 'DELETE') {
    control.clearFaults();
    return empty(204);
  }
  if (s.length === 2 && m === 'DELETE') return control.removeFault(s[1]!) ? empty(204) : err(404, 'no such fault');
  return undefined;
}

function putLatency({ ctx: { control }, b }: ControlCall): EmuResponse {
  if (typeof b.latencyMs === 'number') control.latencyMs = b.latencyMs;
  if (isObj(b.services)) {
    for (const [svc, v] of Object.entries(b.services)) {
      if (!SERVICES.includes(svc as ServiceName)) return err(400, `unknown service ${svc}`);
      if (typeof v === 'number') control.serviceLatencyMs.set(svc as ServiceName, v);
      else control.serviceLatencyMs.delete(svc as ServiceName);
    }
  }
  return json(200, { latencyMs: control.latencyMs, services: Object.fromEntries(control.serviceLatencyMs) });
}

function putClockOffset({ ctx, b }: ControlCall): EmuResponse {
  if (typeof b.offsetMs !== 'number' || !Number.isFinite(b.offsetMs)) return err(400, 'offsetMs must be a number (ms added to the time the provider reports)');
  ctx.clock.offsetMs = b.offsetMs;
  return json(200, { offsetMs: ctx.clock.offsetMs });
}

function putSpeed({ ctx: { engine }, b }: ControlCall): EmuResponse {
  const mult = b.durationMultiplier ?? b.operationSpeed;
  if (typeof mult !== 'number' || mult < 0) return err(400, 'durationMultiplier must be a number >= 0');
  engine.durationMultiplier = mult;
  if (typeof b.baseOperationMs === 'number') engine.baseOperationMs = b.baseOperationMs;
  return json(200, { durationMultiplier: engine.durationMultiplier, baseOperationMs: engine.baseOperationMs });
}

function putTokenTtl({ ctx, b }: ControlCall): EmuResponse {
  if (typeof b.keystone === 'number') ctx.credentials.keystone.tokenTtlSeconds = b.keystone;
  if (typeof b.uaa === 'number') ctx.credentials.cloudFoundry.tokenTtlSeconds = b.uaa;
  return json(200, { keystone: ctx.credentials.keystone.tokenTtlSeconds, uaa: ctx.credentials.cloudFoundry.tokenTtlSeconds });
}

function postAccessKeys({ ctx, b }: ControlCall): EmuResponse {
  const ring = b.provider === 'rfs' ? ctx.rfsKeys : b.provider === 'ros' ? ctx.rosKeys : undefined;
  if (!ring || typeof b.accessKeyId !== 'string' || typeof b.secretAccessKey !== 'string') return err(400, 'need provider (rfs|ros), accessKeyId, secretAccessKey');
  ring.add(b.accessKeyId, b.secretAccessKey);
  return empty(204);
}

/** Routes keyed by first path segment; undefined from a handler means "no such route". Maps, not object literals, so a segment like `constructor` cannot hit a prototype property. */
const GROUP_ROUTES = new Map<string, (c: ControlCall) => EmuResponse | undefined>([
  ['stacks', stacksRoute],
  ['calls', callsRoute],
  ['requests', requestsRoute],
  ['faults', faultsRoute],
]);

/** Routes keyed by `METHOD /exact/path`. */
const SINGLE_ROUTES = new Map<string, ControlHandler>([
  ['GET /health', () => json(200, { ok: true })],
  [
    'POST /reset',
    ({ ctx }) => {
      ctx.engine.reset();
      ctx.control.clearFaults();
      ctx.control.resetCounters();
      return empty(204);
    },
  ],
  ['PUT /latency', putLatency],
  ['PUT /clock-offset', putClockOffset],
  ['GET /clock-offset', ({ ctx }) => json(200, { offsetMs: ctx.clock.offsetMs })],
  [
    'PUT /rate-limit',
    ({ ctx, body, b }) => {
      ctx.control.setRateLimit(body === null || body === undefined ? null : b);
      return empty(204);
    },
  ],
  ['PUT /speed', putSpeed],
  [
    'POST /tokens/expire',
    ({ ctx, b }) => {
      const kind = b.kind === 'keystone' || b.kind === 'uaa' ? b.kind : undefined;
      return json(200, { expired: ctx.tokens.expireAll(kind) });
    },
  ],
  ['PUT /token-ttl', putTokenTtl],
  ['POST /access-keys', postAccessKeys],
]);
