// Alibaba Cloud ROS, RPC API 2019-09-10: Action dispatch, flattened list parameters, ClientToken
// replay, ACS3-HMAC-SHA256 and signature v1 (HMAC-SHA1) verification, ROS error bodies.
import type { EmulatorContext } from '../context.ts';
import { EngineError, type StackEvent, type StackRecord } from '../engine/engine.ts';
import { parseTemplate, TemplateError, type Template } from '../engine/template.ts';
import { header, isObj, json, requestId, type EmuRequest, type EmuResponse, type FrontEnd } from '../http.ts';
import { queryPairs, verifyAcs3, verifyRpcV1, type VerifyResult } from '../signing.ts';
import { fetchText, UrlFetchError } from '../url-fetch.ts';
import { ChangeSetError, ChangeSetStore } from './ros-changesets.ts';
import { deniedAction, parsePolicy, plannedActions } from './ros-policy.ts';

export function rosError(status: number, code: string, message: string, host = 'ros.aliyuncs.com'): EmuResponse {
  return json(status, {
    RequestId: requestId().toUpperCase(),
    HostId: host,
    Code: code,
    Message: message,
    Recommend: `https://api.aliyun.com/troubleshoot?q=${encodeURIComponent(code)}&product=ROS`,
  });
}

class RosFail extends Error {
  readonly status: number;
  readonly code: string;
  constructor(status: number, code: string, message: string) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

function fail(status: number, code: string, message: string): never {
  throw new RosFail(status, code, message);
}

/** ROS time format: YYYY-MM-DDThh:mm:ss (UTC, no zone suffix). */
export function rosTime(ms: number): string {
  return new Date(ms).toISOString().slice(0, 19);
}

export function rosStatus(s: { action: string; status: string; rollbackOf?: string | undefined; empty?: boolean; extra?: Record<string, unknown> }): string {
  // A CREATE change set's stack, not executed yet (ROS: "in the REVIEW_IN_PROGRESS state until you execute the change set").
  if (s.empty && s.extra?.review === true && s.action === 'CREATE' && s.status === 'COMPLETE') return 'REVIEW_IN_PROGRESS';
  if (s.action === 'ROLLBACK') return s.rollbackOf === 'CREATE' ? `CREATE_ROLLBACK_${s.status}` : `ROLLBACK_${s.status}`;
  return `${s.action}_${s.status}`;
}

/** Collect flattened list parameters: Prefix.N.Field -> [{Field: value}] ordered by N; Prefix.N -> [value]. */
export function flatList(params: Record<string, string>, prefix: string): Record<string, string>[] {
  const byIndex = new Map<number, Record<string, string>>();
  for (const [k, v] of Object.entries(params)) {
    if (!k.startsWith(`${prefix}.`)) continue;
    const rest = k.slice(prefix.length + 1);
    const dot = rest.indexOf('.');
    const n = Number(dot < 0 ? rest : rest.slice(0, dot));
    if (!Number.isInteger(n) || n < 1) continue;
    const entry = byIndex.get(n) ?? {};
    entry[dot < 0 ? '' : rest.slice(dot + 1)] = v;
    byIndex.set(n, entry);
  }
  return [...byIndex.entries()].sort(([a], [b]) => a - b).map(([, e]) => e);
}

const VOLATILE = new Set(['Signature', 'SignatureNonce', 'Timestamp', 'AccessKeyId', 'SignatureMethod', 'SignatureVersion', 'Format', 'SecurityToken', 'ClientToken', 'Action', 'Version']);
const TOKEN_ACTIONS = new Set(['CreateStack', 'UpdateStack', 'CreateChangeSet', 'ExecuteChangeSet']);
// ClientToken: "up to 64 characters ... letters, digits, hyphens (-), and underscores (_)" (seed 004)
const TOKEN_RE = /^[A-Za-z0-9_-]{1,64}$/;
const NAME_RE = /^[A-Za-z][A-Za-z0-9_-]{0,254}$/;

export class RosFrontEnd implements FrontEnd {
  readonly service = 'ros' as const;
  readonly prefix = '/ros';
  readonly #ctx: EmulatorContext;
  readonly #nonces = new Map<string, number>();
  readonly #tokens = new Map<string, { fingerprint: string; body: Record<string, unknown> }>();
  readonly #changeSets: ChangeSetStore;

  constructor(ctx: EmulatorContext) {
    this.#ctx = ctx;
    this.#changeSets = new ChangeSetStore(ctx.engine, ctx.options.rosChangeSetDelayMs ?? 200);
  }

  #params(req: EmuRequest): Record<string, string> {
    const out: Record<string, string> = {};
    for (const [k, v] of queryPairs(req.rawQuery)) out[k] = v;
    const ct = header(req, 'content-type') ?? '';
    if (req.body.length > 0 && ct.includes('application/x-www-form-urlencoded')) {
      for (const [k, v] of new URLSearchParams(req.body.toString('utf8'))) out[k] = v;
    }
    return out;
  }

  operation(req: EmuRequest): string {
    return header(req, 'x-acs-action') ?? req.url.searchParams.get('Action') ?? this.#params(req).Action ?? 'unknown';
  }

  throttled(req: EmuRequest): EmuResponse {
    return rosError(400, 'Throttling.User', 'Request was denied due to user flow control.', req.url.host);
  }

  serverError(req: EmuRequest, status: number): EmuResponse {
    return status === 503
      ? rosError(503, 'ServiceUnavailable', 'The request has failed due to a temporary failure of the server.', req.url.host)
      : rosError(status, 'InternalError', 'The request processing has failed due to some unknown error, exception or failure.', req.url.host);
  }

  #authenticate(req: EmuRequest, params: Record<string, string>): void {
    const auth = header(req, 'authorization');
    const lookup = (ak: string): string | undefined => this.#ctx.rosKeys.secret(ak);
    let v: VerifyResult;
    let nonce: string | undefined;
    if (auth?.startsWith('ACS3-HMAC-SHA256')) {
      // headersDistinct: node joins repeated headers with ", "; the official signer joins sorted values with ",".
      v = verifyAcs3({ method: req.method, rawPath: req.rawPath, rawQuery: req.rawQuery, headers: req.raw.headersDistinct, body: req.body }, lookup);
      nonce = header(req, 'x-acs-signature-nonce');
    } else if (params.Signature !== undefined) {
      v = verifyRpcV1(req.method, params, lookup);
      nonce = params.SignatureNonce;
    } else {
      fail(400, 'IncompleteSignature', 'The request signature does not conform to Aliyun standards.');
    }
    if (!v.ok) {
      if (v.reason === 'unknown-key') fail(404, 'InvalidAccessKeyId.NotFound', 'Specified access key is not found.');
      if (v.reason === 'missing' || v.reason === 'malformed') fail(400, 'IncompleteSignature', `The request signature does not conform to Aliyun standards. ${v.detail}`);
      fail(400, 'SignatureDoesNotMatch', 'Specified signature is not matched with our calculation.');
    }
    if (nonce) {
      const now = this.#ctx.clock.now();
      if (this.#nonces.has(nonce)) fail(400, 'SignatureNonceUsed', 'Specified signature nonce was used already.');
      this.#nonces.set(nonce, now);
      if (this.#nonces.size > 100_000) {
        for (const [k, t] of this.#nonces) if (now - t > 15 * 60_000) this.#nonces.delete(k);
      }
    }
  }

  async handle(req: EmuRequest): Promise<EmuResponse> {
    const params = this.#params(req);
    try {
      if (req.path !== '/' && req.path !== '') fail(404, 'InvalidAction.NotFound', 'Specified api is not found, please check your url and method.');
      this.#authenticate(req, params);
      const action = header(req, 'x-acs-action') ?? params.Action;
      if (!action) fail(400, 'MissingParameter', 'The input parameter "Action" that is mandatory for processing this request is not supplied.');
      const version = header(req, 'x-acs-version') ?? params.Version;
      if (version !== '2019-09-10') fail(400, 'InvalidVersion', `Specified parameter Version is not valid: ${version ?? ''}.`);
      const token = params.ClientToken;
      let fingerprint = '';
      if (token !== undefined && !TOKEN_RE.test(token)) fail(400, 'InvalidParameter', 'The specified parameter "ClientToken" is not valid.');
      if (token !== undefined && TOKEN_ACTIONS.has(action)) {
        fingerprint = JSON.stringify(Object.entries(params).filter(([k]) => !VOLATILE.has(k)).sort(([a], [b]) => (a < b ? -1 : 1)));
        const prior = this.#tokens.get(`${action}:${token}`);
        if (prior) {
          if (prior.fingerprint !== fingerprint) fail(400, 'InvalidIdempotenceParameter', 'The request uses the same client token as a previous, but non-identical request.');
          return json(200, { ...prior.body, RequestId: requestId().toUpperCase() });
        }
      }
      const body = await this.#dispatch(action, params);
      if (token !== undefined && TOKEN_ACTIONS.has(action)) this.#tokens.set(`${action}:${token}`, { fingerprint, body });
      return json(200, body);
    } catch (e) {
      if (e instanceof RosFail || e instanceof ChangeSetError) return rosError(e.status, e.code, e.message, req.url.host);
      if (e instanceof TemplateError) return rosError(400, e.kind === 'InvalidTemplate' ? 'InvalidSchema' : e.kind, e.message, req.url.host);
      if (e instanceof EngineError) {
        const map: Record<string, [number, string]> = {
          NotFound: [404, 'StackNotFound'],
          Exists: [409, 'StackExists'],
          InProgress: [409, 'ActionInProgress'],
          NotSupported: [400, 'NotSupported'],
          Protected: [400, 'InvalidOperation.DeletionProtection'],
          UserParameterMissing: [400, 'UserParameterMissing'],
          UnknownUserParameter: [400, 'UnknownUserParameter'],
          ImmutableParameterModified: [400, 'StackValidationFailed'],
        };
        const [status, code] = map[e.kind] ?? [500, 'InternalError'];
        return rosError(status, code, e.message, req.url.host);
      }
      throw e;
    }
  }

  #region(params: Record<string, string>): string {
    const r = params.RegionId;
    if (!r) fail(400, 'MissingParameter', 'The input parameter "RegionId" that is mandatory for processing this request is not supplied.');
    return r;
  }

  #stack(params: Record<string, string>, region: string): StackRecord {
    const id = params.StackId;
    if (!id) fail(400, 'MissingParameter', 'The input parameter "StackId" that is mandatory for processing this request is not supplied.');
    const s = this.#ctx.engine.get(id);
    if (!s || s.provider !== 'ros' || s.scope !== region || s.deleted) fail(404, 'StackNotFound', `The Stack (${id}) could not be found.`);
    return s;
  }

  async #template(params: Record<string, string>, required: boolean): Promise<Template | undefined> {
    const sources = ['TemplateBody', 'TemplateURL', 'TemplateId'].filter((k) => params[k] !== undefined);
    if (sources.length > 1) fail(400, 'InvalidParameter', 'You can specify only one of the TemplateBody, TemplateURL, and TemplateId parameters.');
    if (params.TemplateId !== undefined) fail(400, 'InvalidParameter', 'TemplateId is not supported by the emulator; send TemplateBody or TemplateURL.');
    const body = params.TemplateURL !== undefined ? await this.#fetch('TemplateURL', params.TemplateURL, 524_288) : params.TemplateBody;
    if (body === undefined) {
      if (required) fail(400, 'MissingParameter', 'One of TemplateBody, TemplateURL, TemplateId or TemplateScratchId must be specified.');
      return undefined;
    }
    if (body.length > 524_288) fail(400, 'InvalidParameter', 'TemplateBody is larger than 524288 bytes.');
    const t = parseTemplate(body, 'any');
    if (t.dialect === 'tf') throw new TemplateError('InvalidTemplateVersion', 'The template version is invalid: ROSTemplateFormatVersion is missing.');
    return t;
  }

  /** ROS fetches http(s) URLs itself; oss:// needs OSS, which the emulator does not have. */
  async #fetch(name: string, url: string, maxBytes: number): Promise<string> {
    if (url.length > 1350) fail(400, 'InvalidParameter', `The specified parameter "${name}" is longer than 1350 bytes.`);
    try {
      return await fetchText(url, { maxBytes });
    } catch (e) {
      if (e instanceof UrlFetchError) fail(400, 'InvalidParameter', `The specified parameter "${name}" is not valid: ${e.message}.`);
      throw e;
    }
  }

  /** StackPolicyBody / StackPolicyURL (or the DuringUpdate pair): one of the pair at most; the policy text. */
  async #policy(params: Record<string, string>, prefix: 'StackPolicy' | 'StackPolicyDuringUpdate'): Promise<string | undefined> {
    const body = params[`${prefix}Body`];
    const url = params[`${prefix}URL`];
    if (body !== undefined && url !== undefined) fail(400, 'InvalidParameter', `You can specify only one of the ${prefix}Body and ${prefix}URL parameters.`);
    const text = url !== undefined ? await this.#fetch(`${prefix}URL`, url, 16_384) : body;
    if (text === undefined) return undefined;
    if (text.length < 1 || text.length > 16_384) fail(400, 'InvalidParameter', `The specified parameter "${prefix}Body" must be 1 to 16384 bytes.`);
    const parsed = parsePolicy(text);
    if (typeof parsed === 'string') fail(400, 'InvalidParameter', `The specified parameter "${prefix}Body" is not valid: ${parsed}.`);
    return text;
  }

  /** Refuse an update the stack policy (or the one given for this update) does not allow. */
  #enforcePolicy(s: StackRecord, policy: string | undefined, newTemplate: Template, newParams: Record<string, unknown>): void {
    if (policy === undefined || !s.template) return;
    const statements = parsePolicy(policy);
    if (typeof statements === 'string') return;
    const engine = this.#ctx.engine;
    let oldP: Record<string, unknown>;
    let newP: Record<string, unknown>;
    try {
      oldP = engine.effectiveParams(s.template, s.params);
      newP = engine.effectiveParams(newTemplate, newParams);
    } catch {
      return; // parameter errors are reported by the update itself
    }
    const denied = deniedAction(statements, plannedActions(s.template, oldP, newTemplate, newP));
    if (denied) fail(400, 'StackPolicyValidationFailed', `Action denied by stack policy: ${denied}.`);
  }

  #userParams(params: Record<string, string>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const p of flatList(params, 'Parameters')) {
      if (p.ParameterKey === undefined) fail(400, 'MissingParameter', 'Parameters.N.ParameterKey is mandatory.');
      out[p.ParameterKey] = p.ParameterValue ?? '';
    }
    return out;
  }

  #tags(params: Record<string, string>): Record<string, string> | undefined {
    const list = flatList(params, 'Tags');
    if (list.length === 0) return undefined;
    if (list.length > 20) fail(400, 'InvalidParameter', 'At most 20 tags are allowed.');
    return Object.fromEntries(list.map((t) => [t.Key ?? '', t.Value ?? '']));
  }

  #bool(v: string | undefined, name: string): boolean | undefined {
    if (v === undefined) return undefined;
    if (v === 'true' || v === 'false') return v === 'true';
    fail(400, 'InvalidParameter', `The specified parameter "${name}" is not valid.`);
  }

  /** One handler per ROS action; `rid` is the RequestId every answer carries. */
  async #dispatch(action: string, params: Record<string, string>): Promise<Record<string, unknown>> {
    const rid = requestId().toUpperCase();
    switch (action) {
      case 'CreateStack':
        return await this.#createStack(params, rid);
      case 'GetStack':
        return this.#getStack(params, rid);
      case 'ListStacks':
        return this.#listStacks(params, rid);
      case 'UpdateStack':
        return await this.#updateStack(params, rid);
      case 'CancelUpdateStack':
        return this.#cancelUpdateStack(params, rid);
      case 'DeleteStack':
        return this.#deleteStack(params, rid);
      case 'SetDeletionProtection':
        return this.#setDeletionProtection(params, rid);
      case 'GetStackPolicy':
        return this.#getStackPolicy(params, rid);
      case 'ListStackEvents':
        return this.#listStackEvents(params, rid);
      case 'CreateChangeSet':
        return await this.#createChangeSet(params, rid);
      case 'GetChangeSet': {
        const { cs, stack } = this.#changeSets.get(params.ChangeSetId, this.#region(params));
        return { RequestId: rid, ...this.#changeSets.view(cs, stack, params.ShowTemplate === 'true') };
      }
      case 'ExecuteChangeSet':
        this.#changeSets.execute(params.ChangeSetId ?? '', this.#region(params));
        return { RequestId: rid };
      case 'ListChangeSets':
        return this.#listChangeSets(params, rid);
      case 'DeleteChangeSet':
        this.#changeSets.delete(params.ChangeSetId ?? '', this.#region(params));
        return { RequestId: rid };
      default:
        fail(400, 'InvalidAction.NotFound', `Specified api is not found, please check your url and method: ${action}.`);
    }
  }

  async #createStack(params: Record<string, string>, rid: string): Promise<Record<string, unknown>> {
    const engine = this.#ctx.engine;
    const region = this.#region(params);
    const name = params.StackName;
    if (!name) fail(400, 'MissingParameter', 'The input parameter "StackName" that is mandatory for processing this request is not supplied.');
    if (!NAME_RE.test(name)) fail(400, 'InvalidParameter', `The specified parameter "StackName" is not valid: ${name}.`);
    const template = (await this.#template(params, true))!;
    const stackPolicy = await this.#policy(params, 'StackPolicy');
    const timeout = params.TimeoutInMinutes !== undefined ? Number(params.TimeoutInMinutes) : 60;
    if (!Number.isInteger(timeout) || timeout < 10 || timeout > 1440) fail(400, 'InvalidParameter', 'TimeoutInMinutes must be an integer between 10 and 1440.');
    const dp = params.DeletionProtection ?? 'Disabled';
    if (dp !== 'Enabled' && dp !== 'Disabled') fail(400, 'InvalidParameter', 'DeletionProtection must be Enabled or Disabled.');
    const tags = this.#tags(params);
    const s = engine.create({
      provider: 'ros',
      scope: region,
      name,
      template,
      params: this.#userParams(params),
      disableRollback: this.#bool(params.DisableRollback, 'DisableRollback') ?? false,
      timeoutMins: timeout,
      deletionProtection: dp === 'Enabled',
      ...(tags ? { tags } : {}),
      extra: { stackPolicy, ramRoleName: params.RamRoleName, updateAlwaysRollsBack: true },
    });
    return { RequestId: rid, StackId: s.id };
  }

  /**
   * CreateChangeSet: CREATE makes a new stack in REVIEW_IN_PROGRESS with no resources (tags, the
   * stack's settings), UPDATE diffs an existing stack; "you cannot use the UPDATE type ... for a new
   * stack or the CREATE type ... for an existing stack" (ROS reference).
   */
  async #createChangeSet(params: Record<string, string>, rid: string): Promise<Record<string, unknown>> {
    const region = this.#region(params);
    const name = params.ChangeSetName;
    if (!name || !NAME_RE.test(name)) fail(400, 'InvalidParameter', `The specified parameter "ChangeSetName" is not valid: ${name ?? ''}.`);
    const type = params.ChangeSetType ?? 'UPDATE';
    if (type !== 'CREATE' && type !== 'UPDATE') fail(400, 'InvalidParameter', `The specified parameter "ChangeSetType" is not valid: ${type}.`);
    const timeout = params.TimeoutInMinutes !== undefined ? Number(params.TimeoutInMinutes) : undefined;
    const common = { id: this.#ctx.engine.newId(), name, region, description: params.Description ?? '', disableRollback: this.#bool(params.DisableRollback, 'DisableRollback') ?? false, ...(timeout !== undefined ? { timeoutMins: timeout } : {}) };
    if (type === 'CREATE') {
      if (params.StackId !== undefined) fail(400, 'InvalidParameter', 'StackId cannot be specified for a change set of type CREATE.');
      const stackName = params.StackName;
      if (!stackName || !NAME_RE.test(stackName)) fail(400, 'InvalidParameter', `The specified parameter "StackName" is not valid: ${stackName ?? ''}.`);
      const template = (await this.#template(params, true))!;
      const userParams = this.#userParams(params);
      this.#ctx.engine.validateParams(template, userParams);
      const tags = this.#tags(params);
      const stack = this.#ctx.engine.create({ provider: 'ros', scope: region, name: stackName, template: null, params: userParams, disableRollback: common.disableRollback, ...(timeout !== undefined ? { timeoutMins: timeout } : {}), ...(tags ? { tags } : {}), extra: { review: true, ramRoleName: params.RamRoleName, updateAlwaysRollsBack: true } });
      const cs = this.#changeSets.add({ ...common, type, stackId: stack.id, template, params: userParams }, stack);
      return { RequestId: rid, ChangeSetId: cs.id, StackId: stack.id };
    }
    const s = this.#stack(params, region);
    if (s.empty && s.extra.review === true) fail(400, 'InvalidParameter', `The Stack (${s.name}) is REVIEW_IN_PROGRESS: a change set of type UPDATE needs a created stack.`);
    const template = (await this.#template(params, false)) ?? s.template;
    if (!template) fail(400, 'MissingParameter', 'One of TemplateBody, TemplateURL, TemplateId or TemplateScratchId must be specified.');
    const usePrevious = this.#bool(params.UsePreviousParameters, 'UsePreviousParameters') ?? false;
    const userParams = usePrevious ? { ...Object.fromEntries(Object.entries(s.params).filter(([k]) => k in template.parameters)), ...this.#userParams(params) } : this.#userParams(params);
    this.#ctx.engine.validateParams(template, userParams);
    const cs = this.#changeSets.add({ ...common, type, stackId: s.id, template, params: userParams }, s);
    return { RequestId: rid, ChangeSetId: cs.id, StackId: s.id };
  }

  #listChangeSets(params: Record<string, string>, rid: string): Record<string, unknown> {
    const region = this.#region(params);
    const s = this.#stack(params, region);
    const names = flatList(params, 'ChangeSetName').map((x) => x[''] ?? '');
    const list = this.#changeSets
      .list(s.id)
      .filter((c) => names.length === 0 || names.includes(c.name))
      .map((c) => {
        const v = this.#changeSets.view(c, s, false);
        return { ChangeSetId: v.ChangeSetId, ChangeSetName: v.ChangeSetName, ChangeSetType: v.ChangeSetType, StackId: v.StackId, StackName: v.StackName, RegionId: region, Description: v.Description, CreateTime: v.CreateTime, Status: v.Status, ExecutionStatus: v.ExecutionStatus };
      });
    const page = Math.max(1, Number(params.PageNumber ?? 1));
    const size = Math.min(50, Math.max(1, Number(params.PageSize ?? 10)));
    return { RequestId: rid, TotalCount: list.length, PageNumber: page, PageSize: size, ChangeSets: list.slice((page - 1) * size, page * size) };
  }

  #getStack(params: Record<string, string>, rid: string): Record<string, unknown> {
    const region = this.#region(params);
    const s = this.#stack(params, region);
    return { RequestId: rid, ...this.#view(s, region, params.OutputOption !== 'Disabled') };
  }

  #listStacks(params: Record<string, string>, rid: string): Record<string, unknown> {
    const engine = this.#ctx.engine;
    const region = this.#region(params);
    let list = engine.list({ provider: 'ros', scope: region });
    const names = flatList(params, 'StackName').map((x) => x[''] ?? '');
    if (names.length) list = list.filter((s) => names.includes(s.name));
    const statuses = flatList(params, 'Status').map((x) => x[''] ?? '');
    if (statuses.length) list = list.filter((s) => statuses.includes(rosStatus(s)));
    const page = Number(params.PageNumber ?? 1);
    const size = Math.min(50, Number(params.PageSize ?? 10));
    return {
      RequestId: rid,
      TotalCount: list.length,
      PageNumber: page,
      PageSize: size,
      Stacks: list.slice((page - 1) * size, page * size).map((s) => {
        const v = this.#view(s, region, false);
        return { StackId: v.StackId, StackName: v.StackName, Status: v.Status, StatusReason: v.StatusReason, CreateTime: v.CreateTime, UpdateTime: v.UpdateTime, RegionId: region, DisableRollback: v.DisableRollback, TimeoutInMinutes: v.TimeoutInMinutes, Tags: v.Tags, DeletionProtection: v.DeletionProtection, StackType: 'ROS' };
      }),
    };
  }

  async #updateStack(params: Record<string, string>, rid: string): Promise<Record<string, unknown>> {
    const engine = this.#ctx.engine;
    const region = this.#region(params);
    const s = this.#stack(params, region);
    if (s.status === 'IN_PROGRESS') {
      engine.countCall('ros', s.scope, s.name, 'rejected', s.id);
      fail(409, 'ActionInProgress', `Stack ${s.name} already has an action (${s.action}) in progress.`);
    }
    const template = await this.#template(params, false);
    const newPolicy = await this.#policy(params, 'StackPolicy');
    const duringUpdate = await this.#policy(params, 'StackPolicyDuringUpdate');
    const usePrevious = this.#bool(params.UsePreviousParameters, 'UsePreviousParameters') ?? false;
    const userParams = this.#userParams(params);
    const tags = this.#tags(params);
    // DisableRollback "cannot take effect when the stack is being updated" (seed 004): validated, not used.
    this.#bool(params.DisableRollback, 'DisableRollback');
    const newTemplate = template ?? s.template;
    const merged = usePrevious ? { ...s.params, ...userParams } : userParams;
    // Real ROS answers an unchanged update with NotSupported, Tags or not (issue 13 item 5).
    if (newTemplate && s.template && JSON.stringify(newTemplate.raw) === JSON.stringify(s.template.raw) && JSON.stringify(merged) === JSON.stringify(s.params) && s.status === 'COMPLETE' && params.DryRun !== 'true') {
      engine.countCall('ros', s.scope, s.name, 'rejected', s.id);
      fail(400, 'NotSupported', 'Update the completely same stack is not supported.');
    }
    if (newTemplate) this.#enforcePolicy(s, duringUpdate ?? (typeof s.extra.stackPolicy === 'string' ? s.extra.stackPolicy : undefined), newTemplate, merged);
    engine.update(s.id, {
      ...(template ? { template } : {}),
      params: userParams,
      paramMode: usePrevious ? 'patch' : 'replace',
      ...(tags ? { tags } : {}),
      ...(params.TimeoutInMinutes !== undefined ? { timeoutMins: Number(params.TimeoutInMinutes) } : {}),
      whileInProgress: 'reject',
    });
    if (newPolicy !== undefined) s.extra.stackPolicy = newPolicy;
    if (params.RamRoleName !== undefined) s.extra.ramRoleName = params.RamRoleName;
    return { RequestId: rid, StackId: s.id };
  }

  #cancelUpdateStack(params: Record<string, string>, rid: string): Record<string, unknown> {
    const engine = this.#ctx.engine;
    const region = this.#region(params);
    const s = this.#stack(params, region);
    const type = params.CancelType ?? 'Safe';
    if (type !== 'Safe' && type !== 'Quick') fail(400, 'InvalidParameter', 'CancelType must be Safe or Quick.');
    if (s.status === 'IN_PROGRESS' && s.action !== 'CREATE' && s.action !== 'UPDATE') {
      engine.countCall('ros', s.scope, s.name, 'rejected', s.id);
      fail(409, 'ActionInProgress', `Stack ${s.name} already has an action (${s.action}) in progress.`);
    }
    if (s.status !== 'IN_PROGRESS') {
      engine.countCall('ros', s.scope, s.name, 'rejected', s.id);
      fail(400, 'NotSupported', `Cancelling update when stack is ${rosStatus(s)} is not supported.`);
    }
    // an update always rolls back on ROS (seed 004); a create follows its DisableRollback
    engine.cancel(s.id, { rollback: s.action === 'UPDATE' || !s.disableRollback, delayMs: type === 'Safe' ? (this.#ctx.options.rosSafeCancelDelayMs ?? 1000) : 0 });
    return { RequestId: rid };
  }

  #deleteStack(params: Record<string, string>, rid: string): Record<string, unknown> {
    const engine = this.#ctx.engine;
    const region = this.#region(params);
    const s = this.#stack(params, region);
    if (s.status === 'IN_PROGRESS' && s.action !== 'DELETE') {
      engine.countCall('ros', s.scope, s.name, 'rejected', s.id);
      fail(409, 'ActionInProgress', `Stack ${s.name} already has an action (${s.action}) in progress.`);
    }
    // RamRoleName: the role the delete runs under (API reference); recorded for the control API
    if (params.RamRoleName !== undefined) s.extra.deleteRamRoleName = params.RamRoleName;
    engine.delete(s.id, { retainResources: this.#bool(params.RetainAllResources, 'RetainAllResources') ?? false });
    return { RequestId: rid };
  }

  #setDeletionProtection(params: Record<string, string>, rid: string): Record<string, unknown> {
    const engine = this.#ctx.engine;
    const region = this.#region(params);
    const s = this.#stack(params, region);
    const dp = params.DeletionProtection;
    if (dp !== 'Enabled' && dp !== 'Disabled') fail(400, 'InvalidParameter', 'The specified parameter "DeletionProtection" is not valid.');
    engine.setDeletionProtection(s.id, dp === 'Enabled');
    return { RequestId: rid };
  }

  #getStackPolicy(params: Record<string, string>, rid: string): Record<string, unknown> {
    const region = this.#region(params);
    const s = this.#stack(params, region);
    const body = typeof s.extra.stackPolicy === 'string' ? (JSON.parse(s.extra.stackPolicy) as unknown) : {};
    return { RequestId: rid, StackPolicyBody: isObj(body) ? body : {} };
  }

  #listStackEvents(params: Record<string, string>, rid: string): Record<string, unknown> {
    const region = this.#region(params);
    const s = this.#stack(params, region);
    let evs = [...s.events].reverse().map((e) => this.#event(s, e));
    const statuses = flatList(params, 'Status').map((x) => x[''] ?? '');
    const types = flatList(params, 'ResourceType').map((x) => x[''] ?? '');
    const ids = flatList(params, 'LogicalResourceId').map((x) => x[''] ?? '');
    if (statuses.length) evs = evs.filter((e) => statuses.includes(String(e.Status)));
    if (types.length) evs = evs.filter((e) => types.includes(String(e.ResourceType)));
    if (ids.length) evs = evs.filter((e) => ids.includes(String(e.LogicalResourceId)));
    const page = Math.max(1, Number(params.PageNumber ?? 1));
    const size = Math.min(50, Math.max(1, Number(params.PageSize ?? 10)));
    return { RequestId: rid, TotalCount: evs.length, PageNumber: page, PageSize: size, Events: evs.slice((page - 1) * size, page * size) };
  }

  #event(s: StackRecord, e: StackEvent): Record<string, unknown> {
    let status = `${e.action}_${e.status}`;
    if (e.stack && e.action === 'ROLLBACK') {
      const op = s.operations.find((o) => o.id === e.opId);
      const orig = op?.rollbackOf ? s.operations.find((o) => o.id === op.rollbackOf) : undefined;
      status = rosStatus({ action: 'ROLLBACK', status: e.status, rollbackOf: orig?.action });
    }
    return {
      EventId: e.id,
      StackId: s.id,
      StackName: s.name,
      LogicalResourceId: e.resourceName,
      PhysicalResourceId: e.physicalResourceId,
      ResourceType: e.stack ? 'ALIYUN::ROS::Stack' : e.resourceType,
      Status: status,
      StatusReason: e.reason,
      CreateTime: rosTime(e.time),
    };
  }

  #view(s: StackRecord, region: string, withOutputs: boolean): Record<string, unknown> {
    const engine = this.#ctx.engine;
    const parameters: { ParameterKey: string; ParameterValue: string }[] = [];
    if (s.template) {
      let eff: Record<string, unknown>;
      try {
        eff = engine.effectiveParams(s.template, s.params);
      } catch {
        eff = s.params;
      }
      for (const [k, v] of Object.entries(eff)) {
        parameters.push({ ParameterKey: k, ParameterValue: s.template.parameters[k]?.hidden ? '****' : typeof v === 'string' ? v : JSON.stringify(v) });
      }
    }
    parameters.push(
      { ParameterKey: 'ALIYUN::AccountId', ParameterValue: '1234567890123456' },
      { ParameterKey: 'ALIYUN::NoValue', ParameterValue: 'None' },
      { ParameterKey: 'ALIYUN::Region', ParameterValue: region },
      { ParameterKey: 'ALIYUN::StackId', ParameterValue: s.id },
      { ParameterKey: 'ALIYUN::StackName', ParameterValue: s.name },
    );
    const tags = isObj(s.tags) ? Object.entries(s.tags).map(([Key, Value]) => ({ Key, Value })) : [];
    const out: Record<string, unknown> = {
      StackId: s.id,
      StackName: s.name,
      RegionId: region,
      Status: rosStatus(s),
      StatusReason: s.statusReason,
      Description: s.description,
      TemplateDescription: s.template?.description ?? '',
      CreateTime: rosTime(s.createdAt),
      ...(s.updatedAt !== undefined ? { UpdateTime: rosTime(s.updatedAt) } : {}),
      DisableRollback: s.disableRollback,
      TimeoutInMinutes: s.timeoutMins,
      DeletionProtection: s.deletionProtection ? 'Enabled' : 'Disabled',
      Parameters: parameters,
      Tags: tags,
      StackType: 'ROS',
      ...(typeof s.extra.ramRoleName === 'string' ? { RamRoleName: s.extra.ramRoleName } : {}),
    };
    if (withOutputs && s.status !== 'IN_PROGRESS') {
      out.Outputs = engine.outputs(s).map((o) => ({ OutputKey: o.key, OutputValue: o.value, Description: o.description ?? '' }));
    }
    return out;
  }
}
