#!/usr/bin/python3
"""Python peers of the credit-risk model, scored on exactly the outer folds of a folds.csv.

Run through `deno task bench:peers` (bench/peers/peers_bench.ts), which validates the folds file,
spawns this script with Debian's /usr/bin/python3, and writes bench/results/peers.json atomically.
This script prints one JSON document on stdout and its progress on stderr; it writes no file.

For every outer fold (repeat, fold) each peer is fitted on the other rows only. Its decision
threshold is chosen on out-of-fold predictions of an inner stratified 5-fold CV of those training
rows, under two rules:
  grid_argmin   the threshold of least expected cost over every distinct in-fold score (the
                midpoint rule of the project's costOptimalThreshold, pipeline/model/metrics.ts);
  pd_one_sixth  the project's rule (costThreshold, pipeline/model/objective.ts): Platt scaling on the
                logit of the in-fold scores, decline when the calibrated PD >= 1/6; if Platt fails or
                its slope is not positive, the grid argmin (infinite -> 1), as the project does.
The peer refitted on all training rows then scores the outer test rows once. Nothing is fitted on
the outer test rows.

Requires: apt-get install -y python3-sklearn python3-imblearn python3-xgboost python3-optuna
"""

import argparse
import csv
import hashlib
import json
import math
import os
import platform
import sys
import time
import warnings

import numpy as np

COST_FN = 5.0  # bad predicted good
COST_FP = 1.0  # good predicted bad
PD_CUT = COST_FP / (COST_FP + COST_FN)  # 1/6
PLATT_EPSILON = 1e-6

# Field kinds of german.data, in file order (codebook: data/README.md).
CATEGORICAL = [0, 2, 3, 5, 6, 8, 9, 11, 13, 14, 16, 18, 19]
NUMERIC = [1, 4, 7, 10, 12, 15, 17]

ALL_PEERS = ["logistic_regression", "balanced_random_forest", "xgboost", "original_pipeline"]


def log(message, progress=False):
    """Progress overwrites its line on a terminal; anywhere else every line is kept."""
    if progress and sys.stderr.isatty():
        print(f"\r\033[K{message}", end="", file=sys.stderr, flush=True)
    else:
        print(message, file=sys.stderr, flush=True)


def load_german(path):
    """Rows of german.data keyed by 0-based line; labels 1 = bad (class 2), 0 = good."""
    with open(path, encoding="utf-8") as handle:
        lines = handle.read().split("\n")
    while lines and lines[-1].strip() == "":
        lines.pop()
    X, y = [], []
    for number, line in enumerate(lines):
        fields = line.split()
        if len(fields) != 21:
            raise SystemExit(f"peers.py: {path}: line {number + 1} has {len(fields)} fields, not 21")
        X.append(fields[:20])
        y.append(1 if fields[20] == "2" else 0)
    X = np.array(X, dtype=object)
    for column in NUMERIC:
        X[:, column] = X[:, column].astype(float)
    return X, np.array(y, dtype=np.int64)


def read_folds(path):
    """{(repeat, fold): sorted test rows}; the Deno side has already validated the partition."""
    folds = {}
    with open(path, newline="", encoding="utf-8") as handle:
        for record in csv.DictReader(handle):
            key = (int(record["repeat"]), int(record["fold"]))
            folds.setdefault(key, []).append(int(record["row"]))
    return {key: np.array(sorted(rows)) for key, rows in sorted(folds.items())}


# --- preprocessing and peers --------------------------------------------------------------------


def preprocessor(scale_numeric):
    from sklearn.compose import ColumnTransformer
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    numeric = StandardScaler() if scale_numeric else "passthrough"
    return ColumnTransformer(
        [
            ("categorical", OneHotEncoder(handle_unknown="ignore", sparse_output=False), CATEGORICAL),
            ("numeric", numeric, NUMERIC),
        ]
    )


def logistic_regression(seed, y_fit):
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline

    return make_pipeline(preprocessor(True), LogisticRegression(max_iter=1000))


LR_PARAMS = {
    "encoding": "one-hot categoricals, standardised numerics (fitted on the fit rows)",
    "model": "LogisticRegression(max_iter=1000); scikit-learn defaults otherwise (C=1.0, L2, lbfgs)",
}


def balanced_random_forest(seed, y_fit):
    from imblearn.ensemble import BalancedRandomForestClassifier
    from sklearn.pipeline import make_pipeline

    return make_pipeline(
        preprocessor(False),
        BalancedRandomForestClassifier(
            n_estimators=300,
            sampling_strategy="all",
            replacement=True,
            bootstrap=False,
            n_jobs=1,
            random_state=seed,
        ),
    )


BRF_PARAMS = {
    "encoding": "one-hot categoricals, numerics as they are",
    "model": (
        "BalancedRandomForestClassifier(n_estimators=300, sampling_strategy='all', replacement=True, "
        "bootstrap=False) — imbalanced-learn >= 0.13's defaults, set explicitly; the rest at defaults "
        "(criterion='gini', max_features='sqrt', max_depth=None, min_samples_leaf=1)"
    ),
}


def xgboost_classifier(seed, y_fit):
    from sklearn.pipeline import make_pipeline
    from xgboost import XGBClassifier

    n_bad = int(np.sum(y_fit))
    return make_pipeline(
        preprocessor(False),
        XGBClassifier(
            n_estimators=300,
            max_depth=4,
            learning_rate=0.05,
            subsample=0.8,
            colsample_bytree=0.8,
            min_child_weight=1,
            reg_lambda=1.0,
            scale_pos_weight=(len(y_fit) - n_bad) / n_bad,
            tree_method="hist",
            eval_metric="logloss",
            n_jobs=1,
            random_state=seed,
        ),
    )


XGB_PARAMS = {
    "encoding": "one-hot categoricals, numerics as they are",
    "model": (
        "XGBClassifier(n_estimators=300, max_depth=4, learning_rate=0.05, subsample=0.8, "
        "colsample_bytree=0.8, min_child_weight=1, reg_lambda=1, scale_pos_weight=n_good/n_bad of the "
        "rows it is fitted on, tree_method='hist')"
    ),
}


def original_search_space(trial):
    """The original project's search, as its README describes it: Optuna TPE, imbalanced-learn's
    balanced forest, 5-fold CV, maximise recall on bad at the default 0.5 threshold. Its exact
    ranges are not recorded in this project; these are a reconstruction of the usual ones."""
    return {
        "n_estimators": trial.suggest_int("n_estimators", 100, 300, step=50),
        "max_depth": trial.suggest_int("max_depth", 3, 20),
        "min_samples_split": trial.suggest_int("min_samples_split", 2, 20),
        "min_samples_leaf": trial.suggest_int("min_samples_leaf", 1, 10),
        "max_features": trial.suggest_categorical("max_features", ["sqrt", "log2"]),
        "criterion": trial.suggest_categorical("criterion", ["gini", "entropy"]),
    }


def original_forest(params, seed):
    from imblearn.ensemble import BalancedRandomForestClassifier
    from sklearn.pipeline import make_pipeline

    # imbalanced-learn 0.10's defaults, the version the original ran on, for everything not searched.
    return make_pipeline(
        preprocessor(False),
        BalancedRandomForestClassifier(**params, n_jobs=1, random_state=seed),
    )


def original_params(trials):
    return {
        "encoding": "one-hot categoricals, numerics as they are",
        "search": (
            f"Optuna TPESampler (seed per outer fold), {trials} trials, no pruner, maximising mean recall on "
            "bad at threshold 0.5 over the inner 5-fold CV of the outer-training rows (the same inner folds "
            "then give the out-of-fold scores for the thresholds)"
        ),
        "space": (
            "n_estimators 100-300 step 50, max_depth 3-20, min_samples_split 2-20, min_samples_leaf 1-10, "
            "max_features sqrt|log2, criterion gini|entropy; reconstructed — the original's ranges are "
            "not recorded here"
        ),
        "model": "BalancedRandomForestClassifier with imbalanced-learn 0.10's defaults otherwise "
        "(sampling_strategy='auto', replacement=False, bootstrap=True)",
    }


# --- threshold rules (ports of the project's TypeScript) ---------------------------------------


def cost_sweep(y, p):
    """Thresholds ascending (each distinct score, then +inf) and their expected cost."""
    order = np.argsort(-p, kind="stable")
    s, labels = p[order], y[order]
    tp = np.cumsum(labels)
    fp = np.cumsum(1 - labels)
    last_of_tie = np.append(s[1:] != s[:-1], True)
    thresholds = s[last_of_tie][::-1]
    tps, fps = tp[last_of_tie][::-1], fp[last_of_tie][::-1]
    positives, n = int(labels.sum()), len(labels)
    costs = (COST_FN * (positives - tps) + COST_FP * fps) / n
    thresholds = np.append(thresholds, math.inf)
    costs = np.append(costs, COST_FN * positives / n)
    return thresholds, costs


def grid_argmin_threshold(y, p):
    """costOptimalThreshold: midpoint of the longest run of least-cost cuts (the lowest on ties)."""
    thresholds, costs = cost_sweep(y, p)
    least = costs.min()
    minimal = costs <= least + 1e-12 * max(1.0, abs(least))
    best_start, best_end, i = -1, -1, 0
    while i < len(costs):
        if minimal[i]:
            j = i
            while j + 1 < len(costs) and minimal[j + 1]:
                j += 1
            if best_start < 0 or j - i > best_end - best_start:
                best_start, best_end = i, j
            i = j
        i += 1
    upper = thresholds[best_end]
    lower = thresholds[0] if best_start == 0 else thresholds[best_start - 1]
    return math.inf if upper == math.inf else (lower + upper) / 2


def _logit(p):
    q = np.clip(p, PLATT_EPSILON, 1 - PLATT_EPSILON)
    return np.log(q / (1 - q))


def platt_fit(y, scores):
    """PlattCalibrator.fit: Newton's method on logit(score) with Platt's smoothed targets."""
    n, positives = len(y), int(np.sum(y))
    if positives == 0 or positives == n:
        return None
    hi, lo = (positives + 1) / (positives + 2), 1 / (n - positives + 2)
    x, t = _logit(scores), np.where(y == 1, hi, lo)
    a, b = 1.0, 0.0
    for _ in range(100):
        p = 1 / (1 + np.exp(-(a * x + b)))
        d, w = p - t, p * (1 - p)
        g0, g1 = float(np.sum(d * x)), float(np.sum(d))
        h00, h01, h11 = 1e-12 + float(np.sum(w * x * x)), float(np.sum(w * x)), 1e-12 + float(np.sum(w))
        det = h00 * h11 - h01 * h01
        da, db = (h11 * g0 - h01 * g1) / det, (h00 * g1 - h01 * g0) / det
        a, b = a - da, b - db
        if abs(da) < 1e-10 and abs(db) < 1e-10:
            break
    if not (math.isfinite(a) and math.isfinite(b) and a > 0):
        return None
    return a, b


def platt_transform(calibrator, scores):
    a, b = calibrator
    return 1 / (1 + np.exp(-(a * _logit(scores) + b)))


def pd_one_sixth_threshold(y, p):
    """costThreshold: the raw-score threshold whose Platt PD is 1/6, or the grid argmin if Platt fails."""
    calibrator = platt_fit(y, p)
    if calibrator is None:
        optimal = grid_argmin_threshold(y, p)
        return (optimal if math.isfinite(optimal) else 1.0), None
    a, b = calibrator
    logit_cut = (math.log(PD_CUT / (1 - PD_CUT)) - b) / a
    return 1 / (1 + math.exp(-logit_cut)), calibrator


# --- scoring ------------------------------------------------------------------------------------


def metrics(y, scored, threshold):
    from sklearn.metrics import roc_auc_score

    declined = scored >= threshold
    tp = int(np.sum(declined & (y == 1)))
    fp = int(np.sum(declined & (y == 0)))
    fn = int(np.sum(~declined & (y == 1)))
    tn = len(y) - tp - fp - fn
    return {
        "threshold": threshold if math.isfinite(threshold) else None,
        "cost": (COST_FN * fn + COST_FP * fp) / len(y),
        "roc_auc": float(roc_auc_score(y, scored)),
        "recall_bad": tp / (tp + fn) if tp + fn else 0.0,
        "specificity": tn / (tn + fp) if tn + fp else 0.0,
        "accuracy": (tp + tn) / len(y),
        "brier": float(np.mean((scored - y) ** 2)),
    }


def inner_folds(y, seed, k):
    from sklearn.model_selection import StratifiedKFold

    return list(StratifiedKFold(n_splits=k, shuffle=True, random_state=seed).split(np.zeros(len(y)), y))


def out_of_fold(make, X, y, folds, seed):
    oof = np.full(len(y), np.nan)
    for k, (fit, score) in enumerate(folds):
        model = make(seed + k, y[fit]).fit(X[fit], y[fit])
        oof[score] = model.predict_proba(X[score])[:, 1]
    return oof


def score_fold(make, X, y, train, test, seed, folds):
    """In-fold thresholds from inner out-of-fold scores, final fit on `train`, one scoring of `test`."""
    oof = out_of_fold(make, X[train], y[train], folds, seed)
    y_train, y_test = y[train], y[test]
    natural = grid_argmin_threshold(y_train, oof)
    project, calibrator = pd_one_sixth_threshold(y_train, oof)
    model = make(seed, y_train).fit(X[train], y_train)
    p = model.predict_proba(X[test])[:, 1]
    natural_metrics = metrics(y_test, p, natural)
    if calibrator is None:
        # No calibrator: the rule thresholds the raw score, and the raw score is what is scored.
        project_metrics = metrics(y_test, p, project)
        project_metrics["calibrated"] = False
    else:
        pd = platt_transform(calibrator, p)
        project_metrics = metrics(y_test, p, project)
        # The decision is on the raw score at the mapped threshold (as the project serves it); the
        # Brier score is of the PD the rule calibrates to.
        project_metrics["brier"] = float(np.mean((pd - y_test) ** 2))
        project_metrics["pd_threshold"] = PD_CUT
        project_metrics["calibrated"] = True
    return {"grid_argmin": natural_metrics, "pd_one_sixth": project_metrics, "brier_raw": natural_metrics["brier"]}


def original_fold(X, y, train, test, seed, folds, trials):
    import optuna
    from sklearn.metrics import recall_score

    X_train, y_train = X[train], y[train]

    def objective(trial):
        params = original_search_space(trial)
        recalls = []
        for k, (fit, score) in enumerate(folds):
            model = original_forest(params, seed + k).fit(X_train[fit], y_train[fit])
            recalls.append(recall_score(y_train[score], model.predict(X_train[score])))
        return float(np.mean(recalls))

    study = optuna.create_study(direction="maximize", sampler=optuna.samplers.TPESampler(seed=seed))
    study.optimize(objective, n_trials=trials)
    best = dict(study.best_params)
    result = score_fold(lambda s, _y: original_forest(best, s), X, y, train, test, seed, folds)
    result["chosen"] = {"params": best, "inner_recall": study.best_value}
    return result


class Checkpoint:
    """Finished outer folds, rewritten after each one (temporary file, then a rename), so a run that is
    killed resumes where it stopped. Valid only for the same folds, data and settings (`key`)."""

    def __init__(self, path, key):
        self.path, self.key, self.folds = path, key, {}
        if path and os.path.exists(path):
            try:
                with open(path, encoding="utf-8") as handle:
                    saved = json.load(handle)
                if saved.get("key") == key:
                    self.folds = saved["folds"]
            except (OSError, ValueError, KeyError):
                self.folds = {}

    def get(self, peer, repeat, fold):
        return self.folds.get(f"{peer}|{repeat}|{fold}")

    def put(self, peer, repeat, fold, result):
        self.folds[f"{peer}|{repeat}|{fold}"] = result
        if not self.path:
            return
        tmp = f"{self.path}.{os.getpid()}.tmp"
        with open(tmp, "w", encoding="utf-8") as handle:
            json.dump({"key": self.key, "folds": self.folds}, handle)
        os.replace(tmp, self.path)


def file_sha256(path):
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--folds", required=True)
    parser.add_argument("--data", required=True)
    parser.add_argument("--peers", default=",".join(ALL_PEERS))
    parser.add_argument("--inner-folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=20261128)
    parser.add_argument("--original-trials", type=int, default=30)
    parser.add_argument("--original-outer-folds", type=int, default=10)
    parser.add_argument("--checkpoint", help="resume from and save finished folds to this file")
    args = parser.parse_args()

    warnings.filterwarnings("ignore", category=FutureWarning)
    warnings.filterwarnings("ignore", category=UserWarning)
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)

    peers = [p for p in args.peers.split(",") if p]
    unknown = [p for p in peers if p not in ALL_PEERS]
    if unknown:
        raise SystemExit(f"peers.py: unknown peer(s) {', '.join(unknown)}; known: {', '.join(ALL_PEERS)}")

    X, y = load_german(args.data)
    folds = read_folds(args.folds)
    n = len(y)
    if max(int(rows.max()) for rows in folds.values()) >= n:
        raise SystemExit(f"peers.py: {args.folds} names a row beyond the {n} rows of {args.data}")
    keys = list(folds.keys())
    import sklearn

    key = json.dumps(
        {
            "folds": file_sha256(args.folds),
            "data": file_sha256(args.data),
            "script": file_sha256(__file__),
            "seed": args.seed,
            "inner_folds": args.inner_folds,
            "original_trials": args.original_trials,
            "sklearn": sklearn.__version__,
        },
        sort_keys=True,
    )
    checkpoint = Checkpoint(args.checkpoint, key)

    makers = {
        "logistic_regression": (logistic_regression, LR_PARAMS, "logistic regression"),
        "balanced_random_forest": (balanced_random_forest, BRF_PARAMS, "imbalanced-learn BalancedRandomForest, 300 trees"),
        "xgboost": (xgboost_classifier, XGB_PARAMS, "XGBoost, 300 trees, depth 4"),
    }
    results = []
    for name in peers:
        outer = keys if name != "original_pipeline" else keys[: args.original_outer_folds]
        started = time.perf_counter()
        rows, resumed, computed = [], 0, 0
        for i, (repeat, fold) in enumerate(outer):
            saved = checkpoint.get(name, repeat, fold)
            if saved is not None:
                rows.append(saved)
                resumed += 1
                continue
            fold_started, fold_cpu = time.perf_counter(), time.process_time()
            test = folds[(repeat, fold)]
            train = np.setdiff1d(np.arange(n), test)
            seed = args.seed + 1000 * repeat + fold
            inner = inner_folds(y[train], seed, args.inner_folds)
            if name == "original_pipeline":
                scored = original_fold(X, y, train, test, seed, inner, args.original_trials)
            else:
                scored = score_fold(makers[name][0], X, y, train, test, seed, inner)
            row = {
                "repeat": repeat,
                "fold": fold,
                "n_test": len(test),
                "n_train": len(train),
                **scored,
                "wall_s": round(time.perf_counter() - fold_started, 3),
                "cpu_s": round(time.process_time() - fold_cpu, 3),
            }
            rows.append(row)
            checkpoint.put(name, repeat, fold, row)
            computed += 1
            elapsed = time.perf_counter() - started
            eta = elapsed / computed * (len(outer) - i - 1)
            log(f"{name}: fold {i + 1}/{len(outer)} (repeat {repeat}, fold {fold})  {elapsed:.0f} s, ETA {eta:.0f} s", True)
        if sys.stderr.isatty() and computed:
            print(file=sys.stderr)
        if resumed:
            log(f"{name}: {resumed} of {len(outer)} folds taken from the checkpoint {args.checkpoint}")
        if name == "original_pipeline":
            params, label = original_params(args.original_trials), "original project's pipeline, nested"
            coverage = (
                f"{len(outer)} of {len(keys)} outer folds (the first {len(outer)} in repeat, fold order), "
                f"{args.original_trials} TPE trials per outer fold"
            )
        else:
            _, params, label = makers[name]
            coverage = f"all {len(keys)} outer folds"
        results.append(
            {
                "name": name,
                "label": label,
                "params": params,
                "outer_folds": coverage,
                # Summed over folds, so a resumed run still reports every fold's own time.
                "timing": {
                    "wall_s": round(sum(r["wall_s"] for r in rows), 2),
                    "cpu_s": round(sum(r["cpu_s"] for r in rows), 2),
                    "resumed_folds": resumed,
                },
                "folds": rows,
            }
        )

    import imblearn
    import optuna as optuna_module
    import xgboost

    print(
        json.dumps(
            {
                "inner_folds": args.inner_folds,
                "seed": args.seed,
                "original_trials": args.original_trials,
                "rows": n,
                "libraries": {
                    "python": platform.python_version(),
                    "numpy": np.__version__,
                    "scikit-learn": sklearn.__version__,
                    "imbalanced-learn": imblearn.__version__,
                    "xgboost": xgboost.__version__,
                    "optuna": optuna_module.__version__,
                },
                "peers": results,
            }
        )
    )


if __name__ == "__main__":
    main()
