// Provider-neutral scenario suite for the OpenStack Heat v1 wire protocol.
//
// The same suite runs against a real Heat 19 + Keystone 22 (real-heat.test.ts) and against the
// project's emulator (emulator-heat.test.ts): what real Heat does here is the ground truth the
// emulator must match. The expectations were recorded from the real Heat; docs/real-heat.md
// lists them with the raw bodies.
//
// The suite logs in with Keystone v3 password auth itself, finds the orchestration endpoint in
// the token's catalog and talks raw HTTP (undici, redirects never followed).
import { randomBytes } from 'node:crypto';
import { request } from 'undici';
import { beforeAll, describe, expect, it } from 'vitest';

export interface HeatCredentials {
  username: string;
  password: string;
  projectName: string;
  userDomainName: string;
  projectDomainName: string;
}

export interface HeatTarget {
  /** Keystone v3 base URL (…/v3) */
  keystoneUrl: string;
  credentials: HeatCredentials;
  region: string;
}

export interface HeatScenarioOptions {
  /** Stack name prefix (default "scn") */
  prefix?: string;
  /** Poll interval while waiting for a status (default 500 ms) */
  pollMs?: number;
  /**
   * Scenarios (by id) in which this target is known to differ from the real Heat, with the reason.
   * They are skipped, unless HEAT_SCENARIOS_STRICT=1 is set, which runs every scenario.
   */
  knownDifferences?: Partial<Record<HeatScenarioId, string>>;
}

export const HEAT_SCENARIO_IDS = [
  'auth-missing-token',
  'auth-invalid-token',
  'not-found',
  'request-id',
  'create',
  'redirect',
  'duplicate',
  'update-put',
  'update-patch',
  'tags',
  'update-during-update',
  'cancel-rollback',
  'cancel-not-in-progress',
  'cancel-no-rollback-update',
  'cancel-no-rollback-create',
  'cancel-during-create',
  'fail-create',
  'fail-create-rollback',
  'fail-update',
  'delete',
  'delete-during-update',
  'delete-during-create',
  'preview-create',
  'preview-update',
] as const;
export type HeatScenarioId = (typeof HEAT_SCENARIO_IDS)[number];

// ---------------------------------------------------------------------------------------------
// HTTP

export interface HeatResponse {
  status: number;
  headers: Record<string, string>;
  text: string;
  /** the parsed JSON body, undefined when the body is empty or not JSON */
  json: unknown;
}

export interface HeatOutput {
  output_key: string;
  output_value: unknown;
  description: string;
  output_error?: string;
}

export interface HeatStack {
  id: string;
  stack_name: string;
  stack_status: string;
  stack_status_reason: string;
  links: { href: string; rel: string }[];
  description: string;
  template_description?: string;
  disable_rollback: boolean;
  timeout_mins: number | null;
  creation_time: string;
  updated_time: string | null;
  deletion_time: string | null;
  tags: string[] | null;
  parent: string | null;
  stack_owner: string;
  parameters: Record<string, string>;
  outputs: HeatOutput[];
}

interface KeystoneTokenBody {
  token: {
    project: { id: string };
    catalog?: { type: string; endpoints: { interface: string; region_id?: string; region?: string; url: string }[] }[];
  };
}

interface Session {
  token: string;
  /** orchestration public endpoint, project id substituted: http://host:port/v1/<project_id> */
  base: string;
  projectId: string;
}

async function http(method: string, url: string, opts: { token?: string; body?: unknown; accept?: string } = {}): Promise<HeatResponse> {
  const headers: Record<string, string> = { accept: opts.accept ?? 'application/json' };
  if (opts.token) headers['x-auth-token'] = opts.token;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers['content-type'] = 'application/json';
    body = JSON.stringify(opts.body);
  }
  const res = await request(url, {
    method: method as 'GET',
    headers,
    body,
    headersTimeout: 60_000,
    bodyTimeout: 60_000,
  });
  const text = await res.body.text();
  let json: unknown = undefined;
  if (text) {
    try {
      json = JSON.parse(text);
    } catch {
      json = undefined;
    }
  }
  const h: Record<string, string> = {};
  for (const [k, v] of Object.entries(res.headers)) {
    if (v !== undefined) h[k.toLowerCase()] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return { status: res.statusCode, headers: h, text, json };
}

async function login(target: HeatTarget): Promise<Session> {
  const c = target.credentials;
  const res = await http('POST', `${target.keystoneUrl.replace(/\/$/, '')}/auth/tokens`, {
    body: {
      auth: {
        identity: {
          methods: ['password'],
          password: { user: { name: c.username, domain: { name: c.userDomainName }, password: c.password } },
        },
        scope: { project: { name: c.projectName, domain: { name: c.projectDomainName } } },
      },
    },
  });
  if (res.status !== 201) throw new Error(`keystone login: ${res.status} ${res.text.slice(0, 300)}`);
  const token = res.headers['x-subject-token'];
  if (!token) throw new Error('keystone login: no X-Subject-Token');
  const tokenBody = res.json as KeystoneTokenBody;
  const catalog = tokenBody.token.catalog ?? [];
  const svc = catalog.find((s) => s.type === 'orchestration');
  if (!svc) throw new Error(`no orchestration service in catalog: ${JSON.stringify(catalog.map((s) => s.type))}`);
  const ep = svc.endpoints.find(
    (e) => e.interface === 'public' && (e.region_id === target.region || e.region === target.region),
  );
  if (!ep) throw new Error(`no public orchestration endpoint in region ${target.region}`);
  return { token, base: String(ep.url).replace(/\/$/, ''), projectId: tokenBody.token.project.id };
}

// ---------------------------------------------------------------------------------------------
// templates

const HOT = '2021-04-16';

/** One TestResource whose value and waits are parameters, an extra parameter, a RandomString. */
function testTemplate(): object {
  return {
    heat_template_version: HOT,
    description: 'stack-operator heat scenario',
    parameters: {
      value: { type: 'string', default: 'default-value' },
      extra: { type: 'string', default: 'default-extra' },
      create_wait: { type: 'number', default: 0 },
      update_wait: { type: 'number', default: 0 },
      fail: { type: 'boolean', default: false },
    },
    resources: {
      test: {
        type: 'OS::Heat::TestResource',
        properties: {
          value: { get_param: 'value' },
          fail: { get_param: 'fail' },
          action_wait_secs: { create: { get_param: 'create_wait' }, update: { get_param: 'update_wait' } },
        },
      },
      rnd: { type: 'OS::Heat::RandomString', properties: { length: 8 } },
    },
    outputs: {
      out: { description: 'the test value', value: { get_attr: ['test', 'output'] } },
      extra: { value: { get_param: 'extra' } },
      rnd: { value: { get_attr: ['rnd', 'value'] } },
    },
  };
}

/** For previews (docs/plan-approve.md): `next` changes test in place, replaces rnd, removes gone, adds more. */
function previewTemplate(next: boolean): object {
  const extra = next ? { more: { type: 'OS::Heat::TestResource', properties: { value: 'more' } } } : { gone: { type: 'OS::Heat::TestResource', properties: { value: 'gone' } } };
  return {
    heat_template_version: HOT,
    resources: {
      test: { type: 'OS::Heat::TestResource', properties: { value: next ? 'two' : 'one' } },
      rnd: { type: 'OS::Heat::RandomString', properties: { length: next ? 10 : 8 } },
      ...extra,
    },
  };
}

/** A template whose single resource fails its create (after waiting createWait s). */
function failingTemplate(createWait = 1): object {
  return {
    heat_template_version: HOT,
    resources: {
      bad: { type: 'OS::Heat::TestResource', properties: { fail: true, action_wait_secs: { create: createWait } } },
    },
  };
}

// ---------------------------------------------------------------------------------------------
// suite

export function defineHeatScenarios(getTarget: () => HeatTarget, options: HeatScenarioOptions = {}): void {
  const prefix = options.prefix ?? 'scn';
  const pollMs = options.pollMs ?? 500;
  let s!: Session;
  const strict = process.env.HEAT_SCENARIOS_STRICT === '1';
  const known = options.knownDifferences ?? {};

  /** Declares one scenario; its id is part of the title so that failures name it. */
  function scenario(id: HeatScenarioId, title: string, fn: () => Promise<void>, timeoutMs?: number): void {
    const reason = known[id];
    if (reason !== undefined && !strict) {
      it.skip(`[${id}] ${title} (known difference: ${reason})`, fn, timeoutMs);
    } else {
      it(`[${id}] ${title}`, fn, timeoutMs);
    }
  }

  const name = (what: string) => `${prefix}-${what}-${randomBytes(3).toString('hex')}`;
  const url = (p: string) => (/^https?:/.test(p) ? p : `${s.base}${p}`);
  const get = (p: string) => http('GET', url(p), { token: s.token });
  const send = (method: string, p: string, body?: unknown) => http(method, url(p), { token: s.token, body });

  async function create(stackName: string, body: Record<string, unknown>): Promise<{ id: string; path: string; res: HeatResponse }> {
    const res = await send('POST', '/stacks', { stack_name: stackName, ...body });
    expect(res.status, res.text).toBe(201);
    const id = (res.json as { stack: { id: string } }).stack.id;
    return { id, path: `/stacks/${stackName}/${id}`, res };
  }

  async function show(p: string): Promise<HeatStack> {
    const res = await get(p);
    expect(res.status, res.text).toBe(200);
    return (res.json as { stack: HeatStack }).stack;
  }

  /** Polls until stack_status is one of `until`; returns the stack and every status seen. */
  async function waitStatus(p: string, until: string[], timeoutMs = 60_000): Promise<{ stack: HeatStack; seen: string[] }> {
    const seen: string[] = [];
    const trail: string[] = [];
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const stack = await show(p);
      if (seen[seen.length - 1] !== stack.stack_status) {
        seen.push(stack.stack_status);
        trail.push(`${stack.stack_status}: ${stack.stack_status_reason}`);
      }
      if (until.includes(stack.stack_status)) return { stack, seen };
      if (Date.now() > deadline) {
        throw new Error(`${p}: still ${stack.stack_status} (${stack.stack_status_reason}) after ${timeoutMs} ms; wanted ${until.join('|')}; seen ${trail.join(' > ')}`);
      }
      await new Promise((r) => setTimeout(r, pollMs));
    }
  }

  async function action(p: string, body: unknown): Promise<HeatResponse> {
    return send('POST', `${p}/actions`, body);
  }

  async function cleanup(p: string): Promise<void> {
    const res = await send('DELETE', p);
    expect([204, 404]).toContain(res.status);
  }

  const outputs = (stack: HeatStack): Record<string, unknown> =>
    Object.fromEntries(stack.outputs.map((o) => [o.output_key, o.output_value]));
  const stacksOf = (res: HeatResponse): HeatStack[] => (res.json as { stacks: HeatStack[] }).stacks;

  const notFoundBody = (stackName: string) => ({
    code: 404,
    title: 'Not Found',
    explanation: 'The resource could not be found.',
    error: { type: 'EntityNotFound', message: `The Stack (${stackName}) could not be found.`, traceback: null },
  });

  const badRequestBody = (type: string, message: string) => ({
    code: 400,
    title: 'Bad Request',
    explanation: 'The server could not comply with the request since it is either malformed or otherwise incorrect.',
    error: { type, message, traceback: null },
  });

  describe('Heat v1 wire protocol scenarios', () => {
    beforeAll(async () => {
      s = await login(getTarget());
    });

    describe('authentication and errors', () => {
      scenario('auth-missing-token', 'rejects a request without a token with 401 and a Keystone challenge', async () => {
        const res = await http('GET', url('/stacks'));
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toMatch(/^Keystone uri="[^"]+"$/);
        expect(res.json).toEqual({
          error: { code: 401, title: 'Unauthorized', message: 'The request you have made requires authentication.' },
        });
      });

      scenario('auth-invalid-token', 'rejects an invalid token with 401', async () => {
        const res = await http('GET', url('/stacks'), { token: 'not-a-valid-token' });
        expect(res.status).toBe(401);
        expect((res.json as { error?: { code?: number } } | undefined)?.error?.code).toBe(401);
      });

      scenario('not-found', 'answers 404 with Heat\'s error body for an unknown stack, by name and by name/id', async () => {
        const n = name('missing');
        const byName = await get(`/stacks/${n}`);
        expect(byName.status).toBe(404);
        expect(byName.headers['content-type']).toMatch(/^application\/json/);
        expect(byName.json).toEqual(notFoundBody(n));
        const byId = await get(`/stacks/${n}/00000000-0000-4000-8000-000000000000`);
        expect(byId.status).toBe(404);
        expect(byId.json).toEqual(notFoundBody(n));
      });

      scenario('request-id', 'carries an X-Openstack-Request-Id on responses', async () => {
        const res = await get('/stacks');
        expect(res.status).toBe(200);
        expect(res.headers['x-openstack-request-id']).toMatch(/^req-[0-9a-f-]{36}$/);
        expect(Array.isArray(stacksOf(res))).toBe(true);
      });
    });

    describe('create, read, update', () => {
      scenario('create', 'creates a stack with TestResource and RandomString: 201, CREATE_COMPLETE, outputs', async () => {
        const n = name('create');
        const { id, path, res } = await create(n, { template: testTemplate(), parameters: { value: 'one' } });
        expect(res.json).toEqual({ stack: { id, links: [{ href: `${s.base}${path}`, rel: 'self' }] } });
        expect(res.headers.location).toBe(`${s.base}${path}`);
        expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);

        const first = await show(path);
        expect(['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']).toContain(first.stack_status);
        if (first.stack_status === 'CREATE_IN_PROGRESS') expect(first.stack_status_reason).toBe('Stack CREATE started');

        const { stack } = await waitStatus(path, ['CREATE_COMPLETE', 'CREATE_FAILED']);
        expect(stack.stack_status).toBe('CREATE_COMPLETE');
        expect(stack.stack_status_reason).toBe('Stack CREATE completed successfully');
        expect(stack.id).toBe(id);
        expect(stack.stack_name).toBe(n);
        expect(stack.links).toEqual([{ href: `${s.base}${path}`, rel: 'self' }]);
        expect(stack.description).toBe('stack-operator heat scenario');
        expect(stack.template_description).toBe('stack-operator heat scenario');
        // disable_rollback defaults to true when the request omits it
        expect(stack.disable_rollback).toBe(true);
        expect(stack.timeout_mins).toBeNull();
        expect(stack.creation_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        expect(stack.updated_time).toBeNull();
        expect(stack.deletion_time).toBeNull();
        expect(stack.tags).toEqual([]);
        expect(stack.parent).toBeNull();
        expect(stack.stack_owner).toBe(getTarget().credentials.username);
        // parameter values come back as strings, with Heat's pseudo parameters
        expect(stack.parameters).toEqual({
          'OS::stack_id': id,
          'OS::stack_name': n,
          'OS::project_id': s.projectId,
          value: 'one',
          extra: 'default-extra',
          create_wait: '0',
          update_wait: '0',
          fail: 'False',
        });
        const outs = outputs(stack);
        expect(outs.out).toBe('one');
        expect(outs.extra).toBe('default-extra');
        expect(outs.rnd).toMatch(/^[A-Za-z0-9]{8}$/);
        const outDesc = Object.fromEntries(stack.outputs.map((o) => [o.output_key, o.description]));
        expect(outDesc).toEqual({ out: 'the test value', extra: 'No description given', rnd: 'No description given' });

        const one = await get(`${path}/outputs/out`);
        expect(one.status).toBe(200);
        expect(one.json).toEqual({ output: { output_key: 'out', output_value: 'one', description: 'the test value' } });

        const list = await get('/stacks');
        const listed = stacksOf(list).find((x) => x.id === id);
        expect(listed).toMatchObject({ id, stack_name: n, stack_status: 'CREATE_COMPLETE' });
        expect(listed && 'parameters' in listed).toBe(false);
        expect(listed?.outputs).toBeUndefined();
        await cleanup(path);
      });

      scenario('redirect', 'redirects GET by name with 302 to the canonical name/id URL (sub-paths too)', async () => {
        const n = name('redirect');
        const { path } = await create(n, { template: testTemplate() });
        const res = await get(`/stacks/${n}`);
        expect(res.status).toBe(302);
        expect(res.headers.location).toBe(`${s.base}${path}`);
        // the query string is kept
        const q = await get(`/stacks/${n}?resolve_outputs=false`);
        expect(q.status).toBe(302);
        expect(q.headers.location).toBe(`${s.base}${path}?resolve_outputs=false`);
        // sub-paths resources, events, template, environment, files redirect too ...
        for (const sp of ['resources', 'events', 'template', 'environment', 'files']) {
          const sub = await get(`/stacks/${n}/${sp}`);
          expect(sub.status, sp).toBe(302);
          expect(sub.headers.location).toBe(`${s.base}${path}/${sp}`);
        }
        // ... but outputs does not: "outputs" is taken as the stack id, and that stack is not found
        const outs = await get(`/stacks/${n}/outputs`);
        expect(outs.status).toBe(404);
        expect(outs.json).toEqual(notFoundBody(n));
        // PATCH and PUT by name redirect as well
        for (const method of ['PATCH', 'PUT']) {
          const r = await send(method, `/stacks/${n}`, {});
          expect(r.status, method).toBe(302);
          expect(r.headers.location).toBe(`${s.base}${path}`);
        }
        // POST by name redirects as well: a client must re-send the body to the new URL itself
        const act = await send('POST', `/stacks/${n}/actions`, { cancel_update: null });
        expect(act.status).toBe(302);
        expect(act.headers.location).toBe(`${s.base}${path}/actions`);
        const del = await send('DELETE', `/stacks/${n}`);
        expect(del.status).toBe(302);
        expect(del.headers.location).toBe(`${s.base}${path}`);
        await waitStatus(path, ['CREATE_COMPLETE', 'CREATE_FAILED']);
        await cleanup(path);
      });

      scenario('duplicate', 'refuses a duplicate stack name with 409 StackExists', async () => {
        const n = name('dup');
        const { path } = await create(n, { template: testTemplate() });
        const again = await send('POST', '/stacks', { stack_name: n, template: testTemplate() });
        expect(again.status).toBe(409);
        expect(again.json).toEqual({
          code: 409,
          title: 'Conflict',
          explanation: 'There was a conflict when trying to complete your request.',
          error: { type: 'StackExists', message: `The Stack (${n}) already exists.`, traceback: null },
        });
        await waitStatus(path, ['CREATE_COMPLETE', 'CREATE_FAILED']);
        await cleanup(path);
      });

      scenario('update-put', 'updates with PUT: 202, UPDATE_IN_PROGRESS then UPDATE_COMPLETE with the new output', async () => {
        const n = name('put');
        const { path } = await create(n, { template: testTemplate(), parameters: { value: 'one' } });
        await waitStatus(path, ['CREATE_COMPLETE']);
        const res = await send('PUT', path, { template: testTemplate(), parameters: { value: 'two', update_wait: 2 } });
        expect(res.status).toBe(202);
        expect(res.json).toEqual({
          code: '202 Accepted',
          title: 'Accepted',
          message: 'The request is accepted for processing.<br /><br />\n\n\n',
        });
        const during = await show(path);
        expect(during.stack_status).toBe('UPDATE_IN_PROGRESS');
        expect(during.stack_status_reason).toBe('Stack UPDATE started');
        expect(during.updated_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);
        // the new parameters are visible as soon as the update is accepted
        expect(during.parameters.value).toBe('two');
        const { stack } = await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED']);
        expect(stack.stack_status).toBe('UPDATE_COMPLETE');
        expect(stack.stack_status_reason).toBe('Stack UPDATE completed successfully');
        expect(outputs(stack).out).toBe('two');
        await cleanup(path);
      });

      scenario('update-patch', 'PATCH keeps the existing template and parameters; PUT resets omitted parameters to defaults', async () => {
        const n = name('patch');
        const { path } = await create(n, { template: testTemplate(), parameters: { value: 'one', extra: 'kept' } });
        const created = await waitStatus(path, ['CREATE_COMPLETE']);
        const rnd = outputs(created.stack).rnd;

        // PATCH without template: merge parameters over the existing ones
        const patch = await send('PATCH', path, { parameters: { value: 'two' } });
        expect(patch.status).toBe(202);
        let { stack } = await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED']);
        expect(stack.stack_status).toBe('UPDATE_COMPLETE');
        expect(stack.parameters.value).toBe('two');
        expect(stack.parameters.extra).toBe('kept');
        expect(outputs(stack)).toEqual({ out: 'two', extra: 'kept', rnd });

        // PATCH with clear_parameters: that parameter goes back to its template default
        const clear = await send('PATCH', path, { clear_parameters: ['extra'] });
        expect(clear.status).toBe(202);
        ({ stack } = await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED']));
        expect(stack.parameters.value).toBe('two');
        expect(stack.parameters.extra).toBe('default-extra');

        // PUT: parameters not supplied fall back to the template defaults
        const put = await send('PUT', path, { template: testTemplate(), parameters: { extra: 'new' } });
        expect(put.status).toBe(202);
        ({ stack } = await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED']));
        expect(stack.stack_status).toBe('UPDATE_COMPLETE');
        expect(stack.parameters.value).toBe('default-value');
        expect(stack.parameters.extra).toBe('new');
        expect(outputs(stack)).toEqual({ out: 'default-value', extra: 'new', rnd });

        // PUT without a template is a 400
        const noTemplate = await send('PUT', path, { parameters: { value: 'x' } });
        expect(noTemplate.status).toBe(400);
        await cleanup(path);
      });
    });

    describe('tags and concurrent updates', () => {
      scenario('tags', 'tags: comma string in, list out; list filters; PATCH keeps them, PUT without tags clears them', async () => {
        const n = name('tags');
        const { id, path } = await create(n, { template: testTemplate(), tags: 'owner=abc,x', timeout_mins: 7 });
        let { stack } = await waitStatus(path, ['CREATE_COMPLETE', 'CREATE_FAILED']);
        expect(stack.tags).toEqual(['owner=abc', 'x']);
        expect(stack.timeout_mins).toBe(7);

        const has = async (query: string) => stacksOf(await get(`/stacks?${query}`)).some((x) => x.id === id);
        expect(await has('tags=owner%3Dabc')).toBe(true);
        expect(await has('tags=x,nope')).toBe(false);
        expect(await has('tags_any=x,nope')).toBe(true);
        expect(await has('not_tags=x')).toBe(false);
        const listed = stacksOf(await get('/stacks?tags=owner%3Dabc')).find((x) => x.id === id);
        expect(listed?.tags).toEqual(['owner=abc', 'x']);

        expect((await send('PATCH', path, { parameters: { value: 'b' } })).status).toBe(202);
        ({ stack } = await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED']));
        expect(stack.tags).toEqual(['owner=abc', 'x']);

        expect((await send('PATCH', path, { tags: 'y' })).status).toBe(202);
        ({ stack } = await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED']));
        expect(stack.tags).toEqual(['y']);

        // PUT without tags clears them; timeout_mins is kept
        expect((await send('PUT', path, { template: testTemplate(), parameters: { value: 'c' } })).status).toBe(202);
        ({ stack } = await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED']));
        expect(stack.stack_status).toBe('UPDATE_COMPLETE');
        expect(stack.tags).toEqual([]);
        expect(stack.timeout_mins).toBe(7);
        await cleanup(path);
      });

      scenario('update-during-update', 'an update while an update runs is accepted (202) and the newest one wins', async () => {
        const n = name('upd2');
        const { path } = await create(n, { template: testTemplate(), parameters: { value: 'a' } });
        await waitStatus(path, ['CREATE_COMPLETE']);
        expect((await send('PATCH', path, { parameters: { value: 'd', update_wait: 5 } })).status).toBe(202);
        await new Promise((r) => setTimeout(r, 1_000));
        expect((await show(path)).stack_status).toBe('UPDATE_IN_PROGRESS');
        const t2 = Date.now();
        const second = await send('PATCH', path, { parameters: { value: 'e', update_wait: 1 } });
        expect(second.status).toBe(202);
        const during = await show(path);
        expect(during.stack_status).toBe('UPDATE_IN_PROGRESS');
        expect(during.parameters.value).toBe('e');
        // the stack stays UPDATE_IN_PROGRESS until the newest traversal is done (no intermediate COMPLETE)
        const { stack, seen } = await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED', 'ROLLBACK_COMPLETE'], 60_000);
        expect(seen).toEqual(['UPDATE_IN_PROGRESS', 'UPDATE_COMPLETE']);
        // the in-flight resource update (5 s wait, started ~1 s before the second PATCH) is not
        // interrupted: the newest update only takes over when it ends (real Heat: ~4.5-5 s)
        expect(Date.now() - t2).toBeGreaterThanOrEqual(3_000);
        expect(stack.stack_status_reason).toBe('Stack UPDATE completed successfully');
        expect(outputs(stack).out).toBe('e');
        expect(stack.parameters.value).toBe('e');
        await cleanup(path);
      }, 90_000);
    });

    describe('cancel', () => {
      scenario('cancel-rollback', 'cancel_update during a long update: 200, ROLLBACK_COMPLETE, old output and parameters back', async () => {
        const n = name('cancel');
        const { path } = await create(n, { template: testTemplate(), parameters: { value: 'old' } });
        await waitStatus(path, ['CREATE_COMPLETE']);
        const upd = await send('PATCH', path, { parameters: { value: 'new', update_wait: 15 } });
        expect(upd.status).toBe(202);
        const during = await show(path);
        expect(during.stack_status).toBe('UPDATE_IN_PROGRESS');
        await new Promise((r) => setTimeout(r, 1_000));

        const res = await action(path, { cancel_update: null });
        expect(res.status).toBe(200);
        expect(res.headers['content-type']).toMatch(/^application\/json/);
        expect(res.text).toBe('null');

        // the cancel is asynchronous (an RPC cast): the stack may still read UPDATE_IN_PROGRESS for a moment
        let after = await show(path);
        for (let i = 0; i < 20 && after.stack_status === 'UPDATE_IN_PROGRESS'; i++) {
          await new Promise((r) => setTimeout(r, 250));
          after = await show(path);
        }
        expect(after.stack_status).toBe('ROLLBACK_IN_PROGRESS');
        expect(after.stack_status_reason).toBe('Stack ROLLBACK started');
        // the rollback target's parameters are visible at once
        expect(after.parameters.value).toBe('old');

        // a cancel while the rollback runs is refused
        const again = await action(path, { cancel_update: null });
        expect(again.status).toBe(400);
        expect(again.json).toEqual(badRequestBody('NotSupported', 'Cancelling update when stack is ROLLBACK_IN_PROGRESS is not supported.'));

        // the in-flight resource update is not interrupted: the rollback ends after it
        const { stack, seen } = await waitStatus(path, ['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED'], 90_000);
        expect(seen[0]).toBe('ROLLBACK_IN_PROGRESS');
        expect(stack.stack_status).toBe('ROLLBACK_COMPLETE');
        expect(stack.stack_status_reason).toBe('Stack ROLLBACK completed successfully');
        expect(outputs(stack).out).toBe('old');
        expect(stack.parameters.value).toBe('old');
        expect(stack.parameters.update_wait).toBe('0');
        await cleanup(path);
      }, 150_000);

      scenario('cancel-not-in-progress', 'cancel_update / cancel_without_rollback when nothing is in progress: 400 NotSupported', async () => {
        const n = name('nocancel');
        const { path } = await create(n, { template: testTemplate() });
        await waitStatus(path, ['CREATE_COMPLETE']);
        for (const body of [{ cancel_update: null }, { cancel_without_rollback: null }]) {
          const res = await action(path, body);
          expect(res.status).toBe(400);
          expect(res.json).toEqual(badRequestBody('NotSupported', 'Cancelling update when stack is CREATE_COMPLETE is not supported.'));
        }
        const none = await action(path, {});
        expect(none.status).toBe(400);
        expect(none.json).toEqual(badRequestBody('HTTPBadRequest', 'No action specified'));
        const bogus = await action(path, { bogus: null });
        expect(bogus.status).toBe(400);
        expect(bogus.json).toEqual(badRequestBody('HTTPBadRequest', 'Invalid action bogus specified'));
        const two = await action(path, { cancel_update: null, check: null });
        expect(two.status).toBe(400);
        expect(two.json).toEqual(badRequestBody('HTTPBadRequest', 'Multiple actions specified'));
        await cleanup(path);
      });

      scenario('cancel-no-rollback-update', 'cancel_without_rollback during an update: UPDATE_FAILED "Stack UPDATE cancelled", new values kept', async () => {
        const n = name('cwr');
        const { path } = await create(n, { template: testTemplate(), parameters: { value: 'old' } });
        await waitStatus(path, ['CREATE_COMPLETE']);
        const upd = await send('PATCH', path, { parameters: { value: 'new', update_wait: 4 } });
        expect(upd.status).toBe(202);
        expect((await show(path)).stack_status).toBe('UPDATE_IN_PROGRESS');

        const res = await action(path, { cancel_without_rollback: null });
        expect(res.status).toBe(200);
        expect(res.text).toBe('null');

        const { stack } = await waitStatus(path, ['UPDATE_FAILED', 'UPDATE_COMPLETE', 'ROLLBACK_COMPLETE'], 30_000);
        expect(stack.stack_status).toBe('UPDATE_FAILED');
        expect(stack.stack_status_reason).toBe('Stack UPDATE cancelled');
        expect(stack.parameters.value).toBe('new');

        const again = await action(path, { cancel_update: null });
        expect(again.status).toBe(400);
        expect(again.json).toEqual(badRequestBody('NotSupported', 'Cancelling update when stack is UPDATE_FAILED is not supported.'));

        // a failed stack can be updated again
        await new Promise((r) => setTimeout(r, 4_000));
        const fix = await send('PATCH', path, { parameters: { value: 'fixed', update_wait: 0 } });
        expect(fix.status).toBe(202);
        const fixed = await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED'], 60_000);
        expect(fixed.stack.stack_status).toBe('UPDATE_COMPLETE');
        expect(outputs(fixed.stack).out).toBe('fixed');
        await cleanup(path);
      }, 120_000);

      scenario('cancel-no-rollback-create', 'cancel_without_rollback during a create: CREATE_FAILED "Stack CREATE cancelled"', async () => {
        const n = name('cwrc');
        const { path } = await create(n, { template: testTemplate(), parameters: { create_wait: 4 } });
        expect((await show(path)).stack_status).toBe('CREATE_IN_PROGRESS');
        const res = await action(path, { cancel_without_rollback: null });
        expect(res.status).toBe(200);
        expect(res.text).toBe('null');
        const { stack } = await waitStatus(path, ['CREATE_FAILED', 'CREATE_COMPLETE'], 30_000);
        expect(stack.stack_status).toBe('CREATE_FAILED');
        expect(stack.stack_status_reason).toBe('Stack CREATE cancelled');
        await cleanup(path);
      });

      scenario('cancel-during-create', 'cancel_update during a create is refused: 400 NotSupported', async () => {
        const n = name('cuc');
        const { path } = await create(n, { template: testTemplate(), parameters: { create_wait: 3 } });
        const res = await action(path, { cancel_update: null });
        expect(res.status).toBe(400);
        expect(res.json).toEqual(badRequestBody('NotSupported', 'Cancelling update when stack is CREATE_IN_PROGRESS is not supported.'));
        await waitStatus(path, ['CREATE_COMPLETE'], 30_000);
        await cleanup(path);
      });
    });

    describe('failures and rollback', () => {
      scenario('fail-create', 'a failing resource with rollback disabled: CREATE_FAILED with the resource error', async () => {
        const n = name('fail');
        const { path } = await create(n, { template: failingTemplate(), disable_rollback: true });
        const { stack, seen } = await waitStatus(path, ['CREATE_FAILED', 'CREATE_COMPLETE', 'ROLLBACK_COMPLETE']);
        expect(seen[0]).toBe('CREATE_IN_PROGRESS');
        expect(stack.stack_status).toBe('CREATE_FAILED');
        expect(stack.stack_status_reason).toBe('Resource CREATE failed: ValueError: resources.bad: Test Resource failed bad');
        expect(stack.disable_rollback).toBe(true);
        await cleanup(path);
      });

      scenario('fail-create-rollback', 'a failing resource with rollback enabled: ROLLBACK_COMPLETE', async () => {
        const n = name('rollback');
        const { path } = await create(n, { template: failingTemplate(), disable_rollback: false });
        // CREATE_FAILED shows briefly before the rollback starts: it is not a final state here
        const { stack, seen } = await waitStatus(path, ['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'CREATE_COMPLETE']);
        expect(seen[0]).toBe('CREATE_IN_PROGRESS');
        const order = ['CREATE_IN_PROGRESS', 'CREATE_FAILED', 'ROLLBACK_IN_PROGRESS', 'ROLLBACK_COMPLETE'];
        expect(seen.every((st, i) => i === 0 || order.indexOf(st) > order.indexOf(seen[i - 1]!)), seen.join(' > ')).toBe(true);
        expect(stack.stack_status).toBe('ROLLBACK_COMPLETE');
        expect(stack.stack_status_reason).toBe('Stack ROLLBACK completed successfully');
        expect(stack.disable_rollback).toBe(false);
        await cleanup(path);
      });

      scenario('fail-update', 'a failing update: UPDATE_FAILED without rollback, ROLLBACK_COMPLETE with the old output when rollback is on', async () => {
        const n = name('updfail');
        const { path } = await create(n, { template: testTemplate(), parameters: { value: 'good' } });
        await waitStatus(path, ['CREATE_COMPLETE']);
        const bad = await send('PATCH', path, { parameters: { value: 'bad', fail: true } });
        expect(bad.status).toBe(202);
        let { stack } = await waitStatus(path, ['UPDATE_FAILED', 'UPDATE_COMPLETE', 'ROLLBACK_COMPLETE']);
        expect(stack.stack_status).toBe('UPDATE_FAILED');
        expect(stack.stack_status_reason).toBe('Resource UPDATE failed: ValueError: resources.test: Test Resource failed test');

        // a PATCH may switch rollback on for the next update
        const fix = await send('PATCH', path, { parameters: { value: 'good2', fail: false } });
        expect(fix.status).toBe(202);
        ({ stack } = await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED']));
        expect(stack.stack_status).toBe('UPDATE_COMPLETE');
        const bad2 = await send('PATCH', path, { parameters: { value: 'bad2', fail: true }, disable_rollback: false });
        expect(bad2.status).toBe(202);
        // UPDATE_FAILED shows briefly before the rollback starts: it is not a final state here
        ({ stack } = await waitStatus(path, ['ROLLBACK_COMPLETE', 'ROLLBACK_FAILED', 'UPDATE_COMPLETE']));
        expect(stack.stack_status).toBe('ROLLBACK_COMPLETE');
        expect(stack.stack_status_reason).toBe('Stack ROLLBACK completed successfully');
        expect(outputs(stack).out).toBe('good2');
        expect(stack.parameters.value).toBe('good2');
        await cleanup(path);
      }, 120_000);
    });

    describe('delete', () => {
      scenario('delete', 'DELETE by name/id: 204, then gone by name; by id it shows DELETE_COMPLETE; listed only with show_deleted', async () => {
        const n = name('delete');
        const { id, path } = await create(n, { template: testTemplate() });
        await waitStatus(path, ['CREATE_COMPLETE']);
        const res = await send('DELETE', path);
        expect(res.status).toBe(204);
        expect(res.text).toBe('');

        // poll by name until it 404s
        const deadline = Date.now() + 60_000;
        let byName = await get(`/stacks/${n}`);
        while (byName.status !== 404 && Date.now() < deadline) {
          expect(byName.status).toBe(302);
          await new Promise((r) => setTimeout(r, pollMs));
          byName = await get(`/stacks/${n}`);
        }
        expect(byName.status).toBe(404);
        expect(byName.json).toEqual(notFoundBody(n));

        // by name/id the deleted stack is still shown
        const byId = await get(path);
        expect(byId.status).toBe(200);
        const deleted = (byId.json as { stack: HeatStack }).stack;
        expect(deleted.stack_status).toBe('DELETE_COMPLETE');
        expect(deleted.stack_status_reason).toBe('Stack DELETE completed successfully');
        expect(deleted.deletion_time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$/);

        const list = await get('/stacks');
        expect(stacksOf(list).some((x) => x.id === id)).toBe(false);
        const listDeleted = await get('/stacks?show_deleted=true');
        expect(stacksOf(listDeleted).find((x) => x.id === id)).toMatchObject({
          id,
          stack_name: n,
          stack_status: 'DELETE_COMPLETE',
          stack_status_reason: 'Stack DELETE completed successfully',
        });

        // every other operation on the deleted stack is a 404
        for (const [method, p, body] of [
          ['DELETE', path, undefined],
          ['PATCH', path, {}],
          ['POST', `${path}/actions`, { cancel_update: null }],
          ['GET', `${path}/outputs`, undefined],
        ] as const) {
          const r = await send(method, p, body);
          expect(r.status, `${method} ${p}`).toBe(404);
          expect(r.json).toEqual(notFoundBody(n));
        }

        // the name is free again
        const { path: path2 } = await create(n, { template: testTemplate() });
        expect(path2).not.toBe(path);
        await waitStatus(path2, ['CREATE_COMPLETE']);
        await cleanup(path2);
      });

      scenario('delete-during-update', 'DELETE during an update is accepted and the stack goes away', async () => {
        const n = name('delupd');
        const { path } = await create(n, { template: testTemplate(), parameters: { value: 'a' } });
        await waitStatus(path, ['CREATE_COMPLETE']);
        const upd = await send('PATCH', path, { parameters: { value: 'b', update_wait: 3 } });
        expect(upd.status).toBe(202);
        const res = await send('DELETE', path);
        expect(res.status).toBe(204);
        const { stack } = await waitStatus(path, ['DELETE_COMPLETE', 'DELETE_FAILED'], 60_000);
        expect(stack.stack_status).toBe('DELETE_COMPLETE');
      });

      scenario('delete-during-create', 'DELETE during a create is accepted: DELETE_IN_PROGRESS, then DELETE_COMPLETE', async () => {
        const n = name('delcre');
        const { path } = await create(n, { template: testTemplate(), parameters: { create_wait: 5 } });
        const res = await send('DELETE', path);
        expect(res.status).toBe(204);
        const { stack, seen } = await waitStatus(path, ['DELETE_COMPLETE', 'DELETE_FAILED'], 60_000);
        expect(stack.stack_status).toBe('DELETE_COMPLETE');
        expect(stack.stack_status_reason).toBe('Stack DELETE completed successfully');
        expect(seen.every((st) => ['CREATE_IN_PROGRESS', 'DELETE_IN_PROGRESS', 'DELETE_COMPLETE'].includes(st)), seen.join(' > ')).toBe(true);
        // by id DELETE_COMPLETE can show a moment before the lookup by name stops finding the stack
        let byName = await get(`/stacks/${n}`);
        for (let i = 0; i < 40 && byName.status === 302; i++) {
          await new Promise((r) => setTimeout(r, 250));
          byName = await get(`/stacks/${n}`);
        }
        expect(byName.status).toBe(404);
      });
    });

    describe('preview', () => {
      const names = (list: unknown): string[] => (Array.isArray(list) ? list.map((r) => (r as { resource_name: string }).resource_name).sort() : []);

      scenario('preview-create', 'POST /stacks/preview lists the resources a create would make, INIT, and creates nothing', async () => {
        const n = name('prevc');
        const res = await send('POST', '/stacks/preview', { stack_name: n, template: previewTemplate(false) });
        expect(res.status, res.text).toBe(200);
        const stack = (res.json as { stack: { id: string; stack_name: string; resources: { resource_action: string; resource_type: string }[] } }).stack;
        expect(stack.stack_name).toBe(n);
        expect(stack.id).toBe('None');
        expect(names(stack.resources)).toEqual(['gone', 'rnd', 'test']);
        expect(stack.resources.every((r) => r.resource_action === 'INIT')).toBe(true);
        expect((await get(`/stacks/${n}`)).status).toBe(404);
      });

      scenario('preview-update', 'PUT .../preview groups added / deleted / replaced / updated / unchanged, and the update does that', async () => {
        const n = name('prevu');
        const { path } = await create(n, { template: previewTemplate(false) });
        await waitStatus(path, ['CREATE_COMPLETE']);
        const same = await send('PUT', `${path}/preview`, { template: previewTemplate(false) });
        expect(same.status, same.text).toBe(200);
        const unchanged = (same.json as { resource_changes: Record<string, unknown[]> }).resource_changes;
        expect(names(unchanged.unchanged)).toEqual(['gone', 'rnd', 'test']);
        for (const k of ['added', 'deleted', 'replaced', 'updated']) expect(names(unchanged[k]), k).toEqual([]);

        const before = (await get(`${path}/resources`)).json as { resources: { resource_name: string; physical_resource_id: string }[] };
        const res = await send('PUT', `${path}/preview`, { template: previewTemplate(true) });
        expect(res.status, res.text).toBe(200);
        const changes = (res.json as { resource_changes: Record<string, unknown[]> }).resource_changes;
        expect({
          added: names(changes.added),
          deleted: names(changes.deleted),
          replaced: names(changes.replaced),
          updated: names(changes.updated),
          unchanged: names(changes.unchanged),
        }).toEqual({ added: ['more'], deleted: ['gone'], replaced: ['rnd'], updated: ['test'], unchanged: [] });
        // The preview changed nothing; the update with the same body then does what it said.
        expect((await show(path)).updated_time).toBeNull();
        expect((await send('PUT', path, { template: previewTemplate(true) })).status).toBe(202);
        expect((await waitStatus(path, ['UPDATE_COMPLETE', 'UPDATE_FAILED'])).stack.stack_status).toBe('UPDATE_COMPLETE');
        const after = (await get(`${path}/resources`)).json as { resources: { resource_name: string; physical_resource_id: string }[] };
        expect(names(after.resources)).toEqual(['more', 'rnd', 'test']);
        const id = (list: typeof before.resources, r: string) => list.find((x) => x.resource_name === r)?.physical_resource_id;
        expect(id(after.resources, 'rnd')).not.toBe(id(before.resources, 'rnd'));
        expect(id(after.resources, 'test')).toBe(id(before.resources, 'test'));
        await cleanup(path);
      });
    });
  });
}
