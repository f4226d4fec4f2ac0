import type { Datatype, TensorData } from '@tessera/contract';
import { fromTensorProto, onnx, toNumber, toTensorProto, type Initializer, type Onnx } from '@tessera/onnx';

/** A decoded graph: protobufjs fills repeated fields with decoded message instances. */
export type DecodedGraph = Omit<Onnx.GraphProto, 'node' | 'initializer' | 'input' | 'output' | 'valueInfo'> & {
  node: Onnx.NodeProto[];
  initializer: Onnx.TensorProto[];
  input: Onnx.ValueInfoProto[];
  output: Onnx.ValueInfoProto[];
  valueInfo: Onnx.ValueInfoProto[];
};

type AttrValue = { i: number } | { f: number } | { ints: number[] } | { t: Initializer };

/**
 * A decoded model being rewritten: names in use, initializers by name, and node builders.
 * Every field of the model that a pass does not touch (metadata, value_info, doc strings, other
 * domains' opset imports) stays as it was decoded.
 */
export class WorkingGraph {
  readonly graph: DecodedGraph;
  private readonly inits = new Map<string, Onnx.ITensorProto>();
  private readonly used = new Set<string>();
  private readonly constants = new Map<string, Onnx.ITensorProto>();

  constructor(readonly model: Onnx.ModelProto) {
    if (!model.graph) throw new Error('the model has no graph');
    this.graph = model.graph as unknown as DecodedGraph;
    for (const t of this.graph.initializer) this.inits.set(t.name, t);
    for (const i of this.graph.input) this.used.add(i.name);
    for (const n of this.graph.node) {
      n.output.forEach((o) => this.used.add(o));
      if (n.name) this.used.add(n.name);
      const value = n.opType === 'Constant' && !n.domain ? n.attribute.find((a) => a.name === 'value')?.t : undefined;
      if (value && n.output[0]) this.constants.set(n.output[0], value);
    }
    for (const name of this.inits.keys()) this.used.add(name);
  }

  /** A name not yet used in the graph, derived from `base`. */
  unique(base: string): string {
    let name = base;
    for (let i = 1; this.used.has(name); i++) name = `${base}_${i}`;
    this.used.add(name);
    return name;
  }

  /** A constant tensor by name: an initializer (not also fed as a graph input) or a Constant node's value. */
  constant(name: string): Initializer | undefined {
    if (this.graph.input.some((i) => i.name === name)) return undefined;
    const proto = this.inits.get(name) ?? this.constants.get(name);
    return proto ? fromTensorProto(proto) : undefined;
  }

  /** An FP32 constant's values, or undefined when `name` is not an FP32 constant. */
  floatConstant(name: string): { dims: number[]; data: Float32Array } | undefined {
    const c = this.constant(name);
    return c?.datatype === 'FP32' ? { dims: c.dims, data: c.data as Float32Array } : undefined;
  }

  /** Adds an initializer under a fresh name derived from `base`; returns the name. */
  addInitializer(base: string, datatype: Datatype, dims: number[], data: TensorData): string {
    const name = this.unique(base);
    const proto = toTensorProto({ name, datatype, dims, data });
    this.graph.initializer.push(proto);
    this.inits.set(name, proto);
    return name;
  }

  /** A node in the default domain (or `domain`), named uniquely after `base`. */
  node(
    op: string,
    inputs: string[],
    outputs: string[],
    base: string,
    attributes: Record<string, AttrValue> = {},
    domain?: string,
  ): Onnx.NodeProto {
    const attribute = Object.entries(attributes).map(([name, v]) => {
      if ('i' in v) return { name, i: v.i, type: onnx.AttributeProto.AttributeType.INT };
      if ('f' in v) return { name, f: v.f, type: onnx.AttributeProto.AttributeType.FLOAT };
      if ('ints' in v) return { name, ints: v.ints, type: onnx.AttributeProto.AttributeType.INTS };
      return { name, t: toTensorProto(v.t), type: onnx.AttributeProto.AttributeType.TENSOR };
    });
    return onnx.NodeProto.create({
      opType: op,
      input: inputs,
      output: outputs,
      name: this.unique(base),
      attribute,
      ...(domain ? { domain } : {}),
    });
  }

  /** Number of node inputs and graph outputs reading `name`. */
  readers(name: string): number {
    let n = this.graph.output.filter((o) => o.name === name).length;
    for (const node of this.graph.node) n += node.input.filter((i) => i === name).length;
    return n;
  }

  /** Drops initializers and Constant nodes nothing reads any more (weights replaced by their quantized form). */
  pruneConstants(): void {
    const read = new Set<string>(this.graph.output.map((o) => o.name));
    for (const node of this.graph.node) node.input.forEach((i) => read.add(i));
    this.graph.initializer = this.graph.initializer.filter((t) => read.has(t.name));
    this.graph.node = this.graph.node.filter((n) => n.opType !== 'Constant' || n.output.some((o) => read.has(o)));
  }

  /** Imports an operator set (raising the version when an older one is imported). */
  requireOpset(domain: string, version: number): void {
    const found = this.model.opsetImport.find(
      (o) => (o.domain ?? '') === domain || (domain === '' && o.domain === 'ai.onnx'),
    );
    if (!found) this.model.opsetImport.push(onnx.OperatorSetIdProto.create({ domain, version }));
    else if (toNumber(found.version) < version) found.version = version;
  }
}

export function attr(node: Onnx.INodeProto, name: string): Onnx.IAttributeProto | undefined {
  return (node.attribute ?? []).find((a) => a.name === name);
}

export function intAttr(node: Onnx.INodeProto, name: string, fallback: number): number {
  const a = attr(node, name);
  return a?.i === undefined || a.i === null ? fallback : toNumber(a.i);
}
