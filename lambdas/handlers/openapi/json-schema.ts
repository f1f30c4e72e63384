import * as z from 'zod';
import type { ParameterSpec } from './components.js';

/** A JSON Schema (draft 2020-12, the dialect OpenAPI 3.1 uses) as plain JSON. */
export type JsonSchema = { readonly [key: string]: unknown };

/**
 * The JSON Schema of what a request may send, from the zod schema the handler parses it with. `io: 'input'` because a
 * request is the schema's input: fields with defaults are optional and coerced query values are described as sent.
 * The schema is embedded in the OpenAPI document, so it must be self-contained: a `$ref` would resolve against the
 * document's root, not the schema's, hence cycles and reused-schema references are refused rather than emitted.
 */
export function requestJsonSchema(schema: z.core.$ZodType, name: string): JsonSchema {
  const generated = z.toJSONSchema(schema, { target: 'draft-2020-12', io: 'input', unrepresentable: 'throw', cycles: 'throw', reused: 'inline' }) as Record<
    string,
    unknown
  >;
  const { $schema: _dialect, ...rest } = generated;
  const text = JSON.stringify(rest);
  if (text.includes('"$ref"') || text.includes('"$defs"')) {
    throw new Error(`OpenAPI: the request schema ${name} produced a $ref/$defs; register no ids on request schemas so they stay inline`);
  }
  return rest;
}

/** One OpenAPI query parameter per property of an object schema, required as the schema says. */
export function queryParameters(schema: z.core.$ZodType, name: string): ParameterSpec[] {
  const json = requestJsonSchema(schema, name);
  const properties = json['properties'];
  if (json['type'] !== 'object' || properties === null || typeof properties !== 'object') {
    throw new Error(`OpenAPI: the query schema ${name} is not an object schema`);
  }
  const required = new Set(Array.isArray(json['required']) ? (json['required'] as string[]) : []);
  return Object.entries(properties as Record<string, JsonSchema>).map(([param, schemaOf]) => ({
    name: param,
    in: 'query' as const,
    required: required.has(param),
    schema: schemaOf,
  }));
}
