/**
 * Builds an ONNX graph one operator at a time: every value gets a fresh, readable name (graph
 * values are assigned once), constants become initializers, and the result is a plain
 * {@link Graph} for onnx_proto.ts to encode.
 * @module
 */

import {
  type Attribute,
  type DataTypeCode,
  type Dimension,
  doubleTensor,
  type Graph,
  int64Tensor,
  type Node,
  type Tensor,
  type ValueInfo,
} from "./onnx_proto.ts";

/** The operator-set domain of the classical machine-learning operators. */
export const ML_DOMAIN = "ai.onnx.ml";

/** Collects inputs, constants, nodes and outputs. */
export class GraphBuilder {
  readonly #inputs: ValueInfo[] = [];
  readonly #outputs: ValueInfo[] = [];
  readonly #valueInfo: ValueInfo[] = [];
  readonly #initializers: Tensor[] = [];
  readonly #nodes: Node[] = [];
  readonly #names = new Set<string>();
  readonly #constants = new Map<string, string>();

  /** Declares a graph input; returns its name. */
  input(name: string, elemType: DataTypeCode, shape: readonly Dimension[], docString?: string): string {
    this.#claim(name);
    this.#inputs.push({ name, elemType, shape, docString });
    return name;
  }

  /** Declares an existing value as a graph output. */
  output(name: string, elemType: DataTypeCode, shape: readonly Dimension[], docString?: string): void {
    if (!this.#names.has(name)) throw new Error(`output ${name} is not a value of the graph`);
    this.#outputs.push({ name, elemType, shape, docString });
  }

  /** Declares the type of an intermediate value (for operators whose schema infers no output type). */
  declare(name: string, elemType: DataTypeCode, shape: readonly Dimension[]): void {
    if (!this.#names.has(name)) throw new Error(`${name} is not a value of the graph`);
    this.#valueInfo.push({ name, elemType, shape });
  }

  /** A double constant (scalar when `dims` is empty), shared between uses of the same value. */
  doubles(hint: string, values: readonly number[], dims: readonly number[] = []): string {
    const key = `d:${dims.join("x")}:${values.map(floatKey).join(",")}`;
    return this.#constant(key, hint, (name) => doubleTensor(values, dims, name));
  }

  /** An int64 constant, e.g. a shape for Reshape. */
  int64s(hint: string, values: readonly number[], dims: readonly number[] = [values.length]): string {
    const key = `i:${dims.join("x")}:${values.join(",")}`;
    return this.#constant(key, hint, (name) => int64Tensor(values, dims, name));
  }

  /** Adds one node with one output named after `hint`; returns the output's name. */
  node(
    opType: string,
    inputs: readonly string[],
    hint: string,
    attributes: readonly Attribute[] = [],
    domain?: string,
  ): string {
    for (const input of inputs) {
      if (input !== "" && !this.#names.has(input)) throw new Error(`${opType} reads unknown value ${input}`);
    }
    const output = this.#fresh(hint);
    this.#nodes.push({ opType, domain, name: output, inputs, outputs: [output], attributes });
    return output;
  }

  /** The finished graph. */
  build(name: string, docString?: string): Graph {
    return {
      name,
      docString,
      nodes: [...this.#nodes],
      initializers: [...this.#initializers],
      inputs: [...this.#inputs],
      outputs: [...this.#outputs],
      valueInfo: [...this.#valueInfo],
    };
  }

  #constant(key: string, hint: string, make: (name: string) => Tensor): string {
    const existing = this.#constants.get(key);
    if (existing) return existing;
    const name = this.#fresh(hint);
    this.#initializers.push(make(name));
    this.#constants.set(key, name);
    return name;
  }

  #fresh(hint: string): string {
    let name = hint;
    for (let i = 2; this.#names.has(name); i++) name = `${hint}_${i}`;
    this.#names.add(name);
    return name;
  }

  #claim(name: string): void {
    if (this.#names.has(name)) throw new Error(`value name ${name} is taken`);
    this.#names.add(name);
  }
}

// Distinguishes values that print alike (-0 and 0) so they never share a constant.
function floatKey(v: number): string {
  return Object.is(v, -0) ? "-0" : String(v);
}

/** Attribute constructors. */
export const attr = {
  float: (name: string, value: number): Attribute => ({ name, kind: "float", value }),
  int: (name: string, value: number): Attribute => ({ name, kind: "int", value }),
  string: (name: string, value: string): Attribute => ({ name, kind: "string", value }),
  tensor: (name: string, value: Tensor): Attribute => ({ name, kind: "tensor", value }),
  floats: (name: string, value: ArrayLike<number>): Attribute => ({ name, kind: "floats", value }),
  ints: (name: string, value: ArrayLike<number>): Attribute => ({ name, kind: "ints", value }),
  strings: (name: string, value: readonly string[]): Attribute => ({ name, kind: "strings", value }),
};
