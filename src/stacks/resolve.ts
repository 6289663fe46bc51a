// Resolution of a Stack's inputs before planning: which provider (and its credentials), and the
// desired state (template from inline / ConfigMap / URL, parameters merged from Secrets and
// ConfigMaps). Reads go through the narrow `ResolveReader`, so this file is testable without a cluster.
import { createHash } from 'node:crypto';
import { MAX_TEMPLATE_BYTES } from '../api/v1alpha1/schemas.ts';
import type { Stack, StackProvider } from '../api/v1alpha1/types.ts';
import { type ResolvedProviderConfig, credentialsRef, providerBlock, providerIdentity } from '../providers/config.ts';
import { providerModule, resolveConfig } from '../providers/index.ts';
import { withoutKeys } from '../providers/module.ts';
import type { ProviderType, StackInput } from '../providers/types.ts';
import { canonicalJson } from '../lib/canonical-json.ts';
import { type HashedFields, desiredHash, effectiveStackName } from './desired.ts';
import { inlineTemplateText } from './inline-template.ts';
import type { ResolveError } from './plan/index.ts';
import { REASONS } from './reasons.ts';

export interface KeyedData {
  /** Decoded values (Secret data is base64-decoded by the reader). */
  data: Record<string, string>;
  /** Secret keys whose values are not UTF-8 text (left out of data). */
  binaryKeys?: string[];
}

/** The merged parameters may hold at most this many bytes (values from parametersFrom included). */
export const MAX_PARAMETER_BYTES = 256 * 1024;
/** Objects and arrays nested deeper than this in an inline template are refused (no template needs it). */
export const MAX_TEMPLATE_DEPTH = 100;

export interface ResolveReader {
  /** undefined when the object does not exist. */
  secret(namespace: string, name: string): Promise<KeyedData | undefined>;
  configMap(namespace: string, name: string): Promise<KeyedData | undefined>;
  /** The labels of a namespace (empty when it cannot be found). */
  namespaceLabels(name: string): Promise<Record<string, string>>;
}

export type Resolved<T> = { ok: T } | { error: ResolveError };

const DURATION_UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/** Go-style duration ("1m30s") to milliseconds; the CRD pattern already guarantees the shape. */
export function parseDuration(text: string | undefined, fallbackMs: number): number {
  if (!text) return fallbackMs;
  let total = 0;
  let matched = '';
  for (const m of text.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) {
    total += Number(m[1]) * (DURATION_UNITS[m[2] ?? 's'] ?? 1000);
    matched += m[0];
  }
  return matched === text && total > 0 ? total : fallbackMs;
}

export function providerType(spec: StackProvider['spec']): ProviderType | undefined {
  return providerBlock(spec)?.type;
}

/** A provider object plus its credentials Secret, as an adapter config. */
export async function resolveProviderConfig(provider: StackProvider, reader: ResolveReader): Promise<Resolved<ResolvedProviderConfig>> {
  const id = providerIdentity(provider);
  const ref = credentialsRef(provider);
  if (!ref) return { error: { reason: REASONS.InvalidSpec, message: `${id} sets no provider block` } };
  const where = `${ref.namespace}/${ref.name}`;
  const secret = await reader.secret(ref.namespace, ref.name);
  if (!secret) return { error: { reason: REASONS.CredentialsInvalid, message: `credentials Secret ${where} of ${id} not found` } };
  const config = resolveConfig(provider, secret.data);
  if ('error' in config) return { error: { reason: REASONS.CredentialsInvalid, message: `credentials Secret ${where} ${config.error}` } };
  return config;
}

function invalid(message: string): { error: ResolveError } {
  return { error: { reason: REASONS.InvalidSpec, message } };
}

/** Checks the Stack against rules only the provider type knows (admission cannot see the provider). */
export function validateForProvider(stack: Stack, type: ProviderType): ResolveError | undefined {
  const module = providerModule(type);
  const nameProblem = module.checkStackName(effectiveStackName(stack));
  if (nameProblem) return { reason: REASONS.InvalidSpec, message: nameProblem };
  for (const [block, value] of Object.entries(stack.spec.providerOptions ?? {})) {
    if (value !== undefined && block !== module.block) {
      return { reason: REASONS.InvalidSpec, message: `spec.providerOptions.${block} does not apply to a ${type} provider; use spec.providerOptions.${module.block}` };
    }
  }
  return undefined;
}

/** Template, parameters and options as the provider will receive them, with their hash. */
export async function resolveDesired(
  stack: Stack,
  type: ProviderType,
  reader: ResolveReader,
  stackOutputs: StackOutputs = () => undefined,
): Promise<Resolved<{ hash: string; input: StackInput }>> {
  const problem = validateForProvider(stack, type);
  if (problem) return { error: problem };
  const template = await resolveTemplate(stack, type, reader);
  if ('error' in template) return template;
  const parameters = await resolveParameters(stack, reader, stackOutputs);
  if ('error' in parameters) return parameters;
  const spec = stack.spec;
  const module = providerModule(type);
  const split = module.inputOptions({ ...((spec.providerOptions?.[module.block] as Record<string, unknown> | undefined) ?? {}) });
  const read = template.ok.read;
  const input: StackInput = {
    name: effectiveStackName(stack),
    // A getter: a template the cache keeps as text is parsed only where it is sent (a create / update call).
    get template(): unknown {
      return read();
    },
    ...(template.ok.templateUrl ? { templateUrl: template.ok.templateUrl } : {}),
    ...(split.files ? { files: split.files } : {}),
    ...(split.environment !== undefined ? { environment: split.environment } : {}),
    parameters: parameters.ok,
    usePreviousParameters: spec.usePreviousParameters ?? false,
    disableRollback: spec.disableRollback ?? false,
    timeoutMinutes: spec.timeoutMinutes ?? 60,
    tags: spec.tags ?? {},
    ownerUid: stack.metadata.uid ?? '',
    deletionProtection: spec.deletionProtection ?? false,
    options: split.options,
  };
  // Options the service never receives (e.g. ros cancelType) are left out of the hash: changing them
  // must not cause an update call.
  const hashed: HashedFields = {
    ...(input.templateUrl !== undefined ? { templateUrl: input.templateUrl } : {}),
    ...(input.files !== undefined ? { files: input.files } : {}),
    ...(input.environment !== undefined ? { environment: input.environment } : {}),
    parameters: input.parameters,
    usePreviousParameters: input.usePreviousParameters,
    disableRollback: input.disableRollback,
    timeoutMinutes: input.timeoutMinutes,
    tags: input.tags,
    options: withoutKeys(split.options, module.unsentOptions),
  };
  return { ok: { hash: hashDesired(hashed, template.ok), input } };
}

/** A resolved template: how to read it (a fresh copy where the cache keeps it as text) or its URL. */
interface ResolvedTemplate {
  read: () => unknown;
  templateUrl?: string;
  /**
   * The cached Stack's spec.template and the JSON text it keeps of its inline template
   * (inline-template.ts); with the parsed template when this reconcile had to parse the text anyway.
   */
  cached?: { source: object; text: string; parsed?: unknown };
}

/**
 * Per cached inline template (by its spec.template object), what only changes with its text: the
 * checks' outcome, and the last desired hash with a digest of the other hashed fields. A few dozen
 * bytes per Stack: neither the parsed template nor its canonical JSON is kept.
 */
const inlineMemo = new WeakMap<object, { text: string; outcome: Resolved<true>; hash?: { rest: string; value: string } }>();

function hashDesired(hashed: HashedFields, template: ResolvedTemplate): string {
  const cached = template.cached;
  if (!cached) return desiredHash({ ...hashed, template: template.read() });
  const memo = inlineMemo.get(cached.source);
  const rest = createHash('sha256').update(canonicalJson(hashed)).digest('base64');
  if (memo?.text === cached.text && memo.hash?.rest === rest) return memo.hash.value;
  const value = desiredHash({ ...hashed, template: cached.parsed ?? JSON.parse(cached.text) });
  if (memo?.text === cached.text) memo.hash = { rest, value };
  return value;
}

async function resolveTemplate(stack: Stack, type: ProviderType, reader: ResolveReader): Promise<Resolved<ResolvedTemplate>> {
  const ns = stack.metadata.namespace ?? '';
  const source = stack.spec.template;
  if (source.url) {
    if (!providerModule(type).templateUrl) return invalid(`spec.template.url: a ${type} provider has no template URL; use spec.template.inline or configMapRef`);
    return { ok: { read: () => undefined, templateUrl: source.url } };
  }
  const text = inlineTemplateText(source);
  if (text !== undefined) {
    const read = (): unknown => JSON.parse(text);
    const memo = inlineMemo.get(source);
    if (memo?.text === text) return 'error' in memo.outcome ? memo.outcome : { ok: { read, cached: { source, text } } };
    const parsed = read();
    const outcome = checkTemplate(parsed);
    inlineMemo.set(source, { text, outcome });
    return 'error' in outcome ? outcome : { ok: { read, cached: { source, text, parsed } } };
  }
  let template: unknown = source.inline;
  if (template === undefined && source.configMapRef) {
    const ref = source.configMapRef;
    const cm = await reader.configMap(ns, ref.name);
    if (!cm) return { error: { reason: REASONS.TemplateNotFound, message: `template ConfigMap ${ns}/${ref.name} not found` } };
    template = cm.data[ref.key];
    if (template === undefined) return { error: { reason: REASONS.TemplateNotFound, message: `template ConfigMap ${ns}/${ref.name} has no key ${ref.key}` } };
  }
  if (template === undefined) return invalid('spec.template sets none of inline, configMapRef or url');
  const checked = checkTemplate(template);
  return 'error' in checked ? checked : { ok: { read: () => template } };
}

/** Depth, size and emptiness of a template. */
function checkTemplate(template: unknown): Resolved<true> {
  if (nestingDepth(template) > MAX_TEMPLATE_DEPTH) return invalid(`the inline template nests objects or arrays more than ${MAX_TEMPLATE_DEPTH} levels deep`);
  const size = Buffer.byteLength(typeof template === 'string' ? template : JSON.stringify(template));
  if (size > MAX_TEMPLATE_BYTES) {
    return { error: { reason: REASONS.TemplateTooLarge, message: `the template is ${size} bytes; at most ${MAX_TEMPLATE_BYTES} (512 KiB) are allowed` } };
  }
  if (typeof template === 'string' && template.trim() === '') return invalid('the template is empty');
  return { ok: true };
}

/** Depth of nested objects / arrays, without recursion (a hostile template must not overflow the stack). */
export function nestingDepth(value: unknown): number {
  let max = 0;
  const todo: [unknown, number][] = [[value, 0]];
  while (todo.length > 0) {
    const [v, d] = todo.pop() as [unknown, number];
    if (v === null || typeof v !== 'object') continue;
    max = Math.max(max, d + 1);
    if (max > MAX_TEMPLATE_DEPTH) return max;
    for (const child of Object.values(v as Record<string, unknown>)) todo.push([child, d + 1]);
  }
  return max;
}

/** The status.outputs of a Stack of the same namespace, by name, from the cache (undefined: unknown). */
export type StackOutputs = (name: string) => Record<string, string> | undefined;

/** parametersFrom first, in order; spec.parameters wins (like Flux valuesFrom + values). */
async function resolveParameters(stack: Stack, reader: ResolveReader, stackOutputs: StackOutputs): Promise<Resolved<Record<string, string>>> {
  const ns = stack.metadata.namespace ?? '';
  const parameters: Record<string, string> = {};
  for (const [i, src] of (stack.spec.parametersFrom ?? []).entries()) {
    const where = `spec.parametersFrom[${i}]: ${src.kind} ${ns}/${src.name}`;
    if (src.kind === 'Stack') {
      // An output of another Stack becomes part of the desired state, so a new value means a new hash and token.
      const v = src.key === undefined ? undefined : stackOutputs(src.name)?.[src.key];
      if (v === undefined) return { error: { reason: REASONS.WaitingForDependencies, message: `${where} has no output ${src.key ?? ''} yet`, transient: true } };
      parameters[src.parameter ?? src.key ?? ''] = v;
      continue;
    }
    const obj = src.kind === 'Secret' ? await reader.secret(ns, src.name) : await reader.configMap(ns, src.name);
    if (!obj) {
      if (src.optional) continue;
      return { error: { reason: REASONS.ParametersNotFound, message: `${where} not found` } };
    }
    const binary = (obj.binaryKeys ?? []).filter((k) => !src.key || k === src.key);
    if (binary.length > 0) return invalid(`${where}: key${binary.length > 1 ? 's' : ''} ${binary.join(', ')} hold binary data; parameters must be UTF-8 text`);
    if (!src.key) {
      Object.assign(parameters, obj.data);
      continue;
    }
    const v = obj.data[src.key];
    if (v !== undefined) parameters[src.parameter ?? src.key] = v;
    else if (!src.optional) return { error: { reason: REASONS.ParametersNotFound, message: `${where} has no key ${src.key}` } };
  }
  Object.assign(parameters, stack.spec.parameters ?? {});
  const count = Object.keys(parameters).length;
  if (count > 200) return invalid(`${count} parameters after merging parametersFrom; at most 200`);
  const bytes = Object.entries(parameters).reduce((n, [k, v]) => n + Buffer.byteLength(k) + Buffer.byteLength(v), 0);
  if (bytes > MAX_PARAMETER_BYTES) return invalid(`the parameters hold ${bytes} bytes after merging parametersFrom; at most ${MAX_PARAMETER_BYTES} (256 KiB)`);
  return { ok: parameters };
}
