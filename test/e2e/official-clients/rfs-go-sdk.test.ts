// Huawei Cloud RFS (AOS) conformance, driven by Huawei's official Go SDK
// (github.com/huaweicloud/huaweicloud-sdk-go-v3, service aos) through a tiny program that makes one call
// per run (test/env/clients/huawei-aos, built once into the test cache by build-huawei-aos.sh), against
// the emulator's RFS port (--service-ports: the SDK builds /v1/{project_id}/stacks at the root and signs
// it with SDK-HMAC-SHA256). Expected codes come from the reference (docs/fidelity.md).
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../../src/emulator/index.ts';
import { repoRoot } from '../../../src/devenv/paths.ts';

const run = promisify(execFile);
let emu: Emulator;
let bin: string;

interface Reply {
  ok: boolean;
  status?: number;
  code?: string;
  message?: string;
  response?: Record<string, unknown>;
}

// Never a sync spawn: the emulator answers from this same process.
async function aos(req: Record<string, unknown>, sk = emu.credentials.rfs.secretAccessKey): Promise<Reply> {
  const env = { ...process.env, AOS_ENDPOINT: emu.serviceEndpoints!.rfs, AOS_AK: emu.credentials.rfs.accessKeyId, AOS_SK: sk, AOS_PROJECT_ID: emu.credentials.rfs.projectId };
  const p = run(bin, [], { env, timeout: 60_000 });
  p.child.stdin!.end(JSON.stringify(req));
  try {
    return JSON.parse((await p).stdout) as Reply;
  } catch (e) {
    const out = (e as { stdout?: string }).stdout;
    if (out) return JSON.parse(out) as Reply;
    throw e;
  }
}

const tf = (value: string, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ resource: { test_resource: { a: { value, ...extra } } }, output: { o: { value: '${test_resource.a.output}' } } });

async function until(name: string, want: string): Promise<Record<string, unknown>> {
  let last: Reply | undefined;
  for (let i = 0; i < 200; i++) {
    last = await aos({ op: 'metadata', stack_name: name });
    if (last.response?.status === want) return last.response;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${name} never reached ${want}: ${JSON.stringify(last)}`);
}

beforeAll(async () => {
  bin = (await run('bash', [join(repoRoot, 'test/env/clients/build-huawei-aos.sh')], { timeout: 900_000 })).stdout.trim();
  emu = await startEmulator({ servicePorts: true, operationSpeed: 0.01 });
});
afterAll(async () => {
  await emu?.close();
});

describe('Huawei RFS with the official Go SDK', () => {
  it('CreateStack, DeployStack, ListStackOutputs and ListStackEvents of the deployment', async () => {
    const c = await aos({ op: 'create', body: { stack_name: 'go-a' } });
    expect(c.ok, JSON.stringify(c)).toBe(true);
    const stackId = c.response!.stack_id as string;
    expect((await until('go-a', 'CREATION_COMPLETE')).stack_id).toBe(stackId);
    const d = await aos({ op: 'deploy', stack_name: 'go-a', body: { stack_id: stackId, template_body: tf('v1') } });
    expect(d.ok, JSON.stringify(d)).toBe(true);
    const deploymentId = d.response!.deployment_id as string;
    await until('go-a', 'DEPLOYMENT_COMPLETE');
    const outs = await aos({ op: 'outputs', stack_name: 'go-a', stack_id: stackId });
    expect(outs.response!.outputs).toEqual([expect.objectContaining({ name: 'o', value: '"v1"', sensitive: false })]);
    const evs = await aos({ op: 'events', stack_name: 'go-a', deployment_id: deploymentId });
    const types = (evs.response!.stack_events as { event_type: string }[]).map((e) => e.event_type);
    expect(types).toContain('SUMMARY');
    expect(types).toContain('CREATION_COMPLETE');
  });

  it('DeleteStack with stack_id: a foreign id is 400 RF.10011015; the right one deletes (then 404 RF.10013001)', async () => {
    const c = await aos({ op: 'create', body: { stack_name: 'go-del', template_body: tf('x') } });
    const stackId = c.response!.stack_id as string;
    await until('go-del', 'DEPLOYMENT_COMPLETE');
    const wrong = await aos({ op: 'delete', stack_name: 'go-del', stack_id: '00000000-0000-4000-8000-000000000000' });
    expect([wrong.status, wrong.code]).toEqual([400, 'RF.10011015']);
    expect((await aos({ op: 'delete', stack_name: 'go-del', stack_id: stackId })).ok).toBe(true);
    let gone: Reply | undefined;
    for (let i = 0; i < 200 && gone?.status !== 404; i++) {
      gone = await aos({ op: 'metadata', stack_name: 'go-del' });
      if (gone.status !== 404) await new Promise((r) => setTimeout(r, 100));
    }
    expect([gone?.status, gone?.code]).toEqual([404, 'RF.10013001']);
  });

  it('deletion protection refuses DeleteStack (403 RF.10012544) until UpdateStack turns it off', async () => {
    const c = await aos({ op: 'create', body: { stack_name: 'go-prot', enable_deletion_protection: true } });
    const stackId = c.response!.stack_id as string;
    const refused = await aos({ op: 'delete', stack_name: 'go-prot', stack_id: stackId });
    expect([refused.status, refused.code]).toEqual([403, 'RF.10012544']);
    expect((await aos({ op: 'update', stack_name: 'go-prot', body: { stack_id: stackId, enable_deletion_protection: false } })).ok).toBe(true);
    expect((await aos({ op: 'delete', stack_name: 'go-prot', stack_id: stackId })).ok).toBe(true);
  });

  it('an operation in progress refuses another deployment (409 RF.10013503) and a delete (403 RF.10012544)', async () => {
    const c = await aos({ op: 'create', body: { stack_name: 'go-busy', template_body: tf('slow', { wait_secs: 100_000 }) } });
    expect(c.ok).toBe(true);
    expect((await aos({ op: 'metadata', stack_name: 'go-busy' })).response!.status).toBe('DEPLOYMENT_IN_PROGRESS');
    const again = await aos({ op: 'deploy', stack_name: 'go-busy', body: { template_body: tf('other') } });
    expect([again.status, again.code]).toEqual([409, 'RF.10013503']);
    const del = await aos({ op: 'delete', stack_name: 'go-busy' });
    expect([del.status, del.code]).toEqual([403, 'RF.10012544']);
  });

  it('execution plans: CreateExecutionPlan needs the stack (404); items ADD / UPDATE / DELETE_THEN_ADD / DELETE; ApplyExecutionPlan deploys exactly that', async () => {
    const none = await aos({ op: 'create-plan', stack_name: 'go-plan', body: { execution_plan_name: 'p1', template_body: tf('v1') } });
    expect([none.status, none.code]).toEqual([404, 'RF.10013001']);
    const c = await aos({ op: 'create', body: { stack_name: 'go-plan', template_body: JSON.stringify({ resource: { test_resource: { a: { value: 'v1' }, swap: { value: 's', update_replace_value: 1 }, gone: { value: 'g' } } } }) } });
    const stackId = c.response!.stack_id as string;
    await until('go-plan', 'DEPLOYMENT_COMPLETE');
    const next = JSON.stringify({ resource: { test_resource: { a: { value: 'v2' }, swap: { value: 's', update_replace_value: 2 }, added: { value: 'n' } } } });
    const cp = await aos({ op: 'create-plan', stack_name: 'go-plan', body: { stack_id: stackId, execution_plan_name: 'p1', template_body: next } });
    expect(cp.ok, JSON.stringify(cp)).toBe(true);
    const planId = cp.response!.execution_plan_id as string;
    const dup = await aos({ op: 'create-plan', stack_name: 'go-plan', body: { stack_id: stackId, execution_plan_name: 'p1', template_body: next } });
    expect(dup.status).toBe(409);
    let meta: Reply | undefined;
    for (let i = 0; i < 100; i++) {
      meta = await aos({ op: 'plan-metadata', stack_name: 'go-plan', execution_plan_name: 'p1', execution_plan_id: planId });
      if (meta.response?.status !== 'CREATION_IN_PROGRESS') break;
      await new Promise((r) => setTimeout(r, 50));
    }
    expect(meta!.response).toMatchObject({ status: 'AVAILABLE', stack_id: stackId, execution_plan_name: 'p1', summary: { resource_add: 2, resource_update: 1, resource_delete: 2 } });
    const got = await aos({ op: 'get-plan', stack_name: 'go-plan', execution_plan_name: 'p1', stack_id: stackId });
    const items = (got.response!.execution_plan_items as { resource_type: string; resource_name: string; action: string }[]).map((i) => `${i.action}:${i.resource_type}.${i.resource_name}`).sort();
    expect(items).toEqual(['ADD:test_resource.added', 'DELETE:test_resource.gone', 'DELETE_THEN_ADD:test_resource.swap', 'UPDATE:test_resource.a']);
    expect((await aos({ op: 'metadata', stack_name: 'go-plan' })).response!.status).toBe('DEPLOYMENT_COMPLETE'); // a plan changes nothing
    const wrongId = await aos({ op: 'get-plan', stack_name: 'go-plan', execution_plan_name: 'p1', execution_plan_id: '00000000-0000-4000-8000-000000000000' });
    expect(wrongId.status).toBe(400);
    const ap = await aos({ op: 'apply-plan', stack_name: 'go-plan', execution_plan_name: 'p1', body: { stack_id: stackId, execution_plan_id: planId } });
    expect(ap.ok, JSON.stringify(ap)).toBe(true);
    expect(ap.response!.deployment_id).toBeTruthy();
    await until('go-plan', 'DEPLOYMENT_COMPLETE');
    const listed = await aos({ op: 'list-plans', stack_name: 'go-plan', stack_id: stackId });
    expect(listed.response!.execution_plans).toEqual([expect.objectContaining({ execution_plan_id: planId, status: 'APPLIED' })]);
    const res = (await (await fetch(`${emu.url}/_emulator/stacks/${stackId}`)).json()) as { resources: Array<{ name: string }> };
    expect(res.resources.map((r) => r.name).sort()).toEqual(['test_resource.a', 'test_resource.added', 'test_resource.swap']);
  });

  it('execution plans expire once the stack is deployed again (apply 403); DeleteExecutionPlan removes one (then 404)', async () => {
    const c = await aos({ op: 'create', body: { stack_name: 'go-plan2', template_body: tf('v1') } });
    const stackId = c.response!.stack_id as string;
    await until('go-plan2', 'DEPLOYMENT_COMPLETE');
    const mk = async (name: string, v: string) => (await aos({ op: 'create-plan', stack_name: 'go-plan2', body: { stack_id: stackId, execution_plan_name: name, template_body: tf(v) } })).response!.execution_plan_id as string;
    const a = await mk('a', 'v2');
    const b = await mk('b', 'v3');
    await new Promise((r) => setTimeout(r, 300));
    expect((await aos({ op: 'delete-plan', stack_name: 'go-plan2', execution_plan_name: 'b', stack_id: stackId, execution_plan_id: b })).ok).toBe(true);
    expect((await aos({ op: 'plan-metadata', stack_name: 'go-plan2', execution_plan_name: 'b' })).status).toBe(404);
    expect((await aos({ op: 'deploy', stack_name: 'go-plan2', body: { stack_id: stackId, template_body: tf('direct') } })).ok).toBe(true);
    await until('go-plan2', 'DEPLOYMENT_COMPLETE');
    const late = await aos({ op: 'apply-plan', stack_name: 'go-plan2', execution_plan_name: 'a', body: { stack_id: stackId, execution_plan_id: a } });
    expect(late.status).toBe(403);
  });

  it('a wrong secret key is refused at the signature (401 from the API gateway)', async () => {
    const r = await aos({ op: 'metadata', stack_name: 'go-a' }, 'not-the-secret');
    expect(r.ok).toBe(false);
    expect(r.status).toBe(401);
    expect(r.code).toBe('APIGW.0301');
  });
});
