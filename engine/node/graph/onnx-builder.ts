// A small ONNX graph builder over the protobufjs-generated `onnx-proto` classes: names values,
// adds nodes and initializers, and serialises a ModelProto, either whole (ONNX Runtime loads it from
// memory) or with its large initializers as ONNX external data (protobuf caps a model at 2 GB).
import onnxProto from 'onnx-proto';

const { onnx } = onnxProto;
export const DT = onnx.TensorProto.DataType;
export type DataType = onnxProto.onnx.TensorProto.DataType;

/** Symbolic (string) or fixed (number) dimension. */
export type Dim = number | string;
export type AttrValue = number | number[] | string | { float: number } | { floats: number[] };

/** Which kind of execution provider the graph is built for (some ops differ, see ops.ts). */
export type Target = 'cpu' | 'gpu';

/** One external initializer's bytes and where they go in the external data file. */
export interface ExternalChunk {
  offset: number;
  data: Uint8Array;
}

/** A serialized model: the ModelProto, and the external data file's contents when it has one. */
export interface SerializedModel {
  model: Uint8Array;
  /** Present when initializers are stored outside the ModelProto, in `location` (next to the model file). */
  external?: { location: string; chunks: ExternalChunk[]; bytes: number };
}

/**
 * External tensors start on 64 KiB boundaries (the largest page/allocation granularity among the
 * platforms), so ONNX Runtime may map them instead of copying.
 */
const EXTERNAL_ALIGN = 65536;

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
  private rawBytes = 0;

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
    this.rawBytes += bytes.byteLength;
    return name;
  }

  /** Bytes of all initializer data: the bulk of the serialized model's size. */
  get initializerBytes(): number {
    return this.rawBytes;
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
    return this.encode(graphName, this.initializers);
  }

  /**
   * The model with every initializer of at least `minBytes` moved to external data (data_location
   * EXTERNAL, external_data location/offset/length) in the file `location`, which the model file
   * must sit next to. The chunks alias the initializers' data (nothing is copied).
   */
  toExternal(graphName: string, location: string, minBytes = 1024): SerializedModel {
    const chunks: ExternalChunk[] = [];
    let end = 0;
    const initializers = this.initializers.map((t) => {
      const data = t.rawData as Uint8Array;
      if (data.byteLength < minBytes) return t;
      const offset = Math.ceil(end / EXTERNAL_ALIGN) * EXTERNAL_ALIGN;
      chunks.push({ offset, data });
      end = offset + data.byteLength;
      return {
        name: t.name,
        dataType: t.dataType,
        dims: t.dims,
        dataLocation: onnx.TensorProto.DataLocation.EXTERNAL,
        externalData: [
          { key: 'location', value: location },
          { key: 'offset', value: String(offset) },
          { key: 'length', value: String(data.byteLength) },
        ],
      };
    });
    return { model: this.encode(graphName, initializers), external: { location, chunks, bytes: end } };
  }

  private encode(graphName: string, initializers: onnxProto.onnx.ITensorProto[]): Uint8Array {
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
        initializer: initializers,
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
