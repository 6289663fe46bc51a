// In-process validation against the same schemas the CRDs carry. The API server already enforces the
// OpenAPI part at admission; the operator re-validates what it reads (and what admission cannot check,
// such as the size of an object-form template) so bad input ends in a clear Stalled reason.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { JSONSchemaProps } from './schema-builders.ts';
import { clusterStackProviderSchema, stackProviderSchema, stackSchema } from './schemas.ts';

// ajv-formats is CommonJS with a default export; under NodeNext the callable is on `.default`.
type AddFormats = (ajv: Ajv) => Ajv;
const addFormats = ((addFormatsModule as unknown as { default?: AddFormats }).default ??
  (addFormatsModule as unknown as AddFormats));

export interface ValidationIssue {
  /** JSON path of the offending field, e.g. spec.template. */
  field: string;
  message: string;
}

function makeAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: false, useDefaults: false });
  addFormats(ajv);
  // Kubernetes extensions: ajv ignores them (CEL rules run in the API server, not here).
  for (const k of [
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-validations',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-map-type',
    'x-kubernetes-int-or-string',
  ]) {
    ajv.addKeyword(k);
  }
  return ajv;
}

const ajv = makeAjv();
const cache = new Map<JSONSchemaProps, ValidateFunction>();

function compiled(schema: JSONSchemaProps): ValidateFunction {
  let fn = cache.get(schema);
  if (!fn) {
    fn = ajv.compile(schema);
    cache.set(schema, fn);
  }
  return fn;
}

function toIssues(errors: ErrorObject[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).map((e) => {
    const base = e.instancePath.replace(/^\//, '').replace(/\//g, '.');
    const extra =
      e.keyword === 'required'
        ? (e.params as { missingProperty: string }).missingProperty
        : e.keyword === 'additionalProperties'
          ? (e.params as { additionalProperty: string }).additionalProperty
          : '';
    const field = [base, extra].filter(Boolean).join('.');
    return { field: field || '(root)', message: e.message ?? 'is invalid' };
  });
}

export function validateStack(obj: unknown): ValidationIssue[] {
  const fn = compiled(stackSchema);
  return fn(obj) ? [] : toIssues(fn.errors);
}

export function validateProvider(obj: unknown, cluster: boolean): ValidationIssue[] {
  const fn = compiled(cluster ? clusterStackProviderSchema : stackProviderSchema);
  return fn(obj) ? [] : toIssues(fn.errors);
}

export function formatIssues(issues: ValidationIssue[]): string {
  return issues.map((i) => `${i.field}: ${i.message}`).join('; ');
}
