/**
 * The in-repo Infuse OpenAPI file as a validator: the client checks every success body against it at run time,
 * and the contract tests check every request and every response of the suite against it.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { findShippedFile } from '../../../station-config';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { parse as parseYaml } from 'yaml';

export const OPENAPI_FILE = findShippedFile(join('electron', 'backend', 'openapi', 'infuse-openapi.yaml'));

const SCHEMA_BASE = 'infuse-openapi';
const METHODS = ['get', 'post', 'put', 'patch', 'delete'] as const;
export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export type ValidationOutcome = { ok: true } | { ok: false; errors: string[] };

type JsonObject = { [key: string]: unknown };

interface Operation {
  template: string;
  method: HttpMethod;
  requestSchema: JsonObject | undefined;
  /** status code ("200", "404", ...) -> JSON schema of the body, or null for a declared status without a body. */
  responses: Map<string, JsonObject | null>;
}

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

// ajv-formats ships CommonJS with a default export; under ESM interop the callable may sit one level down.
const addFormats = ((addFormatsModule as unknown as { default?: unknown }).default ??
  addFormatsModule) as unknown as (ajv: Ajv) => Ajv;

/** Point component refs at the registered document, so any fragment of the file compiles on its own. */
function rebaseRefs(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(rebaseRefs);
  if (!isObject(value)) return value;
  const out: JsonObject = {};
  for (const [key, inner] of Object.entries(value)) {
    out[key] =
      key === '$ref' && typeof inner === 'string' && inner.startsWith('#/')
        ? SCHEMA_BASE + inner
        : rebaseRefs(inner);
  }
  return out;
}

function jsonSchemaOf(content: unknown): JsonObject | undefined {
  if (!isObject(content)) return undefined;
  const json = content['application/json'];
  if (!isObject(json) || !isObject(json.schema)) return undefined;
  return json.schema;
}

function templateToRegExp(template: string): RegExp {
  const pattern = template
    .split(/(\{[^}]+\})/)
    .map((part) => (part.startsWith('{') ? '([^/]+)' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${pattern}$`);
}

function formatErrors(validate: ValidateFunction): string[] {
  return (validate.errors ?? []).map((e) =>
    `${e.instancePath || '(root)'} ${e.message ?? 'is invalid'}`.trim(),
  );
}

export class OpenApiContract {
  readonly #ajv: Ajv;
  readonly #operations = new Map<string, Operation>();
  readonly #matchers: Array<{ template: string; regexp: RegExp; literalChars: number }> = [];
  readonly #compiled = new WeakMap<JsonObject, ValidateFunction>();
  readonly #errorValidator: ValidateFunction;

  constructor(document: unknown) {
    if (!isObject(document) || !isObject(document.paths) || !isObject(document.components)) {
      throw new Error('OpenAPI document has no paths or components');
    }
    // strict:false because OpenAPI 3.0 schemas carry keywords JSON Schema does not know (example, x-python-module).
    this.#ajv = new Ajv({ strict: false, allErrors: true });
    addFormats(this.#ajv);
    this.#ajv.addFormat('binary', true);
    this.#ajv.addSchema({ $id: SCHEMA_BASE, components: rebaseRefs(document.components) });

    for (const [template, item] of Object.entries(document.paths)) {
      if (!isObject(item)) continue;
      this.#matchers.push({
        template,
        regexp: templateToRegExp(template),
        literalChars: template.replace(/\{[^}]+\}/g, '').length,
      });
      for (const method of METHODS) {
        const op = item[method];
        if (!isObject(op)) continue;
        const responses = new Map<string, JsonObject | null>();
        if (isObject(op.responses)) {
          for (const [status, response] of Object.entries(op.responses)) {
            const schema = isObject(response) ? jsonSchemaOf(response.content) : undefined;
            responses.set(status, schema ? (rebaseRefs(schema) as JsonObject) : null);
          }
        }
        const body = isObject(op.requestBody) ? jsonSchemaOf(op.requestBody.content) : undefined;
        const upper = method.toUpperCase() as HttpMethod;
        this.#operations.set(`${upper} ${template}`, {
          template,
          method: upper,
          requestSchema: body ? (rebaseRefs(body) as JsonObject) : undefined,
          responses,
        });
      }
    }
    // Prefer the most specific template: /device/deviceId/{deviceId}/state over /device/deviceId/{deviceId}.
    this.#matchers.sort((a, b) => b.literalChars - a.literalChars);
    this.#errorValidator = this.#ajv.compile({ $ref: `${SCHEMA_BASE}#/components/schemas/Error` });
  }

  static #shared: OpenApiContract | undefined;

  /** The contract of the in-repo file, parsed once per process. */
  static load(): OpenApiContract {
    this.#shared ??= new OpenApiContract(parseYaml(readFileSync(OPENAPI_FILE, 'utf8')));
    return this.#shared;
  }

  hasOperation(method: string, template: string): boolean {
    return this.#operations.has(`${method.toUpperCase()} ${template}`);
  }

  /** The path template a concrete path belongs to, for this method; undefined when the API has no such route. */
  matchPath(method: string, path: string): string | undefined {
    const bare = path.split('?')[0] ?? path;
    for (const matcher of this.#matchers) {
      if (matcher.regexp.test(bare) && this.hasOperation(method, matcher.template)) return matcher.template;
    }
    return undefined;
  }

  validateRequestBody(method: string, template: string, body: unknown): ValidationOutcome {
    const op = this.#operation(method, template);
    if (!op) return { ok: false, errors: [`${method} ${template} is not in the API`] };
    if (!op.requestSchema) {
      return body === undefined ? { ok: true } : { ok: false, errors: ['operation takes no JSON body'] };
    }
    return this.#validate(op.requestSchema, body);
  }

  /** The body a 2xx reply must have (what the client relies on), whichever 2xx status it came with. */
  validateSuccessBody(method: string, template: string, body: unknown): ValidationOutcome {
    const op = this.#operation(method, template);
    if (!op) return { ok: false, errors: [`${method} ${template} is not in the API`] };
    for (const [status, schema] of op.responses) {
      if (!status.startsWith('2')) continue;
      if (schema === null)
        return body === undefined ? { ok: true } : { ok: false, errors: ['expected no body'] };
      return this.#validate(schema, body);
    }
    return { ok: false, errors: ['operation declares no success response'] };
  }

  /**
   * The strict check the contract tests apply to every reply. The reconstructed file declares no 401, 429 or
   * 503 anywhere and no 400 on several /key/* operations, yet the real API sends them with its `{code, message}`
   * body (infuse-facts "Transport"); so an undeclared error status passes only when its body is an `Error`.
   * An undeclared success status never passes.
   */
  validateResponse(method: string, template: string, status: number, body: unknown): ValidationOutcome {
    const op = this.#operation(method, template);
    if (!op) return { ok: false, errors: [`${method} ${template} is not in the API`] };
    const declared = op.responses.get(String(status));
    if (declared === undefined) {
      if (status < 400)
        return { ok: false, errors: [`status ${status} is not declared for ${method} ${template}`] };
      return this.#run(this.#errorValidator, body);
    }
    if (declared === null) {
      return body === undefined
        ? { ok: true }
        : { ok: false, errors: [`status ${status} must have no body`] };
    }
    return this.#validate(declared, body);
  }

  validateSchema(name: string, value: unknown): ValidationOutcome {
    const schema = { $ref: `${SCHEMA_BASE}#/components/schemas/${name}` };
    return this.#run(this.#ajv.compile(schema), value);
  }

  #operation(method: string, template: string): Operation | undefined {
    return this.#operations.get(`${method.toUpperCase()} ${template}`);
  }

  #validate(schema: JsonObject, value: unknown): ValidationOutcome {
    let validate = this.#compiled.get(schema);
    if (!validate) {
      validate = this.#ajv.compile(schema);
      this.#compiled.set(schema, validate);
    }
    return this.#run(validate, value);
  }

  #run(validate: ValidateFunction, value: unknown): ValidationOutcome {
    return validate(value) ? { ok: true } : { ok: false, errors: formatErrors(validate) };
  }
}
