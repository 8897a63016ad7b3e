/**
 * The subset of ONNX's protobuf messages (onnx/onnx.proto, proto2) that an exported model uses,
 * as plain TypeScript data, and its binary encoding. Field numbers are those of onnx.proto
 * (checked against the copy Debian's python3-onnx ships). Fields are written in field-number
 * order and repeated scalars packed only where onnx.proto says `[packed = true]`, which is exactly
 * how protobuf itself serialises: parsing a file with the `onnx` Python package and serialising it
 * again gives the same bytes (the export test checks that).
 * @module
 */

import { littleEndianBytes, ProtoWriter } from "./protobuf.ts";

/** `TensorProto.DataType` values used here. */
export const DataType = {
  FLOAT: 1,
  UINT8: 2,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  DOUBLE: 11,
} as const;

/** A tensor data type code. */
export type DataTypeCode = (typeof DataType)[keyof typeof DataType];

/** `AttributeProto.AttributeType` values. */
const AttributeType = { FLOAT: 1, INT: 2, STRING: 3, TENSOR: 4, FLOATS: 6, INTS: 7, STRINGS: 8 } as const;

/** A constant tensor: numbers as little-endian `raw_data`, strings as `string_data`. */
export interface Tensor {
  readonly name?: string;
  readonly dataType: DataTypeCode;
  readonly dims: readonly number[];
  readonly raw?: Uint8Array;
  readonly strings?: readonly string[];
}

/** A node attribute. */
export type Attribute =
  | { readonly name: string; readonly kind: "float"; readonly value: number }
  | { readonly name: string; readonly kind: "int"; readonly value: number }
  | { readonly name: string; readonly kind: "string"; readonly value: string }
  | { readonly name: string; readonly kind: "tensor"; readonly value: Tensor }
  | { readonly name: string; readonly kind: "floats"; readonly value: ArrayLike<number> }
  | { readonly name: string; readonly kind: "ints"; readonly value: ArrayLike<number> }
  | { readonly name: string; readonly kind: "strings"; readonly value: readonly string[] };

/** One operator application. */
export interface Node {
  readonly opType: string;
  readonly domain?: string;
  readonly name?: string;
  readonly inputs: readonly string[];
  readonly outputs: readonly string[];
  readonly attributes?: readonly Attribute[];
}

/** A tensor's dimension: a fixed size or a symbolic name such as `"N"`. */
export type Dimension = number | string;

/** A graph input or output: a name, an element type and a shape. */
export interface ValueInfo {
  readonly name: string;
  readonly elemType: DataTypeCode;
  readonly shape: readonly Dimension[];
  readonly docString?: string;
}

/** A computation graph. */
export interface Graph {
  readonly name: string;
  readonly nodes: readonly Node[];
  readonly initializers: readonly Tensor[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  /** Types of intermediate values that type inference cannot derive. */
  readonly valueInfo?: readonly ValueInfo[];
  readonly docString?: string;
}

/** An operator set the model imports: `""` is the default domain `ai.onnx`. */
export interface OpsetImport {
  readonly domain: string;
  readonly version: number;
}

/** A whole model file. */
export interface Model {
  readonly irVersion: number;
  readonly opsetImports: readonly OpsetImport[];
  readonly producerName: string;
  readonly producerVersion: string;
  readonly domain?: string;
  readonly modelVersion?: number;
  readonly docString?: string;
  readonly graph: Graph;
  readonly metadata?: Readonly<Record<string, string>>;
}

/** A double tensor. */
export function doubleTensor(values: ArrayLike<number>, dims: readonly number[], name?: string): Tensor {
  return { name, dataType: DataType.DOUBLE, dims, raw: littleEndianBytes(Float64Array.from(values)) };
}

/** A float (single precision) tensor; values are rounded to single precision. */
export function floatTensor(values: ArrayLike<number>, dims: readonly number[], name?: string): Tensor {
  return { name, dataType: DataType.FLOAT, dims, raw: littleEndianBytes(Float32Array.from(values)) };
}

/** An int64 tensor. */
export function int64Tensor(values: ArrayLike<number>, dims: readonly number[], name?: string): Tensor {
  const big = BigInt64Array.from(Array.from(values, (v) => BigInt(v)));
  return { name, dataType: DataType.INT64, dims, raw: littleEndianBytes(big) };
}

/** A uint8 tensor. */
export function uint8Tensor(values: ArrayLike<number>, dims: readonly number[], name?: string): Tensor {
  return { name, dataType: DataType.UINT8, dims, raw: Uint8Array.from(values) };
}

/** Encodes a model as an ONNX file's bytes. */
export function encodeModel(model: Model): Uint8Array {
  const w = new ProtoWriter();
  w.int(1, model.irVersion);
  w.string(2, model.producerName);
  w.string(3, model.producerVersion);
  if (model.domain !== undefined) w.string(4, model.domain);
  if (model.modelVersion !== undefined) w.int(5, model.modelVersion);
  if (model.docString !== undefined) w.string(6, model.docString);
  w.message(7, (g) => writeGraph(g, model.graph));
  for (const opset of model.opsetImports) {
    w.message(8, (o) => o.string(1, opset.domain).int(2, opset.version));
  }
  for (const [key, value] of Object.entries(model.metadata ?? {})) {
    w.message(14, (e) => e.string(1, key).string(2, value));
  }
  return w.finish();
}

function writeGraph(w: ProtoWriter, graph: Graph): void {
  for (const node of graph.nodes) w.message(1, (n) => writeNode(n, node));
  w.string(2, graph.name);
  for (const tensor of graph.initializers) w.message(5, (t) => writeTensor(t, tensor));
  if (graph.docString !== undefined) w.string(10, graph.docString);
  for (const input of graph.inputs) w.message(11, (v) => writeValueInfo(v, input));
  for (const output of graph.outputs) w.message(12, (v) => writeValueInfo(v, output));
  for (const info of graph.valueInfo ?? []) w.message(13, (v) => writeValueInfo(v, info));
}

function writeNode(w: ProtoWriter, node: Node): void {
  for (const input of node.inputs) w.string(1, input);
  for (const output of node.outputs) w.string(2, output);
  if (node.name !== undefined) w.string(3, node.name);
  w.string(4, node.opType);
  for (const attribute of node.attributes ?? []) w.message(5, (a) => writeAttribute(a, attribute));
  if (node.domain !== undefined) w.string(7, node.domain);
}

function writeAttribute(w: ProtoWriter, attribute: Attribute): void {
  w.string(1, attribute.name);
  switch (attribute.kind) {
    case "float":
      w.float(2, attribute.value);
      break;
    case "int":
      w.int(3, attribute.value);
      break;
    case "string":
      w.string(4, attribute.value);
      break;
    case "tensor":
      w.message(5, (t) => writeTensor(t, attribute.value));
      break;
    // onnx.proto declares these repeated fields without `[packed = true]`: one key per value.
    case "floats":
      for (let i = 0; i < attribute.value.length; i++) w.float(7, attribute.value[i]);
      break;
    case "ints":
      for (let i = 0; i < attribute.value.length; i++) w.int(8, attribute.value[i]);
      break;
    case "strings":
      for (const s of attribute.value) w.string(9, s);
      break;
  }
  w.int(20, attributeTypeCode(attribute.kind));
}

function attributeTypeCode(kind: Attribute["kind"]): number {
  return {
    float: AttributeType.FLOAT,
    int: AttributeType.INT,
    string: AttributeType.STRING,
    tensor: AttributeType.TENSOR,
    floats: AttributeType.FLOATS,
    ints: AttributeType.INTS,
    strings: AttributeType.STRINGS,
  }[kind];
}

function writeTensor(w: ProtoWriter, tensor: Tensor): void {
  const count = tensor.dims.reduce((a, b) => a * b, 1);
  if (tensor.dataType === DataType.STRING) {
    if (tensor.strings?.length !== count) {
      throw new RangeError(`tensor ${tensor.name ?? ""} has ${tensor.strings?.length} strings for ${count}`);
    }
  } else if (tensor.raw === undefined || tensor.raw.length !== count * bytesPerElement(tensor.dataType)) {
    throw new RangeError(`tensor ${tensor.name ?? ""} has ${tensor.raw?.length} bytes for ${count} values`);
  }
  for (const d of tensor.dims) w.int(1, d);
  w.int(2, tensor.dataType);
  for (const s of tensor.strings ?? []) w.string(6, s);
  if (tensor.name !== undefined) w.string(8, tensor.name);
  if (tensor.raw !== undefined) w.bytes(9, tensor.raw);
}

function bytesPerElement(dataType: DataTypeCode): number {
  switch (dataType) {
    case DataType.DOUBLE:
    case DataType.INT64:
      return 8;
    case DataType.FLOAT:
      return 4;
    case DataType.UINT8:
    case DataType.BOOL:
      return 1;
    default:
      throw new RangeError(`no raw size for data type ${dataType}`);
  }
}

function writeValueInfo(w: ProtoWriter, info: ValueInfo): void {
  w.string(1, info.name);
  w.message(2, (type) =>
    type.message(1, (tensorType) => {
      tensorType.int(1, info.elemType);
      tensorType.message(2, (shape) => {
        for (const d of info.shape) {
          shape.message(1, (dim) => typeof d === "number" ? dim.int(1, d) : dim.string(2, d));
        }
      });
    }));
  if (info.docString !== undefined) w.string(3, info.docString);
}
