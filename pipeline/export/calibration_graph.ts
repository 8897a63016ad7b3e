/**
 * Platt calibration as ONNX operators, one operator per floating-point step of
 * {@link PlattCalibrator.transform} in the same order, so the graph rounds exactly where the
 * project does: PD = 1 / (1 + exp(−(a · log(q / (1 − q)) + b))), q = clip(p, ε, 1 − ε).
 * @module
 */

import { EPSILON, type PlattCalibrator } from "../model/calibration.ts";
import type { GraphBuilder } from "./graph_builder.ts";

/** Adds the calibration of `probability` (any shape, double); returns the PD's value name. */
export function addPlattCalibration(
  g: GraphBuilder,
  calibrator: PlattCalibrator,
  probability: string,
): string {
  const one = g.doubles("one", [1]);
  const q = g.node("Clip", [
    probability,
    g.doubles("clip_low", [EPSILON]),
    g.doubles("clip_high", [1 - EPSILON]),
  ], "calibration_clipped");
  const odds = g.node("Div", [q, g.node("Sub", [one, q], "calibration_complement")], "calibration_odds");
  const logit = g.node("Log", [odds], "calibration_logit");
  const scaled = g.node("Mul", [g.doubles("platt_a", [calibrator.a]), logit], "calibration_scaled");
  const z = g.node("Add", [scaled, g.doubles("platt_b", [calibrator.b])], "calibration_z");
  const e = g.node("Exp", [g.node("Neg", [z], "calibration_minus_z")], "calibration_exp");
  return g.node("Div", [one, g.node("Add", [one, e], "calibration_denominator")], "pd");
}
