// Raw status → phase tables and HTTP error → ProviderError mapping, per provider. Pure.
import { describe, expect, it } from 'vitest';
import { heatPhase } from './heat/status.ts';
import { heatError } from './heat/errors.ts';
import { heatTags, parseHeatTags } from './heat/client.ts';
import { rfsPhase } from './rfs/status.ts';
import { rfsError } from './rfs/errors.ts';
import { RFS_CAPABILITIES, rfsRequestId, rfsTemplate } from './rfs/client.ts';
import { rosPhase } from './ros/status.ts';
import { rosError } from './ros/errors.ts';
import { ROS_CAPABILITIES, flattenList, isNoChangeUpdate, rosCancelType, rosClientToken, rosPolicy, rosTemplate } from './ros/rpc-client.ts';
import { legacyTemplate, previousParameters } from './ros/legacy-client.ts';
import { cfDeploymentPhase, cfJobPhase } from './cloudfoundry/status.ts';
import { cfError, cfField } from './cloudfoundry/errors.ts';
import { cfDeploymentSpec } from './cloudfoundry/client.ts';
import { readOwnerMark, shapeToken, templateSource, withOwnerMark } from './common.ts';
import { ProviderError } from './types.ts';

const p = (phase: string, operation: string) => ({ phase, operation });

describe('heat phases', () => {
  it.each([
    ['CREATE_IN_PROGRESS', 'InProgress', 'create'],
    ['CREATE_COMPLETE', 'Complete', 'create'],
    ['CREATE_FAILED', 'Failed', 'create'],
    ['UPDATE_IN_PROGRESS', 'InProgress', 'update'],
    ['UPDATE_COMPLETE', 'Complete', 'update'],
    ['UPDATE_FAILED', 'Failed', 'update'],
    ['ROLLBACK_IN_PROGRESS', 'InProgress', 'rollback'],
    ['ROLLBACK_COMPLETE', 'RolledBack', 'rollback'],
    ['ROLLBACK_FAILED', 'RollbackFailed', 'rollback'],
    ['DELETE_IN_PROGRESS', 'InProgress', 'delete'],
    ['DELETE_COMPLETE', 'Deleted', 'delete'],
    ['DELETE_FAILED', 'DeleteFailed', 'delete'],
    ['ADOPT_COMPLETE', 'Complete', 'create'],
    ['CHECK_COMPLETE', 'Complete', 'update'],
    ['SUSPEND_FAILED', 'Failed', 'update'],
    ['SNAPSHOT_IN_PROGRESS', 'InProgress', 'update'],
    ['WHATEVER', 'InProgress', 'update'],
  ])('%s → %s/%s', (raw, phase, op) => expect(heatPhase(raw)).toEqual(p(phase, op)));
});

describe('rfs phases', () => {
  it.each([
    ['CREATION_COMPLETE', 'Complete', 'create'],
    ['DEPLOYMENT_IN_PROGRESS', 'InProgress', 'update'],
    ['DEPLOYMENT_COMPLETE', 'Complete', 'update'],
    ['DEPLOYMENT_FAILED', 'Failed', 'update'],
    ['ROLLBACK_IN_PROGRESS', 'InProgress', 'rollback'],
    ['ROLLBACK_COMPLETE', 'RolledBack', 'rollback'],
    ['ROLLBACK_FAILED', 'RollbackFailed', 'rollback'],
    ['DELETION_IN_PROGRESS', 'InProgress', 'delete'],
    ['DELETION_FAILED', 'DeleteFailed', 'delete'],
    ['DELETION_COMPLETE', 'Deleted', 'delete'],
    ['SOMETHING_FAILED', 'Failed', 'update'],
    ['NEW_STATE', 'InProgress', 'update'],
  ])('%s → %s/%s', (raw, phase, op) => expect(rfsPhase(raw)).toEqual(p(phase, op)));
});

describe('ros phases', () => {
  it.each([
    ['CREATE_IN_PROGRESS', 'InProgress', 'create'],
    ['CREATE_COMPLETE', 'Complete', 'create'],
    ['CREATE_FAILED', 'Failed', 'create'],
    ['CREATE_ROLLBACK_IN_PROGRESS', 'InProgress', 'rollback'],
    ['CREATE_ROLLBACK_COMPLETE', 'RolledBack', 'rollback'],
    ['CREATE_ROLLBACK_FAILED', 'RollbackFailed', 'rollback'],
    ['UPDATE_IN_PROGRESS', 'InProgress', 'update'],
    ['UPDATE_COMPLETE', 'Complete', 'update'],
    ['UPDATE_FAILED', 'Failed', 'update'],
    ['ROLLBACK_IN_PROGRESS', 'InProgress', 'rollback'],
    ['ROLLBACK_COMPLETE', 'RolledBack', 'rollback'],
    ['ROLLBACK_FAILED', 'RollbackFailed', 'rollback'],
    ['DELETE_IN_PROGRESS', 'InProgress', 'delete'],
    ['DELETE_FAILED', 'DeleteFailed', 'delete'],
    ['DELETE_COMPLETE', 'Deleted', 'delete'],
    ['CHECK_IN_PROGRESS', 'InProgress', 'update'],
    ['CHECK_COMPLETE', 'Complete', 'update'],
    ['CHECK_FAILED', 'Failed', 'update'],
    ['REVIEW_IN_PROGRESS', 'Complete', 'create'],
    ['IMPORT_CREATE_COMPLETE', 'Complete', 'create'],
    ['IMPORT_UPDATE_ROLLBACK_FAILED', 'RollbackFailed', 'rollback'],
    ['NEW_STATE', 'InProgress', 'update'],
  ])('%s → %s/%s', (raw, phase, op) => expect(rosPhase(raw)).toEqual(p(phase, op)));
});

describe('cloudfoundry phases', () => {
  it.each([
    ['ACTIVE', 'DEPLOYING', 'InProgress', 'update'],
    ['ACTIVE', 'PAUSED', 'InProgress', 'update'],
    ['ACTIVE', 'CANCELING', 'InProgress', 'cancel'],
    ['FINALIZED', 'DEPLOYED', 'Complete', 'update'],
    ['FINALIZED', 'CANCELED', 'RolledBack', 'rollback'],
    ['FINALIZED', 'SUPERSEDED', 'Complete', 'update'],
    ['FINALIZED', 'ODD', 'Failed', 'update'],
  ])('%s/%s → %s/%s', (v, r, phase, op) => expect(cfDeploymentPhase(v, r)).toEqual(p(phase, op)));
  it('delete jobs', () => {
    expect(cfJobPhase('PROCESSING')).toEqual(p('InProgress', 'delete'));
    expect(cfJobPhase('POLLING')).toEqual(p('InProgress', 'delete'));
    expect(cfJobPhase('COMPLETE')).toEqual(p('Deleted', 'delete'));
    expect(cfJobPhase('FAILED')).toEqual(p('DeleteFailed', 'delete'));
  });
});

const r = (status: number, body: unknown, retryAfterMs?: number) => ({
  status,
  text: typeof body === 'string' ? body : JSON.stringify(body),
  ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
});

describe('heat errors', () => {
  const e = (status: number, type: string, message: string) => heatError(r(status, { code: status, title: 't', explanation: 'x', error: { type, message } }));
  it('maps status and type', () => {
    expect(e(404, 'EntityNotFound', 'The Stack (x) could not be found.').kind).toBe('NotFound');
    expect(e(409, 'StackExists', 'The Stack (x) already exists.').kind).toBe('Conflict');
    expect(e(409, 'ActionInProgress', 'Stack x already has an action (UPDATE) in progress.').kind).toBe('Conflict');
    expect(e(401, 'Unauthorized', 'no').kind).toBe('Unauthorized');
    expect(e(503, 'X', 'down').kind).toBe('Transient');
    expect(heatError(r(429, 'slow down', 2000))).toMatchObject({ kind: 'Throttled', retryAfterMs: 2000 });
  });
  it('Invalid names the field', () => {
    expect(e(400, 'UserParameterMissing', 'The Parameter (flavor) was not provided.')).toMatchObject({ kind: 'Invalid', code: 'UserParameterMissing', field: 'flavor' });
    expect(e(400, 'InvalidTemplateVersion', 'The template version is invalid: x')).toMatchObject({ kind: 'Invalid', field: 'template' });
  });
  it('truncates long messages and survives non-JSON bodies', () => {
    expect(e(400, 'StackValidationFailed', 'y'.repeat(5000)).message.length).toBeLessThanOrEqual(500);
    expect(heatError(r(502, '<html>bad gateway</html>'))).toMatchObject({ kind: 'Transient', code: 'HTTP502' });
  });
});

describe('rfs errors', () => {
  const e = (status: number, code: string, msg = 'm') => rfsError(r(status, { error_code: code, error_msg: msg }));
  it('maps codes', () => {
    expect(e(404, 'RF.10013001').kind).toBe('NotFound');
    expect(e(400, 'RF.10011015', 'stack_id mismatch').kind).toBe('NotFound');
    expect(e(409, 'RF.10013503').kind).toBe('Conflict');
    expect(e(403, 'RF.10012544').kind).toBe('Conflict');
    expect(e(403, 'RF.10012507').kind).toBe('Unauthorized');
    expect(e(401, 'RF.10012001').kind).toBe('Unauthorized');
    expect(rfsError(r(429, { error_code: 'RF.10014001', error_msg: 'too many' }, 1000))).toMatchObject({ kind: 'Throttled', retryAfterMs: 1000 });
    expect(e(500, 'RF.10010001').kind).toBe('Transient');
  });
  it('Invalid names the field', () => {
    expect(e(400, 'RF.10011073', 'invalid template body')).toMatchObject({ kind: 'Invalid', field: 'template' });
    expect(e(400, 'RF.10011001', "parameter 'stack_name' is missing")).toMatchObject({ kind: 'Invalid', field: 'stack_name' });
  });
});

describe('ros errors', () => {
  const e = (status: number, Code: string, Message = 'm') => rosError(r(status, { RequestId: 'r', Code, Message }));
  it('maps codes', () => {
    expect(e(404, 'StackNotFound').kind).toBe('NotFound');
    expect(e(409, 'ActionInProgress').kind).toBe('Conflict');
    expect(e(409, 'StackExists').kind).toBe('Conflict');
    expect(e(400, 'LastTokenProcessing').kind).toBe('Conflict');
    expect(e(400, 'Throttling.User').kind).toBe('Throttled');
    expect(e(403, 'InvalidAccessKeyId.NotFound').kind).toBe('Unauthorized');
    expect(e(400, 'SignatureDoesNotMatch').kind).toBe('Unauthorized');
    expect(e(500, 'InternalError').kind).toBe('Transient');
    expect(e(503, 'ServiceUnavailable').kind).toBe('Transient');
  });
  it('Invalid names the field', () => {
    expect(e(400, 'UserParameterMissing', 'The Parameter (Amount) was not provided.')).toMatchObject({ kind: 'Invalid', field: 'Amount' });
    expect(e(400, 'InvalidTemplateVersion', 'The template version is invalid: x')).toMatchObject({ kind: 'Invalid', field: 'template' });
    expect(e(400, 'InvalidIdempotenceParameter', 'mismatch')).toMatchObject({ kind: 'Invalid', field: 'ClientToken' });
  });
});

describe('cloudfoundry errors', () => {
  const e = (status: number, title: string, detail: string, retry?: number) => cfError(r(status, { errors: [{ code: 1, title, detail }] }, retry));
  it('maps statuses and titles', () => {
    expect(e(401, 'CF-InvalidAuthToken', 'Invalid Auth Token').kind).toBe('Unauthorized');
    expect(e(404, 'CF-ResourceNotFound', 'App not found').kind).toBe('NotFound');
    expect(e(429, 'CF-RateLimitExceeded', 'Rate Limit Exceeded', 5000)).toMatchObject({ kind: 'Throttled', retryAfterMs: 5000 });
    expect(e(422, 'CF-UnprocessableEntity', 'Cannot cancel a deployment with status: FINALIZED and reason: DEPLOYED').kind).toBe('Conflict');
    expect(e(422, 'CF-UniquenessError', "App with the name 'a' already exists.").kind).toBe('Conflict');
    expect(e(422, 'CF-UnprocessableEntity', 'Strategy must be one of rolling, canary')).toMatchObject({ kind: 'Invalid', field: 'strategy' });
    expect(e(403, 'CF-DeploymentsDisabled', 'disabled').kind).toBe('Invalid');
    expect(e(502, 'X', 'bad').kind).toBe('Transient');
  });
  it('cfField', () => {
    expect(cfField('Name must be unique in space')).toBe('name');
    expect(cfField('whatever happened')).toBeUndefined();
  });
});

describe('tokens, marks, tags', () => {
  it('tokens pass through when they fit, else sha256-shaped deterministically', () => {
    expect(rosClientToken('uid-3-update')).toBe('uid-3-update');
    const long = 'x'.repeat(100);
    expect(rosClientToken(long)).toHaveLength(64);
    expect(rosClientToken(long)).toBe(rosClientToken(long));
    expect(rosClientToken('a/b')).toMatch(/^[0-9a-f]{64}$/);
    expect(rfsRequestId('short')).toMatch(/^[0-9a-f]{64}$/);
    const ok = '0123456789abcdef0123456789abcdef-1-create';
    expect(rfsRequestId(ok)).toBe(ok);
    expect(shapeToken('abc', { maxLen: 10, alphabet: /^[a-z]+$/ })).toBe('abc');
  });
  it('ownership marks round-trip and respect the length limit', () => {
    const uid = '6f1c2a4e-1111-2222-3333-444455556666';
    const d = withOwnerMark('my stack', uid, 1024);
    expect(readOwnerMark(d)).toBe(uid);
    expect(readOwnerMark(withOwnerMark(d, 'other-uid', 1024))).toBe('other-uid');
    expect(withOwnerMark('z'.repeat(2000), uid, 100)).toHaveLength(100);
    expect(readOwnerMark('plain')).toBeUndefined();
  });
  it('heat tags: key=value strings with the owner tag; commas refused', () => {
    expect(heatTags({ team: 'a' }, 'u1')).toBe('team=a,stackoperator.dev/uid=u1');
    expect(parseHeatTags(['team=a', 'stackoperator.dev/uid=u1', 'bare'])).toEqual({ team: 'a', 'stackoperator.dev/uid': 'u1', bare: '' });
    expect(() => heatTags({ t: 'a,b' }, 'u')).toThrow(/commas/);
  });
  it('ros: flattened lists and the cancel mapping', () => {
    expect(flattenList('Tags', [{ Key: 'a', Value: '1' }, { Key: 'b', Value: '2' }])).toEqual({ 'Tags.1.Key': 'a', 'Tags.1.Value': '1', 'Tags.2.Key': 'b', 'Tags.2.Value': '2' });
    expect(rosCancelType('Rollback', {})).toBe('Safe');
    expect(rosCancelType('NoRollback', {})).toBe('Quick');
    expect(rosCancelType('Rollback', { cancelType: 'Quick' })).toBe('Quick');
  });
  it('ros legacy: the owner mark goes into the template Description', () => {
    const t = JSON.parse(legacyTemplate({ ROSTemplateFormatVersion: '2015-09-01', Description: 'd' }, 'u1')) as { Description: string };
    expect(t.Description).toBe('d [stackoperator.dev/uid=u1]');
    expect(() => legacyTemplate('not: [valid', 'u1')).toThrow();
  });
  it('cloudfoundry deployment settings: template, overridden by options', () => {
    expect(cfDeploymentSpec({ droplet: { guid: 'd1' }, strategy: 'canary' }, { maxInFlight: 2 })).toEqual({ dropletGuid: 'd1', strategy: 'canary', maxInFlight: 2 });
    expect(cfDeploymentSpec('revisionGuid: r1', { strategy: 'rolling' })).toEqual({ revisionGuid: 'r1', strategy: 'rolling' });
    expect(() => cfDeploymentSpec({ dropletGuid: 'd' }, { revisionGuid: 'r' })).toThrow(/either/);
  });
});

describe('template source: body or URL, never a placeholder (issue 13 item 1)', () => {
  const t = { ROSTemplateFormatVersion: '2015-09-01' };
  it('RFS: template_body or template_uri', () => {
    expect(rfsTemplate({ template: t })).toEqual({ template_body: JSON.stringify(t) });
    expect(rfsTemplate({ template: undefined, templateUrl: 'https://obs.example/t.tf.json' })).toEqual({ template_uri: 'https://obs.example/t.tf.json' });
  });
  it('ROS: TemplateBody or TemplateURL', () => {
    expect(rosTemplate({ template: t })).toEqual({ TemplateBody: JSON.stringify(t) });
    expect(rosTemplate({ template: undefined, templateUrl: 'oss://bucket/t.json' })).toEqual({ TemplateURL: 'oss://bucket/t.json' });
  });
  it('neither, or an empty string, is Invalid (no "{}" placeholder); both is Invalid', () => {
    for (const f of [() => rfsTemplate({ template: undefined }), () => rosTemplate({ template: '  ' }), () => templateSource({ template: null }, 'heat')]) {
      expect(f).toThrow(ProviderError);
      expect(f).toThrow(/no template/);
    }
    expect(() => templateSource({ template: t, templateUrl: 'https://x/t' }, 'heat')).toThrow(/not both/);
  });
  it('ROS legacy has no template URL', () => {
    expect(() => legacyTemplate(undefined, 'u', 'https://x/t.json')).toThrow(/no template URL/);
  });
});

describe('ROS semantics (issue 13 items 5-7)', () => {
  it('stack policies: one of each Body / URL pair', () => {
    expect(rosPolicy({ stackPolicyURL: 'oss://b/p' }, 'stackPolicyBody', 'stackPolicyURL', 'StackPolicy')).toEqual({ StackPolicyURL: 'oss://b/p' });
    expect(rosPolicy({ stackPolicyBody: { Statement: [] } }, 'stackPolicyBody', 'stackPolicyURL', 'StackPolicy')).toEqual({ StackPolicyBody: '{"Statement":[]}' });
    expect(() => rosPolicy({ stackPolicyDuringUpdateBody: {}, stackPolicyDuringUpdateURL: 'https://x/p' }, 'stackPolicyDuringUpdateBody', 'stackPolicyDuringUpdateURL', 'StackPolicyDuringUpdate')).toThrow(/not both/);
  });
  it('an unchanged update ("Update the completely same stack") is recognised', () => {
    const e = rosError(r(400, { Code: 'NotSupported', Message: 'Update the completely same stack (s1) is not supported.' }));
    expect(isNoChangeUpdate(e)).toBe(true);
    expect(isNoChangeUpdate(rosError(r(400, { Code: 'NotSupported', Message: 'Stack is suspended.' })))).toBe(false);
  });
  it('ROS offers only Rollback cancel (no NoRollback promise)', () => {
    expect(ROS_CAPABILITIES.cancelModes).toEqual(['Rollback']);
    expect(RFS_CAPABILITIES.idempotencyTokens).toBe(false);
  });
  it('legacy "use previous parameters" never re-sends a NoEcho or masked value', () => {
    const template = { ROSTemplateFormatVersion: '2015-09-01', Parameters: { Password: { Type: 'String', NoEcho: true }, Size: { Type: 'Number' } } };
    expect(previousParameters({ Password: 'abc', Size: '2', Token: '******' }, template)).toEqual({ Size: '2' });
  });
});
