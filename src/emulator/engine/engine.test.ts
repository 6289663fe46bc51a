import { describe, expect, it } from 'vitest';
import { FakeClock } from './clock.ts';
import { EngineError, StackEngine, waitSeconds } from './engine.ts';
import { parseHclSubset, parseTemplate, TemplateError } from './template.ts';

function hot(res: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    heat_template_version: '2018-08-31',
    parameters: { p: { type: 'string', default: 'dflt' } },
    resources: { r1: { type: 'OS::Heat::TestResource', properties: res } },
    outputs: { out: { value: { get_attr: ['r1', 'output'] } } },
    ...extra,
  });
}

function setup(): { clock: FakeClock; engine: StackEngine } {
  const clock = new FakeClock();
  let n = 0;
  const engine = new StackEngine({ clock, idGenerator: () => `id-${++n}` });
  return { clock, engine };
}

function state(s: { action: string; status: string }): string {
  return `${s.action}_${s.status}`;
}

describe('StackEngine', () => {
  it('create completes after the resource wait and resolves outputs', () => {
    const { clock, engine } = setup();
    const t = parseTemplate(hot({ value: { get_param: 'p' }, wait_secs: 5 }), 'hot');
    const s = engine.create({ provider: 'heat', scope: 'p1', name: 'a', template: t });
    expect(state(s)).toBe('CREATE_IN_PROGRESS');
    expect(s.statusReason).toBe('Stack CREATE started');
    clock.advance(4999);
    expect(state(s)).toBe('CREATE_IN_PROGRESS');
    clock.advance(1);
    expect(state(s)).toBe('CREATE_COMPLETE');
    expect(s.statusReason).toBe('Stack CREATE completed successfully');
    expect(engine.outputs(s)).toEqual([{ key: 'out', value: 'dflt', sensitive: false }]);
    expect(s.events.filter((e) => e.stack).map((e) => `${e.action}_${e.status}`)).toEqual(['CREATE_IN_PROGRESS', 'CREATE_COMPLETE']);
  });

  it('a zero-wait create is still asynchronous', () => {
    const { clock, engine } = setup();
    const s = engine.create({ provider: 'heat', scope: 'p', name: 'a', template: parseTemplate(hot({}), 'hot') });
    expect(state(s)).toBe('CREATE_IN_PROGRESS');
    clock.tick();
    expect(state(s)).toBe('CREATE_COMPLETE');
  });

  it('duplicate names are rejected and counted', () => {
    const { engine } = setup();
    const t = parseTemplate(hot({}), 'hot');
    engine.create({ provider: 'heat', scope: 'p', name: 'a', template: t });
    expect(() => engine.create({ provider: 'heat', scope: 'p', name: 'a', template: t })).toThrow(EngineError);
    const c = engine.mutationCounts('heat', 'a')['heat/p/a'];
    expect(c?.create).toBe(1);
    expect(c?.rejected).toBe(1);
  });

  it('create failure rolls back unless disabled', () => {
    const { clock, engine } = setup();
    const t = parseTemplate(hot({ fail: true, wait_secs: 1, action_wait_secs: { delete: 2 } }), 'hot');
    const s = engine.create({ provider: 'heat', scope: 'p', name: 'a', template: t });
    clock.advance(1000);
    expect(state(s)).toBe('ROLLBACK_IN_PROGRESS');
    expect(s.rollbackOf).toBe('CREATE');
    expect(s.events.some((e) => e.stack && e.reason === 'Resource CREATE failed: ValueError: resources.r1: Test Resource failed r1')).toBe(true);
    clock.advance(2000);
    expect(state(s)).toBe('ROLLBACK_COMPLETE');
    expect(s.resources.size).toBe(0);

    const s2 = engine.create({ provider: 'heat', scope: 'p', name: 'b', template: t, disableRollback: true });
    clock.advance(1000);
    expect(state(s2)).toBe('CREATE_FAILED');
    expect(s2.statusReason).toBe('Resource CREATE failed: ValueError: resources.r1: Test Resource failed r1');
  });

  it('update failure rolls back to the previous template and parameters', () => {
    const { clock, engine } = setup();
    const s = engine.create({ provider: 'heat', scope: 'p', name: 'a', template: parseTemplate(hot({ value: 'v1' }), 'hot') });
    clock.tick();
    engine.update(s.id, { template: parseTemplate(hot({ value: 'v2', fail: true, action_wait_secs: { update: 3 } }), 'hot') });
    expect(state(s)).toBe('UPDATE_IN_PROGRESS');
    clock.advance(2999);
    expect(state(s)).toBe('UPDATE_IN_PROGRESS');
    clock.advance(1);
    expect(state(s)).toBe('ROLLBACK_COMPLETE');
    expect(s.events.filter((e) => e.stack).map((e) => `${e.action}_${e.status}`).slice(-4)).toEqual([
      'UPDATE_IN_PROGRESS',
      'UPDATE_FAILED',
      'ROLLBACK_IN_PROGRESS',
      'ROLLBACK_COMPLETE',
    ]);
    expect(engine.outputs(s)[0]?.value).toBe('v1');
  });

  it('cancel with rollback, cancel without rollback, forever waits', () => {
    const { clock, engine } = setup();
    const s = engine.create({ provider: 'heat', scope: 'p', name: 'a', template: parseTemplate(hot({ value: 'v1' }), 'hot') });
    clock.tick();
    engine.update(s.id, { template: parseTemplate(hot({ value: 'v2', action_wait_secs: { update: -1 } }), 'hot') });
    clock.advance(59 * 60_000);
    expect(state(s)).toBe('UPDATE_IN_PROGRESS');
    engine.cancel(s.id, { rollback: true });
    expect(state(s)).toBe('ROLLBACK_IN_PROGRESS');
    clock.tick();
    expect(state(s)).toBe('ROLLBACK_COMPLETE');
    expect(engine.outputs(s)[0]?.value).toBe('v1');

    engine.update(s.id, { template: parseTemplate(hot({ value: 'v3', wait_secs: 1e9 }), 'hot') });
    engine.cancel(s.id, { rollback: false });
    expect(state(s)).toBe('UPDATE_FAILED');
    expect(s.statusReason).toBe('Stack UPDATE cancelled');
    expect(() => engine.cancel(s.id, { rollback: true })).toThrow(/not supported/);
  });

  it('delayed (safe) cancel lets the update finish first when it is quick enough', () => {
    const { clock, engine } = setup();
    const s = engine.create({ provider: 'ros', scope: 'r', name: 'a', template: parseTemplate(hot({ value: 'v1' }), 'hot') });
    clock.tick();
    engine.update(s.id, { template: parseTemplate(hot({ value: 'v2', wait_secs: 1 }), 'hot') });
    engine.cancel(s.id, { rollback: true, delayMs: 5000 });
    clock.advance(1000);
    expect(state(s)).toBe('UPDATE_COMPLETE');
  });

  it('heat-style supersede: an update during an update restarts from the current state', () => {
    const { clock, engine } = setup();
    const s = engine.create({ provider: 'heat', scope: 'p', name: 'a', template: parseTemplate(hot({ value: 'v1' }), 'hot') });
    clock.tick();
    engine.update(s.id, { template: parseTemplate(hot({ value: 'v2', wait_secs: 100 }), 'hot') });
    expect(() => engine.update(s.id, { template: parseTemplate(hot({ value: 'v3' }), 'hot') })).toThrow(/in progress/);
    engine.update(s.id, { template: parseTemplate(hot({ value: 'v3' }), 'hot'), whileInProgress: 'supersede' });
    clock.tick();
    expect(state(s)).toBe('UPDATE_COMPLETE');
    expect(s.operations.map((o) => o.outcome)).toEqual(['COMPLETE', 'SUPERSEDED', 'COMPLETE']);
    expect(s.previous?.template?.resources.r1?.properties).toEqual({ value: 'v1' });
  });

  it('delete: protection, failure, success', () => {
    const { clock, engine } = setup();
    const s = engine.create({ provider: 'rfs', scope: 'p', name: 'a', template: parseTemplate(hot({ fail_delete: true }), 'hot'), deletionProtection: true });
    clock.tick();
    expect(() => engine.delete(s.id)).toThrow(expect.objectContaining({ kind: 'Protected' }));
    engine.setDeletionProtection(s.id, false);
    engine.delete(s.id);
    expect(state(s)).toBe('DELETE_IN_PROGRESS');
    clock.tick();
    expect(state(s)).toBe('DELETE_FAILED');
    expect(s.statusReason).toMatch(/^Resource DELETE failed: /);
    engine.delete(s.id, { retainResources: true });
    clock.tick();
    expect(state(s)).toBe('DELETE_COMPLETE');
    expect(s.deleted).toBe(true);
    expect(engine.findByName('rfs', 'p', 'a')).toBeUndefined();
    const c = engine.mutationCounts('rfs', 'a')['rfs/p/a'];
    expect(c).toMatchObject({ create: 1, delete: 2, rejected: 1, other: 1 });
  });

  it('parameters: replace vs patch, clear, unknown, missing, immutable', () => {
    const { clock, engine } = setup();
    const tmpl = JSON.stringify({
      heat_template_version: '2018-08-31',
      parameters: { a: { type: 'string', default: 'A' }, b: { type: 'string' }, c: { type: 'number', default: 1, immutable: true } },
      resources: { r: { type: 'OS::Heat::TestResource', properties: { value: { list_join: ['-', [{ get_param: 'a' }, { get_param: 'b' }]] } } } },
      outputs: { v: { value: { get_attr: ['r', 'output'] } } },
    });
    const t = parseTemplate(tmpl, 'hot');
    expect(() => engine.create({ provider: 'heat', scope: 'p', name: 'x', template: t })).toThrow(/The Parameter \(b\) was not provided/);
    expect(() => engine.create({ provider: 'heat', scope: 'p', name: 'x', template: t, params: { b: '1', z: '2' } })).toThrow(/\(z\) was not defined/);
    const s = engine.create({ provider: 'heat', scope: 'p', name: 'x', template: t, params: { a: 'x', b: 'y' } });
    clock.tick();
    expect(engine.outputs(s)[0]?.value).toBe('x-y');
    engine.update(s.id, { params: { b: 'z' }, paramMode: 'patch' });
    clock.tick();
    expect(engine.outputs(s)[0]?.value).toBe('x-z');
    engine.update(s.id, { params: { b: 'q' }, paramMode: 'patch', clearParams: ['a'] });
    clock.tick();
    expect(engine.outputs(s)[0]?.value).toBe('A-q');
    expect(() => engine.update(s.id, { template: t, params: { a: 'x' } })).toThrow(/\(b\) was not provided/);
    expect(() => engine.update(s.id, { template: t, params: { b: 'x', c: '2' } })).toThrow(expect.objectContaining({ kind: 'ImmutableParameterModified' }));
  });

  it('canary pause and continue; timeouts', () => {
    const { clock, engine } = setup();
    const s = engine.create({ provider: 'cloudfoundry', scope: 's', name: 'app', template: null });
    expect(state(s)).toBe('CREATE_COMPLETE');
    expect(s.empty).toBe(true);
    engine.update(s.id, { template: parseTemplate(hot({ value: 'a', wait_secs: 2 }), 'hot'), pauseBeforeComplete: true });
    clock.advance(5000);
    expect(s.op?.paused).toBe(true);
    expect(state(s)).toBe('UPDATE_IN_PROGRESS');
    engine.continueOperation(s.id);
    expect(state(s)).toBe('UPDATE_COMPLETE');

    const s2 = engine.create({ provider: 'heat', scope: 'p', name: 'slow', template: parseTemplate(hot({ wait_secs: -1 }), 'hot'), timeoutMins: 1, disableRollback: true });
    clock.advance(60_000);
    expect(state(s2)).toBe('CREATE_FAILED');
    expect(s2.statusReason).toBe('Timed out');
  });

  it('duration multiplier scales waits', () => {
    const clock = new FakeClock();
    const engine = new StackEngine({ clock, durationMultiplier: 0.01 });
    const s = engine.create({ provider: 'heat', scope: 'p', name: 'a', template: parseTemplate(hot({ wait_secs: 100 }), 'hot') });
    clock.advance(999);
    expect(s.status).toBe('IN_PROGRESS');
    clock.advance(1);
    expect(s.status).toBe('COMPLETE');
  });
});

describe('templates', () => {
  it('wait knobs', () => {
    expect(waitSeconds('OS::Heat::TestResource', { wait_secs: 3, action_wait_secs: { update: 7 } }, 'update')).toBe(7);
    expect(waitSeconds('OS::Heat::TestResource', { wait_secs: 3 }, 'create')).toBe(3);
    expect(waitSeconds('OS::Heat::TestResource', { wait_secs: -1 }, 'create')).toBe(Infinity);
    expect(waitSeconds('OS::Heat::TestResource', { wait_secs: 1e12 }, 'create')).toBe(Infinity);
    expect(waitSeconds('OS::Heat::Delay', { min_wait: 4 }, 'create')).toBe(4);
    expect(waitSeconds('OS::Heat::Delay', { min_wait: 4 }, 'delete')).toBe(0);
  });

  it('dialects and validation errors', () => {
    expect(parseTemplate('heat_template_version: 2018-08-31\nresources: {}\n', 'hot').dialect).toBe('hot');
    expect(() => parseTemplate('{"heat_template_version": "1999-01-01"}', 'hot')).toThrow(TemplateError);
    expect(() => parseTemplate({ resources: {} }, 'hot')).toThrow(/Template format version not found/);
    expect(() => parseTemplate({ heat_template_version: '2018-08-31', resources: { x: { type: 'OS::Nova::Server' } } }, 'hot')).toThrow(/could not be found/);
    expect(() => parseTemplate({ heat_template_version: '2018-08-31', bogus: 1 }, 'hot')).toThrow(expect.objectContaining({ kind: 'InvalidTemplateSection' }));
    expect(() => parseTemplate(': : :\n  - [', 'hot')).toThrow(TemplateError);
    const ros = parseTemplate({ ROSTemplateFormatVersion: '2015-09-01', Parameters: { P: { Type: 'String', Default: 'x' } }, Resources: { R: { Type: 'ALIYUN::ROS::WaitConditionHandle', Properties: { value: { Ref: 'P' } } } }, Outputs: { O: { Value: { 'Fn::GetAtt': ['R', 'output'] } } } }, 'ros');
    expect(Object.keys(ros.resources)).toEqual(['R']);
    expect(() => parseTemplate({ heat_template_version: '2018-08-31' }, 'ros')).toThrow(/ROSTemplateFormatVersion/);
    const tf = parseTemplate({ variable: { v: { default: 'd' } }, resource: { test_resource: { a: { value: '${var.v}' } } }, output: { o: { value: '${test_resource.a.output}' } } }, 'tf');
    expect(Object.keys(tf.resources)).toEqual(['test_resource.a']);
  });

  it('HCL subset', () => {
    const doc = parseHclSubset(`
variable "name" {
  default = "x"
}
resource "test_resource" "a" {
  value = var.name
  wait_secs = 2
  action_wait_secs {
    update = 3
  }
}
output "o" {
  value = test_resource.a.output
}
`);
    const t = parseTemplate(doc, 'tf');
    expect(t.resources['test_resource.a']?.properties).toEqual({ value: '${var.name}', wait_secs: 2, action_wait_secs: { update: 3 } });
    const { clock, engine } = setup();
    const s = engine.create({ provider: 'rfs', scope: 'p', name: 'tf', template: t, params: { name: 'hello' } });
    clock.advance(2000);
    expect(state(s)).toBe('CREATE_COMPLETE');
    expect(engine.outputs(s)[0]?.value).toBe('hello');
  });
});
