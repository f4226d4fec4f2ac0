import { z } from 'zod';
import { ERROR_STATUS, ServiceError, type ErrorCode } from './errors.js';

/** The body of every error answer, as the error handler writes it. */
export const ErrorBodySchema = z
  .object({
    error: z.string().describe('What went wrong, in words a user can act on.'),
    code: z.enum(Object.keys(ERROR_STATUS) as [ErrorCode, ...ErrorCode[]]),
  })
  .meta({ id: 'Error' });

const ARTICLE: Record<string, string> = {
  object: 'a JSON object',
  record: 'a JSON object',
  array: 'an array',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
  boolean: 'a boolean',
};

const typeName = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** `'inputs'` for a field of the body, `inputs[0].name` for one inside it, as the tensor checks word it. */
function where(path: readonly PropertyKey[]): string {
  if (path.length === 0) return 'request body';
  if (path.length === 1) return `'${String(path[0])}'`;
  return path.map((k, i) => (typeof k === 'number' ? `[${k}]` : i === 0 ? String(k) : `.${String(k)}`)).join('');
}

function describe(issue: z.core.$ZodIssue): string {
  const at = where(issue.path);
  switch (issue.code) {
    case 'invalid_type': {
      const got = 'input' in issue ? `, got ${typeName(issue.input)}` : '';
      return `${at} must be ${ARTICLE[issue.expected] ?? issue.expected}${got}`;
    }
    case 'too_small':
      if (issue.origin === 'array')
        return issue.minimum === 1 ? `${at} must be a non-empty array` : `${at} needs at least ${issue.minimum} items`;
      return `${at} must be at least ${issue.minimum}`;
    case 'invalid_value':
      return `${at} must be one of ${issue.values.map((v) => JSON.stringify(v)).join(', ')}`;
    default:
      return `${at}: ${issue.message}`;
  }
}

/**
 * Parses a request body (or path parameters) with its schema, answering the first problem as a
 * 4xx from the error table: a wrong field of the envelope is `bad_request`; a problem inside one
 * of its items (an input tensor, a requested output), or in one of `contentFields` (a route's
 * payload, such as /predict's texts), is `invalid_input`, as the tensor checks answer.
 */
export function parseRequest<S extends z.ZodType>(
  schema: S,
  value: unknown,
  contentFields: readonly string[] = [],
): z.output<S> {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  // Parsed again to name the offending value's type: only a failed request pays for that.
  const issue = schema.safeParse(value, { reportInput: true }).error!.issues[0]!;
  const [first] = issue.path;
  const content = issue.path.length > 1 || (typeof first === 'string' && contentFields.includes(first));
  throw new ServiceError(content ? 'invalid_input' : 'bad_request', describe(issue));
}
