// Small builders for OpenAPI v3 structural schemas. Every builder takes the field's description
// first, so a field cannot be declared without one (`kubectl explain` prints them).

export interface JSONSchemaProps {
  type?: 'object' | 'array' | 'string' | 'integer' | 'number' | 'boolean';
  description?: string;
  properties?: Record<string, JSONSchemaProps>;
  additionalProperties?: JSONSchemaProps | boolean;
  items?: JSONSchemaProps;
  required?: string[];
  enum?: (string | number)[];
  default?: unknown;
  format?: string;
  pattern?: string;
  minLength?: number;
  maxLength?: number;
  minimum?: number;
  maximum?: number;
  minItems?: number;
  maxItems?: number;
  minProperties?: number;
  maxProperties?: number;
  nullable?: boolean;
  oneOf?: JSONSchemaProps[];
  anyOf?: JSONSchemaProps[];
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-validations'?: ValidationRule[];
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  'x-kubernetes-map-type'?: 'atomic' | 'granular';
}

export interface ValidationRule {
  rule: string;
  message?: string;
  messageExpression?: string;
  fieldPath?: string;
  reason?: 'FieldValueInvalid' | 'FieldValueForbidden' | 'FieldValueRequired' | 'FieldValueDuplicate';
  optionalOldSelf?: boolean;
}

type Extra = Omit<JSONSchemaProps, 'type' | 'description'>;

export function str(description: string, extra: Extra = {}): JSONSchemaProps {
  return { type: 'string', description, ...extra };
}

export function enumOf(description: string, values: string[], def?: string): JSONSchemaProps {
  return { type: 'string', description, enum: values, ...(def === undefined ? {} : { default: def }) };
}

export function int(description: string, extra: Extra = {}): JSONSchemaProps {
  return { type: 'integer', description, ...extra };
}

export function num(description: string, extra: Extra = {}): JSONSchemaProps {
  return { type: 'number', description, ...extra };
}

export function bool(description: string, def?: boolean): JSONSchemaProps {
  return { type: 'boolean', description, ...(def === undefined ? {} : { default: def }) };
}

export function obj(
  description: string,
  properties: Record<string, JSONSchemaProps>,
  extra: Extra = {},
): JSONSchemaProps {
  return { type: 'object', description, properties, ...extra };
}

export function stringMap(description: string, extra: Extra = {}): JSONSchemaProps {
  return { type: 'object', description, additionalProperties: { type: 'string' }, ...extra };
}

export function arr(description: string, items: JSONSchemaProps, extra: Extra = {}): JSONSchemaProps {
  return { type: 'array', description, items, ...extra };
}

/** Any JSON value (object, string, list...), kept as written. */
export function anyValue(description: string): JSONSchemaProps {
  return { description, 'x-kubernetes-preserve-unknown-fields': true };
}

/** A free-form object, kept as written. */
export function freeObject(description: string): JSONSchemaProps {
  return { type: 'object', description, 'x-kubernetes-preserve-unknown-fields': true };
}

// [.] rather than an escaped dot: the pattern is also quoted inside a CEL string, where \. is no escape.
export const DURATION_PATTERN = '^([0-9]+([.][0-9]+)?(ms|s|m|h))+$';

/**
 * A Go-style duration string such as "5s", "10m", "1h30m", strictly positive: the operator's parser
 * (src/stacks/resolve.ts) reads anything else as "use the default", so admission refuses it instead.
 * The CEL rule repeats the pattern so its message is the one a user reads.
 */
export function duration(description: string, def: string | undefined, min?: string): JSONSchemaProps {
  const floor = min ? ` At least ${min}.` : '';
  return {
    type: 'string',
    description: `${description} A positive duration: a number and a unit (ms, s, m, h), e.g. 500ms, 30s, 5m, 1h30m.${floor}`,
    pattern: DURATION_PATTERN,
    maxLength: 32,
    ...(def === undefined ? {} : { default: def }),
    'x-kubernetes-validations': [
      {
        rule: `self.matches('${DURATION_PATTERN}') && duration(self) > duration('0s')`,
        message: 'must be a positive duration such as 500ms, 30s, 5m or 1h30m (units ms, s, m, h)',
      },
      ...(min
        ? [{ rule: `!self.matches('${DURATION_PATTERN}') || duration(self) >= duration('${min}')`, message: `must be at least ${min}` }]
        : []),
    ],
  };
}

/** Exactly one of the named optional fields must be set (CEL, on the enclosing object). */
export function exactlyOne(fields: string[], message: string): ValidationRule {
  return { rule: `${fields.map((f) => `(has(self.${f}) ? 1 : 0)`).join(' + ')} == 1`, message };
}
