// Template parsing for the emulator: HOT (heat_template_version), ROS (ROSTemplateFormatVersion) and a
// small Terraform-JSON / HCL subset for RFS. Every dialect is normalised into one shape whose resources
// carry OS::Heat::TestResource-style knobs (value, fail, wait_secs, action_wait_secs, ...).
import { parse as parseYaml } from 'yaml';

export type Dialect = 'hot' | 'ros' | 'tf';

export type TemplateErrorKind =
  | 'InvalidTemplate' // unparsable / not an object
  | 'InvalidTemplateVersion'
  | 'InvalidTemplateSection'
  | 'StackValidationFailed'
  | 'ResourceTypeUnavailable';

export class TemplateError extends Error {
  readonly kind: TemplateErrorKind;
  constructor(kind: TemplateErrorKind, message: string) {
    super(message);
    this.kind = kind;
  }
}

export interface ParamDef {
  type: string;
  hasDefault: boolean;
  default?: unknown;
  immutable: boolean;
  hidden: boolean;
  description?: string;
}

export interface ResourceDef {
  type: string;
  properties: unknown;
}

export interface OutputDef {
  value: unknown;
  description?: string;
  sensitive: boolean;
}

export interface Template {
  dialect: Dialect;
  version: string;
  description: string;
  parameters: Record<string, ParamDef>;
  resources: Record<string, ResourceDef>;
  outputs: Record<string, OutputDef>;
  /** The template as the client sent it (object form). */
  raw: unknown;
}

/** Heat resource types the heat front-end accepts (the ones that need no other OpenStack service). */
export const HEAT_TYPES = new Set([
  'OS::Heat::TestResource',
  'OS::Heat::None',
  'OS::Heat::Value',
  'OS::Heat::RandomString',
  'OS::Heat::Delay',
]);

/** Stringify a scalar as-is and anything else as JSON. */
export function text(v: unknown): string {
  if (typeof v === 'string') return v;
  if (v === undefined || v === null) return '';
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return v.toString();
  return JSON.stringify(v) ?? '';
}

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** Parse a JSON or YAML string (or pass an object through). */
export function loadDocument(input: unknown): unknown {
  if (typeof input !== 'string') return input;
  const s = input.trim();
  if (s === '') throw new TemplateError('InvalidTemplate', 'The template is empty.');
  if (s.startsWith('{')) {
    try {
      return JSON.parse(s) as unknown;
    } catch {
      // fall through to YAML (YAML is a JSON superset, gives a better error)
    }
  }
  try {
    return parseYaml(s, { maxAliasCount: 100 }) as unknown;
  } catch (e) {
    throw new TemplateError('InvalidTemplate', `Error parsing template: ${(e as Error).message.split('\n')[0]}`);
  }
}

export function detectDialect(doc: Record<string, unknown>): Dialect | undefined {
  if ('heat_template_version' in doc) return 'hot';
  if ('ROSTemplateFormatVersion' in doc) return 'ros';
  if ('resource' in doc || 'variable' in doc || 'output' in doc || 'terraform' in doc) return 'tf';
  return undefined;
}

const HOT_VERSIONS = new Set([
  '2013-05-23', '2014-10-16', '2015-04-30', '2015-10-15', '2016-04-08', '2016-10-14', '2017-02-24',
  '2017-09-01', '2018-03-02', '2018-08-31', '2021-04-16', 'newton', 'ocata', 'pike', 'queens',
  'rocky', 'wallaby',
]);

function str(v: unknown): string | undefined {
  return typeof v === 'string' ? v : undefined;
}

/**
 * Parse a template. `expect` restricts the dialect a front-end accepts; the RFS front-end also accepts
 * a plain `{resources: {...}}` map (TestResource style, no version key).
 */
export function parseTemplate(input: unknown, expect: Dialect | 'any'): Template {
  const doc = loadDocument(input);
  if (!isObject(doc)) throw new TemplateError('InvalidTemplate', 'The template is not a JSON object or a YAML mapping.');
  let dialect = detectDialect(doc);
  if (!dialect && (expect === 'tf' || expect === 'any') && isObject(doc.resources)) dialect = 'tf';
  if (!dialect) {
    if (expect === 'ros') throw new TemplateError('InvalidTemplateVersion', 'The template version is invalid: ROSTemplateFormatVersion is missing.');
    if (expect === 'tf') throw new TemplateError('InvalidTemplate', 'The template has no resource, variable or output block.');
    throw new TemplateError(
      'InvalidTemplateVersion',
      'Template format version not found.',
    );
  }
  if (expect !== 'any' && dialect !== expect) {
    if (expect === 'hot') throw new TemplateError('InvalidTemplateVersion', 'Template format version not found.');
    if (expect === 'ros') throw new TemplateError('InvalidTemplateVersion', 'The template version is invalid: ROSTemplateFormatVersion is missing.');
    throw new TemplateError('InvalidTemplate', 'The template is not a Terraform JSON document.');
  }
  switch (dialect) {
    case 'hot':
      return parseHot(doc);
    case 'ros':
      return parseRos(doc);
    case 'tf':
      return parseTf(doc);
  }
}

function parseHot(doc: Record<string, unknown>): Template {
  const version = text(doc.heat_template_version instanceof Date ? doc.heat_template_version.toISOString().slice(0, 10) : doc.heat_template_version);
  if (!HOT_VERSIONS.has(version)) {
    throw new TemplateError(
      'InvalidTemplateVersion',
      `The template version is invalid: "heat_template_version: ${version}". "heat_template_version" should be one of: ${[...HOT_VERSIONS].join(', ')}`,
    );
  }
  const allowed = new Set(['heat_template_version', 'description', 'parameter_groups', 'parameters', 'resources', 'outputs', 'conditions']);
  for (const k of Object.keys(doc)) {
    if (!allowed.has(k)) throw new TemplateError('InvalidTemplateSection', `The template section is invalid: ${k}`);
  }
  const parameters: Record<string, ParamDef> = {};
  if (doc.parameters !== undefined && doc.parameters !== null) {
    if (!isObject(doc.parameters)) throw new TemplateError('StackValidationFailed', 'The parameters section must be a map.');
    for (const [name, def] of Object.entries(doc.parameters)) {
      if (!isObject(def) || typeof def.type !== 'string') {
        throw new TemplateError('StackValidationFailed', `Parameter ${name} missing required parameter type`);
      }
      parameters[name] = {
        type: def.type,
        hasDefault: 'default' in def,
        default: def.default,
        immutable: def.immutable === true,
        hidden: def.hidden === true,
        ...(typeof def.description === 'string' ? { description: def.description } : {}),
      };
    }
  }
  const resources: Record<string, ResourceDef> = {};
  if (doc.resources !== undefined && doc.resources !== null) {
    if (!isObject(doc.resources)) throw new TemplateError('StackValidationFailed', 'The resources section must be a map.');
    for (const [name, def] of Object.entries(doc.resources)) {
      if (!isObject(def) || typeof def.type !== 'string') {
        throw new TemplateError('StackValidationFailed', `Property error: resources.${name}: "type" is required.`);
      }
      if (!HEAT_TYPES.has(def.type)) {
        throw new TemplateError('StackValidationFailed', `Failed to validate: resources.${name}: The Resource Type (${def.type}) could not be found.`);
      }
      resources[name] = { type: def.type, properties: def.properties ?? {} };
    }
  }
  const outputs: Record<string, OutputDef> = {};
  if (isObject(doc.outputs)) {
    for (const [name, def] of Object.entries(doc.outputs)) {
      const d = isObject(def) ? def : {};
      const description = str(d.description);
      outputs[name] = { value: d.value ?? null, sensitive: false, ...(description !== undefined ? { description } : {}) };
    }
  }
  checkReferences(resources, outputs, parameters, 'hot');
  return { dialect: 'hot', version, description: str(doc.description) ?? 'No description', parameters, resources, outputs, raw: doc };
}

function parseRos(doc: Record<string, unknown>): Template {
  const version = text(doc.ROSTemplateFormatVersion);
  if (version !== '2015-09-01') {
    throw new TemplateError('InvalidTemplateVersion', `The template version is invalid: ROSTemplateFormatVersion: ${version}. It should be 2015-09-01.`);
  }
  const allowed = new Set(['ROSTemplateFormatVersion', 'Description', 'Parameters', 'Resources', 'Outputs', 'Conditions', 'Mappings', 'Metadata', 'Locals', 'Rules', 'Transform', 'Workspace']);
  for (const k of Object.keys(doc)) {
    if (!allowed.has(k)) throw new TemplateError('InvalidTemplateSection', `The template section is invalid: ${k}`);
  }
  const parameters: Record<string, ParamDef> = {};
  if (isObject(doc.Parameters)) {
    for (const [name, def] of Object.entries(doc.Parameters)) {
      const d = isObject(def) ? def : {};
      parameters[name] = {
        type: typeof d.Type === 'string' ? d.Type : 'String',
        hasDefault: 'Default' in d,
        default: d.Default,
        immutable: false,
        hidden: d.NoEcho === true || d.NoEcho === 'true',
        ...(typeof d.Description === 'string' ? { description: d.Description } : {}),
      };
    }
  }
  const resources: Record<string, ResourceDef> = {};
  if (doc.Resources !== undefined) {
    if (!isObject(doc.Resources)) throw new TemplateError('StackValidationFailed', 'The Resources section must be a map.');
    for (const [name, def] of Object.entries(doc.Resources)) {
      if (!isObject(def) || typeof def.Type !== 'string') {
        throw new TemplateError('StackValidationFailed', `Resource ${name}: Type is required.`);
      }
      resources[name] = { type: def.Type, properties: def.Properties ?? {} };
    }
  }
  const outputs: Record<string, OutputDef> = {};
  if (isObject(doc.Outputs)) {
    for (const [name, def] of Object.entries(doc.Outputs)) {
      const d = isObject(def) ? def : {};
      const description = str(d.Description);
      outputs[name] = { value: d.Value ?? null, sensitive: false, ...(description !== undefined ? { description } : {}) };
    }
  }
  checkReferences(resources, outputs, parameters, 'ros');
  return { dialect: 'ros', version, description: str(doc.Description) ?? '', parameters, resources, outputs, raw: doc };
}

function parseTf(doc: Record<string, unknown>): Template {
  const parameters: Record<string, ParamDef> = {};
  if (isObject(doc.variable)) {
    for (const [name, def] of Object.entries(doc.variable)) {
      const d = isObject(def) ? def : {};
      parameters[name] = {
        type: typeof d.type === 'string' ? d.type : 'string',
        hasDefault: 'default' in d,
        default: d.default,
        immutable: false,
        hidden: d.sensitive === true,
        ...(typeof d.description === 'string' ? { description: d.description } : {}),
      };
    }
  }
  const resources: Record<string, ResourceDef> = {};
  if (isObject(doc.resource)) {
    // Terraform JSON: resource.<type>.<name> = {props}
    for (const [type, byName] of Object.entries(doc.resource)) {
      if (!isObject(byName)) throw new TemplateError('InvalidTemplate', `resource "${type}" must be a map of names to bodies.`);
      for (const [name, body] of Object.entries(byName)) {
        resources[`${type}.${name}`] = { type, properties: isObject(body) ? body : {} };
      }
    }
  } else if (isObject(doc.resources)) {
    // TestResource-style map: resources.<name> = {type, properties}
    for (const [name, def] of Object.entries(doc.resources)) {
      const d = isObject(def) ? def : {};
      resources[name] = { type: typeof d.type === 'string' ? d.type : 'test_resource', properties: d.properties ?? {} };
    }
  }
  const outputs: Record<string, OutputDef> = {};
  const outs = isObject(doc.output) ? doc.output : isObject(doc.outputs) ? doc.outputs : {};
  for (const [name, def] of Object.entries(outs)) {
    const d = isObject(def) ? def : {};
    const description = str(d.description);
    outputs[name] = { value: d.value ?? null, sensitive: d.sensitive === true, ...(description !== undefined ? { description } : {}) };
  }
  return { dialect: 'tf', version: 'terraform-json', description: str(doc.description) ?? '', parameters, resources, outputs, raw: doc };
}

function checkReferences(
  resources: Record<string, ResourceDef>,
  outputs: Record<string, OutputDef>,
  parameters: Record<string, ParamDef>,
  dialect: 'hot' | 'ros',
): void {
  const visit = (v: unknown, where: string): void => {
    if (Array.isArray(v)) {
      for (const x of v) visit(x, where);
      return;
    }
    if (!isObject(v)) return;
    const keys = Object.keys(v);
    if (keys.length === 1) {
      const k = keys[0]!;
      const arg = v[k];
      if (dialect === 'hot' && k === 'get_param') {
        const name: unknown = Array.isArray(arg) ? (arg as unknown[])[0] : arg;
        if (typeof name === 'string' && !(name in parameters) && !name.startsWith('OS::')) {
          throw new TemplateError('StackValidationFailed', `The Parameter (${name}) was not provided.`);
        }
      }
      if ((dialect === 'hot' && (k === 'get_attr' || k === 'get_resource')) || (dialect === 'ros' && k === 'Fn::GetAtt')) {
        const name: unknown = Array.isArray(arg) ? (arg as unknown[])[0] : arg;
        if (typeof name === 'string' && !(name in resources)) {
          throw new TemplateError('StackValidationFailed', `Failed to validate: ${where}: The specified reference "${name}" (in unknown) is incorrect.`);
        }
      }
      if (dialect === 'ros' && k === 'Ref' && typeof arg === 'string' && !(arg in resources) && !(arg in parameters) && !arg.startsWith('ALIYUN::')) {
        throw new TemplateError('StackValidationFailed', `Failed to validate: ${where}: The specified reference "${arg}" is incorrect.`);
      }
    }
    for (const x of Object.values(v)) visit(x, where);
  };
  for (const [n, r] of Object.entries(resources)) visit(r.properties, `resources.${n}`);
  for (const [n, o] of Object.entries(outputs)) visit(o.value, `outputs.${n}`);
}

// ---------------------------------------------------------------------------------------------
// Intrinsic functions

export interface ResolveContext {
  params: Record<string, unknown>;
  /** attribute lookup; throws or returns undefined when the resource has no such attribute yet */
  attr: (resource: string, attribute: string | undefined) => unknown;
  resourceId: (resource: string) => unknown;
}

export class AttributeUnavailable extends Error {}

export function resolve(v: unknown, ctx: ResolveContext): unknown {
  if (Array.isArray(v)) return v.map((x) => resolve(x, ctx));
  if (typeof v === 'string') return interpolate(v, ctx);
  if (!isObject(v)) return v;
  const keys = Object.keys(v);
  if (keys.length === 1) {
    const k = keys[0]!;
    const arg = v[k];
    switch (k) {
      case 'get_param': {
        const path = (Array.isArray(arg) ? arg : [arg]).map((x) => resolve(x, ctx));
        let cur: unknown = ctx.params[text(path[0])];
        for (const p of path.slice(1)) cur = isObject(cur) || Array.isArray(cur) ? (cur as Record<string, unknown>)[text(p)] : undefined;
        return cur;
      }
      case 'Ref': {
        const name = text(resolve(arg, ctx));
        if (name in ctx.params) return ctx.params[name];
        return ctx.resourceId(name);
      }
      case 'get_resource':
        return ctx.resourceId(text(resolve(arg, ctx)));
      case 'get_attr':
      case 'Fn::GetAtt': {
        const a = (Array.isArray(arg) ? arg : text(arg).split('.')).map((x) => resolve(x, ctx));
        let cur = ctx.attr(text(a[0]), a[1] === undefined ? undefined : text(a[1]));
        for (const p of a.slice(2)) cur = isObject(cur) || Array.isArray(cur) ? (cur as Record<string, unknown>)[text(p)] : undefined;
        return cur;
      }
      case 'list_join': {
        const a = Array.isArray(arg) ? arg : [];
        const sep = text(resolve(a[0], ctx) ?? '');
        const parts: unknown[] = [];
        for (const l of a.slice(1)) {
          const r = resolve(l, ctx);
          if (Array.isArray(r)) parts.push(...(r as unknown[]));
        }
        return parts.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(sep);
      }
      case 'Fn::Join': {
        const a = Array.isArray(arg) ? arg : [];
        const sep = text(resolve(a[0], ctx) ?? '');
        const list = resolve(a[1], ctx);
        return Array.isArray(list) ? list.map((p) => (typeof p === 'string' ? p : JSON.stringify(p))).join(sep) : '';
      }
      case 'str_replace': {
        const a = isObject(arg) ? arg : {};
        let tmpl = text(resolve(a.template, ctx) ?? '');
        const params = resolve(a.params, ctx);
        if (isObject(params)) for (const [from, to] of Object.entries(params)) tmpl = tmpl.split(from).join(typeof to === 'string' ? to : JSON.stringify(to));
        return tmpl;
      }
      default:
        break;
    }
  }
  const out: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v)) out[k] = resolve(x, ctx);
  return out;
}

/** Terraform-style "${var.x}" / "${type.name.attr}" interpolation; other strings pass through. */
function interpolate(s: string, ctx: ResolveContext): unknown {
  if (!s.includes('${')) return s;
  const whole = /^\$\{([^}]+)\}$/.exec(s);
  const evalExpr = (expr: string): unknown => {
    const parts = expr.trim().split('.');
    if (parts[0] === 'var' && parts[1] !== undefined) return ctx.params[parts[1]];
    if (parts.length >= 3) return ctx.attr(`${parts[0]}.${parts[1]}`, parts[2]);
    if (parts.length === 2) return ctx.resourceId(`${parts[0]}.${parts[1]}`);
    return undefined;
  };
  if (whole) return evalExpr(whole[1]!);
  return s.replace(/\$\{([^}]+)\}/g, (_m, e: string) => {
    const r = evalExpr(e);
    return typeof r === 'string' ? r : JSON.stringify(r ?? null);
  });
}

/** Convert a user-supplied parameter value to the parameter's type (values usually arrive as strings). */
export function coerceParam(def: ParamDef | undefined, v: unknown): unknown {
  if (!def || v === undefined || v === null) return v;
  const t = def.type.toLowerCase();
  if (t === 'number') {
    const n = typeof v === 'number' ? v : Number(v);
    return Number.isNaN(n) ? v : n;
  }
  if (t === 'boolean' || t === 'bool') {
    if (typeof v === 'boolean') return v;
    return ['true', '1', 'yes', 'on', 't', 'y'].includes(text(v).toLowerCase());
  }
  if (t === 'json' || t === 'map' || t === 'object') {
    if (typeof v === 'string') {
      try {
        return JSON.parse(v) as unknown;
      } catch {
        return v;
      }
    }
    return v;
  }
  if (t === 'comma_delimited_list' || t === 'commadelimitedlist') {
    return Array.isArray(v) ? v : text(v).split(',').map((x) => x.trim());
  }
  return v;
}

/** Minimal HCL subset for RFS: resource/variable/output blocks with `key = value` attributes. */
export function parseHclSubset(text: string): Record<string, unknown> {
  const doc: { resource: Record<string, Record<string, unknown>>; variable: Record<string, unknown>; output: Record<string, unknown> } = {
    resource: {},
    variable: {},
    output: {},
  };
  const lines = text.split('\n');
  let i = 0;
  const parseValue = (raw: string): unknown => {
    const t = raw.trim();
    if (t.startsWith('"') && t.endsWith('"')) return t.slice(1, -1);
    if (t === 'true' || t === 'false') return t === 'true';
    if (/^-?\d+(\.\d+)?$/.test(t)) return Number(t);
    if (/^(var|[a-z_][a-z0-9_]*\.[A-Za-z0-9_-]+)\.[A-Za-z0-9_.-]+$/i.test(t)) return '${' + t + '}';
    try {
      return JSON.parse(t) as unknown;
    } catch {
      throw new TemplateError('InvalidTemplate', `Unsupported HCL expression: ${t}`);
    }
  };
  const parseBody = (): Record<string, unknown> => {
    const body: Record<string, unknown> = {};
    for (; i < lines.length; i++) {
      const line = lines[i]!.replace(/#.*$/, '').trim();
      if (line === '') continue;
      if (line === '}') return body;
      const nested = /^([A-Za-z_][A-Za-z0-9_]*)\s*=?\s*\{$/.exec(line);
      if (nested) {
        i++;
        body[nested[1]!] = parseBody();
        continue;
      }
      const kv = /^([A-Za-z_][A-Za-z0-9_]*)\s*=\s*(.+)$/.exec(line);
      if (!kv) throw new TemplateError('InvalidTemplate', `Unsupported HCL syntax at line ${i + 1}: ${line}`);
      body[kv[1]!] = parseValue(kv[2]!);
    }
    throw new TemplateError('InvalidTemplate', 'Unterminated block.');
  };
  for (; i < lines.length; i++) {
    const line = lines[i]!.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const res = /^resource\s+"([^"]+)"\s+"([^"]+)"\s*\{$/.exec(line);
    const blk = /^(variable|output)\s+"([^"]+)"\s*\{$/.exec(line);
    const tfb = /^(terraform|provider)\b.*\{$/.exec(line);
    if (res) {
      i++;
      const body = parseBody();
      (doc.resource[res[1]!] ??= {})[res[2]!] = body;
    } else if (blk) {
      i++;
      doc[blk[1] as 'variable' | 'output'][blk[2]!] = parseBody();
    } else if (tfb) {
      i++;
      parseBody();
    } else {
      throw new TemplateError('InvalidTemplate', `Unsupported HCL syntax at line ${i + 1}: ${line}`);
    }
  }
  return doc;
}
