/**
 * ROC AUC, the default score of permutation importance. Kept here so the forest needs nothing
 * from further down the pipeline; it is the Mann–Whitney statistic with tied scores counted half.
 * @module
 */

/** Area under the ROC curve of `scores` for 0/1 `labels`; ties between classes count ½. */
export function rocAuc(labels: ArrayLike<number>, scores: ArrayLike<number>): number {
  const n = labels.length;
  if (scores.length !== n) throw new RangeError(`rocAuc: ${n} labels but ${scores.length} scores`);
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  order.sort((a, b) => scores[a] - scores[b]);
  let nPos = 0;
  let rankSumPos = 0;
  for (let i = 0; i < n;) {
    let j = i;
    while (j + 1 < n && scores[order[j + 1]] === scores[order[i]]) j++;
    // Tied scores share the mean of their 1-based ranks.
    const meanRank = (i + j + 2) / 2;
    for (let k = i; k <= j; k++) {
      if (labels[order[k]] === 1) {
        nPos++;
        rankSumPos += meanRank;
      }
    }
    i = j + 1;
  }
  const nNeg = n - nPos;
  if (nPos === 0 || nNeg === 0) throw new RangeError("rocAuc needs both classes in labels");
  return (rankSumPos - (nPos * (nPos + 1)) / 2) / (nPos * nNeg);
}
