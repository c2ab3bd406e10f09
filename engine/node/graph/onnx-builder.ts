// A small ONNX graph builder over the protobufjs-generated `onnx-proto` classes: names values,
// adds nodes and initializers, and serialises a ModelProto that ONNX Runtime loads from memory.
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export const DT = onnx.TensorProto.DataType;
export type DataType = onnxProto.onnx.TensorProto.DataType;

/** Symbolic (string) or fixed (number) dimension. */
export type Dim = number | string;
export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

/** Which kind of execution provider the graph is built for (some ops differ, see ops.ts). */
export type Target = 'cpu' | 'gpu';

export class GraphBuilder {
  constructor(readonly target: Target = 'cpu') {}

  private readonly nodes: onnxProto.onnx.INodeProto[] = [];
  private readonly initializers: onnxProto.onnx.ITensorProto[] = [];
  private readonly inputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputs: onnxProto.onnx.IValueInfoProto[] = [];
  private readonly outputNames: string[] = [];
  private readonly inputNames: string[] = [];
  private readonly consts = new Map<string, string>();
  private counter = 0;

  /** A fresh value name with a readable prefix. */
  fresh(prefix: string): string {
    return `${prefix}_${this.counter++}`;
  }

  input(name: string, type: DataType, shape: Dim[]): string {
    this.inputs.push(valueInfo(name, type, shape));
    this.inputNames.push(name);
    return name;
  }

  /** Marks an existing value as a graph output under `name` (adds an Identity when renaming). */
  output(value: string, name: string, type: DataType, shape: Dim[]): string {
    if (value !== name) this.node('Identity', [value], {}, name);
    this.outputs.push(valueInfo(name, type, shape));
    this.outputNames.push(name);
    return name;
  }

  get graphInputNames(): readonly string[] {
    return this.inputNames;
  }

  get graphOutputNames(): readonly string[] {
    return this.outputNames;
  }

  initializer(name: string, type: DataType, dims: number[], data: ArrayBufferView): string {
    const bytes = new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
    this.initializers.push({ name, dataType: type, dims, rawData: bytes });
    return name;
  }

  f32(name: string, dims: number[], values: ArrayLike<number>): string {
    return this.initializer(name, DT.FLOAT, dims, Float32Array.from(values));
  }

  i64(name: string, dims: number[], values: ArrayLike<number>): string {
    return this.initializer(name, DT.INT64, dims, BigInt64Array.from(Array.from(values, (v) => BigInt(v))));
  }

  /** A shared scalar or small float constant (deduplicated by value). */
  constF(values: number | number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    const key = `f:${arr.join(',')}:${typeof values === 'number' ? 's' : 'v'}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.fresh('cf');
      this.f32(name, typeof values === 'number' ? [] : [arr.length], arr);
      this.consts.set(key, name);
    }
    return name;
  }

  /** An initializer created once per key and shared by every use (e.g. Hadamard factors). */
  shared(key: string, make: (name: string) => void): string {
    let name = this.consts.get(key);
    if (!name) {
      name = this.fresh('shared');
      make(name);
      this.consts.set(key, name);
    }
    return name;
  }

  /** A shared int64 constant: a number gives a scalar, an array a 1-D tensor. */
  constI(values: number | number[]): string {
    const arr = typeof values === 'number' ? [values] : values;
    const key = `i:${arr.join(',')}:${typeof values === 'number' ? 's' : 'v'}`;
    let name = this.consts.get(key);
    if (!name) {
      name = this.fresh('ci');
      this.i64(name, typeof values === 'number' ? [] : [arr.length], arr);
      this.consts.set(key, name);
    }
    return name;
  }

  /** Adds a node; returns its first output name (outputs are fresh names unless given). */
  node(op: string, inputs: string[], attrs: Record<string, AttrValue> = {}, outputs?: string | string[], domain?: string): string {
    const outs = outputs === undefined ? [this.fresh(op)] : typeof outputs === 'string' ? [outputs] : outputs;
    this.nodes.push({
      opType: op,
      domain: domain ?? '',
      input: inputs,
      output: outs,
      name: this.fresh(`n_${op}`),
      attribute: Object.entries(attrs).map(([k, v]) => attribute(k, v)),
    });
    return outs[0];
  }

  /** Adds a node with several outputs and returns all their names. */
  nodeN(op: string, inputs: string[], nOut: number, attrs: Record<string, AttrValue> = {}): string[] {
    const outs = Array.from({ length: nOut }, () => this.fresh(op));
    this.node(op, inputs, attrs, outs);
    return outs;
  }

  toBytes(graphName: string): Uint8Array {
    const model = onnx.ModelProto.create({
      irVersion: 8,
      producerName: 'bitlens',
      opsetImport: [
        { domain: '', version: 17 },
        { domain: 'com.microsoft', version: 1 },
      ],
      graph: {
        name: graphName,
        node: this.nodes,
        initializer: this.initializers,
        input: this.inputs,
        output: this.outputs,
      },
    });
    return onnx.ModelProto.encode(model).finish();
  }
}

function valueInfo(name: string, type: DataType, shape: Dim[]): onnxProto.onnx.IValueInfoProto {
  return {
    name,
    type: {
      tensorType: {
        elemType: type,
        shape: { dim: shape.map((d) => (typeof d === 'number' ? { dimValue: d } : { dimParam: d })) },
      },
    },
  };
}

function attribute(name: string, v: AttrValue): onnxProto.onnx.IAttributeProto {
  const T = onnx.AttributeProto.AttributeType;
  if (typeof v === 'number') return { name, type: T.INT, i: v };
  if (typeof v === 'string') return { name, type: T.STRING, s: new TextEncoder().encode(v) };
  if (Array.isArray(v)) return { name, type: T.INTS, ints: v };
  if ('float' in v) return { name, type: T.FLOAT, f: v.float };
  return { name, type: T.FLOATS, floats: v.floats };
}
