/**
 * Compares an OpenAPI document's schemas with those of a reference specification (the Open
 * Inference Protocol's REST YAML): where the reference names a property, ours has it with a
 * compatible type, and required fields agree in the direction a client relies on.
 */
type Schema = Record<string, any>;

export interface Doc {
  paths: Record<string, Record<string, Schema>>;
  components: { schemas: Record<string, Schema> };
}

/** `/v2/models/${MODEL_NAME}/infer`, `/v2/models/{name}/infer` → `/v2/models/{}/infer`; no trailing slash. */
export function pathShape(p: string): string {
  return p.replace(/\$\{\w+\}|\{\w+\}/g, '{}').replace(/(.)\/$/, '$1');
}

export function resolve(doc: Doc, schema: Schema | undefined): Schema | undefined {
  let s = schema;
  for (let i = 0; s?.$ref && i < 10; i++) s = doc.components.schemas[String(s.$ref).split('/').pop()!];
  return s;
}

const typesOf = (s: Schema): string[] => (s.type === undefined ? [] : Array.isArray(s.type) ? s.type : [s.type]);

/**
 * Problems of `ours` against `theirs`, recursively. `role` says who writes the body: a request
 * we must accept may require no more than the reference; a response we write has everything
 * the reference requires (except `allowedMissing`, as "schema.field").
 */
export function incompatibilities(
  oursDoc: Doc,
  ours: Schema | undefined,
  theirsDoc: Doc,
  theirs: Schema | undefined,
  role: 'request' | 'response',
  where: string,
  allowedMissing: readonly string[] = [],
  depth = 0,
): string[] {
  const a = resolve(oursDoc, ours);
  const b = resolve(theirsDoc, theirs);
  if (!b || depth > 6) return [];
  if (!a) return [`${where}: missing`];
  const problems: string[] = [];
  const want = typesOf(b).map((t) => (t === 'integer' ? 'number' : t));
  const have = typesOf(a).map((t) => (t === 'integer' ? 'number' : t));
  // No type on our side (anything) accepts any request; a response must say what it sends.
  if (want.length > 0 && (have.length > 0 || role === 'response') && !want.some((t) => have.includes(t)))
    problems.push(`${where}: type ${JSON.stringify(a.type)}, the reference has ${JSON.stringify(b.type)}`);
  const name = String(theirs?.$ref ?? where)
    .split('/')
    .pop();
  const reqA: string[] = a.required ?? [];
  const reqB: string[] = b.required ?? [];
  if (role === 'response')
    for (const f of reqB)
      if (!reqA.includes(f) && !allowedMissing.includes(`${name}.${f}`))
        problems.push(`${where}: '${f}' is required by the reference, optional here`);
  if (role === 'request')
    for (const f of reqA)
      if (!reqB.includes(f)) problems.push(`${where}: '${f}' is required here, not by the reference`);
  for (const [prop, sub] of Object.entries((b.properties ?? {}) as Record<string, Schema>)) {
    if (!a.properties?.[prop]) {
      // OIP's model metadata `properties` is not a field any server sends.
      if (!allowedMissing.includes(`${name}.${prop}`)) problems.push(`${where}.${prop}: missing`);
      continue;
    }
    problems.push(
      ...incompatibilities(
        oursDoc,
        a.properties[prop],
        theirsDoc,
        sub,
        role,
        `${where}.${prop}`,
        allowedMissing,
        depth + 1,
      ),
    );
  }
  if (b.items && a.items && !String(b.items.$ref ?? '').endsWith('tensor_data'))
    problems.push(
      ...incompatibilities(oursDoc, a.items, theirsDoc, b.items, role, `${where}[]`, allowedMissing, depth + 1),
    );
  return problems;
}
