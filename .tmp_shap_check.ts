import { TreeShapExplainer } from "./pipeline/forest/explain.ts";
import type { FlatTree } from "./pipeline/forest/tree.ts";
import { Random } from "./pipeline/random.ts";

function randomTree(rng: () => number, nFeatures: number, maxDepth: number): FlatTree {
  const L: number[] = [], R: number[] = [], F: number[] = [], T: number[] = [], V: number[] = [], C: number[] = [];
  const grow = (depth: number, cover: number): number => {
    const id = L.length;
    L.push(-1); R.push(-1); F.push(-2); T.push(-2); V.push(rng()); C.push(cover);
    if (depth < maxDepth && rng() < 0.8) {
      F[id] = Math.floor(rng() * nFeatures); T[id] = Math.floor(rng() * 4) - 0.5 + 0.0;
      const share = 0.1 + 0.8 * rng();
      L[id] = grow(depth + 1, cover * share);
      R[id] = grow(depth + 1, cover * (1 - share));
    }
    return id;
  };
  grow(0, 100);
  const n = L.length;
  return { nodeCount: n, childrenLeft: Int32Array.from(L), childrenRight: Int32Array.from(R), feature: Int32Array.from(F),
    threshold: Float64Array.from(T), value: Float64Array.from(V), impurity: new Float64Array(n), nNodeSamples: new Int32Array(n),
    weightedNNodeSamples: Float64Array.from(C) };
}
function brute(trees: FlatTree[], x: number[], nPlayers: number, ofColumn: number[][]) {
  const v = (S: number) => {
    let total = 0;
    for (const t of trees) {
      const go = (node: number): number => {
        if (t.childrenLeft[node] < 0) return t.value[node];
        const c = t.feature[node];
        const known = ofColumn[c].every((p) => S & (1 << p));
        if (known) return go(x[c] <= t.threshold[node] ? t.childrenLeft[node] : t.childrenRight[node]);
        const w = t.weightedNNodeSamples;
        return (w[t.childrenLeft[node]] * go(t.childrenLeft[node]) + w[t.childrenRight[node]] * go(t.childrenRight[node])) / w[node];
      };
      total += go(0);
    }
    return total / trees.length;
  };
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const phi = new Float64Array(nPlayers);
  for (let i = 0; i < nPlayers; i++) {
    for (let S = 0; S < 1 << nPlayers; S++) {
      if (S & (1 << i)) continue;
      let s = 0; for (let b = 0; b < nPlayers; b++) if (S & (1 << b)) s++;
      phi[i] += fact(s) * fact(nPlayers - s - 1) / fact(nPlayers) * (v(S | (1 << i)) - v(S));
    }
  }
  return { phi, base: v(0) };
}
const rand = new Random(7);
const rng = () => rand.next();
let worst = 0;
for (let trial = 0; trial < 300; trial++) {
  const nF = 6;
  const trees = Array.from({ length: 1 + (trial % 3) }, () => randomTree(rng, nF, 8));
  const x = Array.from({ length: nF }, () => Math.floor(rng() * 4));
  const grouped = trial % 2 === 1;
  const ofColumn = grouped ? [[0], [1], [0, 2], [3], [2, 3, 4], [0]] : Array.from({ length: nF }, (_, c) => [c]);
  const nPlayers = grouped ? 5 : nF;
  const ex = new TreeShapExplainer({ trees, nFeaturesIn: nF }, { count: nPlayers, ofColumn });
  const phi = ex.shapValues(x);
  const b = brute(trees, x, nPlayers, ofColumn);
  for (let i = 0; i < nPlayers; i++) worst = Math.max(worst, Math.abs(phi[i] - b.phi[i]));
  worst = Math.max(worst, Math.abs(ex.baseValue - b.base));
}
console.log("worst", worst);
