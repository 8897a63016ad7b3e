/**
 * ONNX messages against the reference parser (Debian's python3-onnx, i.e. Google's protobuf): every
 * field written is read back with its meaning, re-serialising gives the same bytes, the checker
 * accepts the model, and onnxruntime runs it.
 */

import assert from "node:assert/strict";
import {
  DataType,
  doubleTensor,
  encodeModel,
  floatTensor,
  int64Tensor,
  type Model,
  uint8Tensor,
} from "../../pipeline/export/onnx_proto.ts";
import { attr, GraphBuilder } from "../../pipeline/export/graph_builder.ts";
import { onnxCheck, openSession, python, run } from "./runtime.ts";

function sampleModel(): Model {
  const g = new GraphBuilder();
  const x = g.input("x", DataType.DOUBLE, ["N", 2], "two numbers per row");
  const code = g.input("code", DataType.STRING, ["N", 1]);
  const rank = g.node("LabelEncoder", [code], "rank", [
    attr.strings("keys_strings", ["A", "B", "é"]),
    attr.ints("values_int64s", [0, 1, -7]),
    attr.int("default_int64", -1),
  ], "ai.onnx.ml");
  const rankDouble = g.node("Cast", [rank], "rank_double", [attr.int("to", DataType.DOUBLE)]);
  const shifted = g.node("Add", [x, g.doubles("offset", [0.5, -0.25], [2])], "shifted");
  const y = g.node("Mul", [shifted, rankDouble], "y");
  g.output(y, DataType.DOUBLE, ["N", 2], "(x + offset) × rank");
  return {
    irVersion: 8,
    opsetImports: [{ domain: "", version: 15 }, { domain: "ai.onnx.ml", version: 3 }],
    producerName: "test",
    producerVersion: "0",
    domain: "test.domain",
    modelVersion: 3,
    docString: "a model for the encoding test",
    graph: g.build("sample", "graph doc"),
    metadata: { threshold: "0.25", "key with spaces": "välue" },
  };
}

Deno.test("the reference parser reads every field back, and re-serialising gives the same bytes", async () => {
  const bytes = encodeModel(sampleModel());
  const dir = await Deno.makeTempDir({ prefix: "onnx-proto-" });
  try {
    const path = `${dir}/sample.onnx`;
    await Deno.writeFile(path, bytes);
    const read = await python(
      `
import json, sys, onnx
from onnx import helper, numpy_helper
data = open(sys.argv[1], "rb").read()
m = onnx.load_from_string(data)
g = m.graph
def shape(v):
    return [d.dim_param if d.HasField("dim_param") else d.dim_value for d in v.type.tensor_type.shape.dim]
print(json.dumps({
    "identical": m.SerializeToString() == data,
    "ir": m.ir_version, "opsets": [[o.domain, o.version] for o in m.opset_import],
    "producer": [m.producer_name, m.producer_version, m.domain, m.model_version, m.doc_string],
    "metadata": {p.key: p.value for p in m.metadata_props},
    "graph": [g.name, g.doc_string],
    "inputs": [[v.name, v.type.tensor_type.elem_type, shape(v), v.doc_string] for v in g.input],
    "outputs": [[v.name, v.type.tensor_type.elem_type, shape(v), v.doc_string] for v in g.output],
    "initializers": [[t.name, t.data_type, list(t.dims), numpy_helper.to_array(t).tolist()] for t in g.initializer],
    "nodes": [[n.op_type, n.domain, n.name, list(n.input), list(n.output),
               {a.name: helper.get_attribute_value(a) if a.type != onnx.AttributeProto.STRINGS
                else [s.decode() for s in a.strings] for a in n.attribute}] for n in g.node],
}))
`,
      path,
    ) as Record<string, unknown>;
    assert.equal(read.identical, true);
    assert.equal(read.ir, 8);
    assert.deepEqual(read.opsets, [["", 15], ["ai.onnx.ml", 3]]);
    assert.deepEqual(read.producer, ["test", "0", "test.domain", 3, "a model for the encoding test"]);
    assert.deepEqual(read.metadata, { threshold: "0.25", "key with spaces": "välue" });
    assert.deepEqual(read.graph, ["sample", "graph doc"]);
    assert.deepEqual(read.inputs, [["x", 11, ["N", 2], "two numbers per row"], ["code", 8, ["N", 1], ""]]);
    assert.deepEqual(read.outputs, [["y", 11, ["N", 2], "(x + offset) × rank"]]);
    assert.deepEqual(read.initializers, [["offset", 11, [2], [0.5, -0.25]]]);
    const nodes = read.nodes as unknown[][];
    assert.deepEqual(nodes.map((n) => n.slice(0, 5)), [
      ["LabelEncoder", "ai.onnx.ml", "rank", ["code"], ["rank"]],
      ["Cast", "", "rank_double", ["rank"], ["rank_double"]],
      ["Add", "", "shifted", ["x", "offset"], ["shifted"]],
      ["Mul", "", "y", ["shifted", "rank_double"], ["y"]],
    ]);
    assert.deepEqual(nodes[0][5], {
      keys_strings: ["A", "B", "é"],
      values_int64s: [0, 1, -7],
      default_int64: -1,
    });
    assert.deepEqual(nodes[1][5], { to: 11 });
    assert.equal(await onnxCheck(path), null);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("onnxruntime runs the encoded model: (x + offset) × rank, negative and default codes included", async () => {
  const session = await openSession(encodeModel(sampleModel()));
  const out = await run(session, {
    x: { type: "float64", data: new Float64Array([1, 2, 3, 4, 5, 6, 7, 8]), dims: [4, 2] },
    code: { type: "string", data: ["A", "B", "é", "Z"], dims: [4, 1] },
  });
  assert.deepEqual(out.y.dims, [4, 2]);
  // Hand-computed: rank A = 0, B = 1, é = −7, unknown Z = −1.
  assert.deepEqual(Array.from(out.y.data), [0, 0, 3.5, 3.75, -38.5, -40.25, -7.5, -7.75]);
});

Deno.test("tensor attributes of every kind survive the round trip", async () => {
  const g = new GraphBuilder();
  const x = g.input("x", DataType.DOUBLE, ["N", 1]);
  g.output(
    g.node("Identity", [x], "y", [
      attr.tensor("d", doubleTensor([0.1, -0, 1e300], [3])),
      attr.tensor("f", floatTensor([0.1], [1])),
      attr.tensor("i", int64Tensor([-1, 2 ** 40], [2])),
      attr.tensor("u", uint8Tensor([0, 255], [2])),
      attr.floats("fs", [0.5, -1]),
      attr.float("one", 0.25),
      attr.string("s", "text"),
    ]),
    DataType.DOUBLE,
    ["N", 1],
  );
  const bytes = encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: "", version: 15 }],
    producerName: "t",
    producerVersion: "0",
    graph: g.build("g"),
  });
  const dir = await Deno.makeTempDir({ prefix: "onnx-proto-" });
  try {
    await Deno.writeFile(`${dir}/t.onnx`, bytes);
    const read = await python(
      `
import json, sys, onnx
from onnx import numpy_helper
data = open(sys.argv[1], "rb").read()
m = onnx.load_from_string(data)
out = {"identical": m.SerializeToString() == data}
for a in m.graph.node[0].attribute:
    if a.type == onnx.AttributeProto.TENSOR:
        arr = numpy_helper.to_array(a.t)
        out[a.name] = [str(arr.dtype), [repr(float(v)) if arr.dtype.kind == "f" else int(v) for v in arr]]
    elif a.type == onnx.AttributeProto.FLOATS:
        out[a.name] = list(a.floats)
    elif a.type == onnx.AttributeProto.FLOAT:
        out[a.name] = a.f
    else:
        out[a.name] = a.s.decode()
print(json.dumps(out))
`,
      `${dir}/t.onnx`,
    ) as Record<string, unknown>;
    assert.equal(read.identical, true);
    assert.deepEqual(read.d, ["float64", ["0.1", "-0.0", "1e+300"]]);
    // 0.1 rounded to single precision, printed back as a double.
    assert.deepEqual(read.f, ["float32", ["0.10000000149011612"]]);
    assert.deepEqual(read.i, ["int64", [-1, 2 ** 40]]);
    assert.deepEqual(read.u, ["uint8", [0, 255]]);
    assert.deepEqual(read.fs, [0.5, -1]);
    assert.equal(read.one, 0.25);
    assert.equal(read.s, "text");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
