/**
 * The feature encoder as ONNX operators: raw attributes in (one `[N, 1]` input each, named as in
 * the schema), the encoder's feature matrix out (`[N, F]` double, columns in the encoder's order).
 * Each step mirrors pipeline/features/encoder.ts: numbers pass through, ordered codes become their
 * rank (LabelEncoder), nominal codes one column per code seen in training (OneHotEncoder with
 * `zeros = 1`, so a valid code never seen there is all zeros, as in the encoder), and the
 * engineered features are the same IEEE divisions and comparisons, so every value is bit-identical.
 *
 * The graph cannot refuse input: a code outside the schema encodes as zeros (nominal) or rank −1
 * (ordered). Callers validate against the schema first, as the API does.
 * @module
 */

import { ATTRIBUTES, isCategorical } from "../data/schema.ts";
import { AGE_BAND_BOUNDS, type FeatureEncoder } from "../features/encoder.ts";
import { UserError } from "../errors.ts";
import { DataType } from "./onnx_proto.ts";
import { attr, type GraphBuilder, ML_DOMAIN } from "./graph_builder.ts";

/** The symbolic batch dimension of every input and output. */
export const BATCH_DIM = "N";

/** Input values by attribute name. */
export type AttributeInputs = Readonly<Record<string, string>>;

/** How each engineered feature is computed in the graph, keyed by its name in encoder.ts. */
const ENGINEERED_GRAPHS: Readonly<Record<string, (g: GraphBuilder, x: AttributeInputs) => string>> = {
  // credit_amount / duration, as the encoder divides.
  monthly_instalment: (g, x) => g.node("Div", [x.credit_amount, x.duration], "monthly_instalment"),
  amount_per_age_year: (g, x) => g.node("Div", [x.credit_amount, x.age], "amount_per_age_year"),
  // (credit_amount / duration) / installment_commitment: the same two roundings in the same order.
  income_proxy: (g, x) =>
    g.node("Div", [
      g.node("Div", [x.credit_amount, x.duration], "income_proxy_monthly"),
      x.installment_commitment,
    ], "income_proxy"),
  // The number of band bounds at or below the age.
  age_band: (g, x) =>
    g.node(
      "Sum",
      AGE_BAND_BOUNDS.map((bound) =>
        g.node(
          "Cast",
          [
            g.node("GreaterOrEqual", [x.age, g.doubles(`age_bound_${bound}`, [bound])], `age_ge_${bound}`),
          ],
          `age_ge_${bound}_double`,
          [attr.int("to", DataType.DOUBLE)],
        )
      ),
      "age_band",
    ),
};

/** Names of the engineered features the exporter can write. */
export const EXPORTABLE_ENGINEERED_FEATURES: readonly string[] = Object.keys(ENGINEERED_GRAPHS);

/**
 * Declares the 20 attribute inputs (schema order) on `g` and returns their value names: coded
 * attributes as `tensor(string)`, numbers as `tensor(double)`, each `[N, 1]`.
 */
export function addAttributeInputs(g: GraphBuilder): AttributeInputs {
  const inputs: Record<string, string> = {};
  for (const a of ATTRIBUTES) {
    const doc = isCategorical(a)
      ? `${a.label.en}: one of ${a.codes.map((c) => c.code).join(", ")}`
      : `${a.label.en} (${a.unit.en}, ${a.min}–${a.max})`;
    inputs[a.name] = g.input(
      a.name,
      isCategorical(a) ? DataType.STRING : DataType.DOUBLE,
      [BATCH_DIM, 1],
      doc,
    );
  }
  return inputs;
}

/** Adds the encoder's operators; returns the feature matrix's value name (`[N, F]` double). */
export function addEncoder(g: GraphBuilder, encoder: FeatureEncoder, x: AttributeInputs): string {
  const pieces: string[] = [];
  const names: string[] = [];
  const toDouble = (value: string, hint: string) =>
    g.node("Cast", [value], hint, [attr.int("to", DataType.DOUBLE)]);
  for (const a of ATTRIBUTES) {
    // An attribute the model's profile excludes stays a graph input (callers send all 20) but feeds nothing.
    if (encoder.options.excluded.includes(a.name)) continue;
    if (!isCategorical(a)) {
      pieces.push(x[a.name]);
      names.push(a.name);
    } else if (a.kind === "ordered" && encoder.options.orderedAsOrdinal) {
      const ranks = g.node("LabelEncoder", [x[a.name]], `${a.name}_rank`, [
        attr.strings("keys_strings", a.codes.map((c) => c.code)),
        attr.ints("values_int64s", a.codes.map((_, i) => i)),
        attr.int("default_int64", -1),
      ], ML_DOMAIN);
      pieces.push(toDouble(ranks, `${a.name}_ordinal`));
      names.push(a.name);
    } else {
      const levels = encoder.levels[a.name] ?? [];
      if (levels.length === 0) continue;
      // OneHotEncoder appends the category axis: [N, 1] → [N, 1, k] floats, reshaped to [N, k].
      const hot = g.node("OneHotEncoder", [x[a.name]], `${a.name}_onehot3d`, [
        attr.strings("cats_strings", levels),
        attr.int("zeros", 1),
      ], ML_DOMAIN);
      // onnx 1.12's checker infers no type for OneHotEncoder; declaring it keeps strict checking on.
      g.declare(hot, DataType.FLOAT, [BATCH_DIM, 1, levels.length]);
      const flat = g.node(
        "Reshape",
        [hot, g.int64s(`shape_n_${levels.length}`, [-1, levels.length])],
        `${a.name}_onehot`,
      );
      pieces.push(toDouble(flat, `${a.name}_onehot_double`));
      names.push(...levels.map((code) => `${a.name}=${code}`));
    }
  }
  if (encoder.options.engineered) {
    for (const column of encoder.columns.slice(names.length)) {
      const build = ENGINEERED_GRAPHS[column.name];
      if (!build) {
        throw new UserError(
          `the ONNX exporter does not know the engineered feature ${column.name}; add it to pipeline/export/encoder_graph.ts`,
        );
      }
      pieces.push(build(g, x));
      names.push(column.name);
    }
  }
  const expected = encoder.featureNames;
  if (names.length !== expected.length || names.some((n, i) => n !== expected[i])) {
    throw new Error(
      `the exported encoder's columns (${names.join(", ")}) differ from the model's (${expected.join(", ")})`,
    );
  }
  return g.node("Concat", pieces, "features", [attr.int("axis", 1)]);
}
