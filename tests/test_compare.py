"""The cross-paper chapter's pieces: its parameter checks, the lookup cost, the peak-memory probe, the
headline verdicts, the survivors' sentence, the ranking and the closing points. (The runner refusing
its bad settings before any kernel is in ``test_bad_input_parameters``.)"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from hashkit.claims import DOES_NOT_HOLD, HOLDS, NOT_TESTABLE, WITHIN_NOISE
from hashkit.data import load_dataset
from hashkit.experiments.compare import (HEADLINES, check_chapter_parameters, code_length, cost_to_reach, discussion,
                                         headline_claims, ranking, survivors)
from hashkit.experiments.footprint import peak_memory
from hashkit.experiments.methods import Benchmark
from hashkit.experiments.runs import RunResult
from hashkit.synthetic import class_clustered_codes, random_codes

VALID = {"bits": 30, "epochs": 4, "target_f1": 0.3}


@pytest.mark.parametrize(("change", "message"), [
    ({"bits": 32}, "bits: DSHC's codebook gives each of the 10 classes a block of bits"),
    ({"epochs": 3}, "epochs: DSAH spends the budget as 2 rounds"),
    ({"target_f1": 0.0}, "target_f1: expected an F1 in (0, 1]"),
])
def test_settings_the_comparison_cannot_run_are_refused_by_name(change, message):
    check_chapter_parameters(VALID)
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace("]", r"\]")):
        check_chapter_parameters({**VALID, **change})


def test_the_peak_memory_probe_sees_an_allocation_inside_its_block():
    with peak_memory() as small:
        np.ones(1_000).sum()
    with peak_memory() as large:
        block = np.ones(64 * 2**20 // 8)  # 64 MB, touched
        block.sum()
    del block
    assert large["peak MB"] > 55, large
    assert small["peak MB"] < 20, small


def _benchmark(fashion_images) -> Benchmark:
    dataset, split = fashion_images
    return Benchmark(name=dataset.name, paper_dataset="cifar10", images=dataset, split=split, training_sets={},
                     features=None, sample_size=None, seed=0)


def _run(benchmark: Benchmark, query_codes: np.ndarray, database_codes: np.ndarray) -> RunResult:
    return RunResult(method="M", dataset=benchmark.name, bits=query_codes.shape[1], seed=0, map=0.0, precision=0.0,
                     recall=0.0, f1=0.0, radius=2, training_seconds=1.0, query_codes=query_codes,
                     database_codes=database_codes)


def test_codes_that_put_each_class_in_one_bucket_reach_the_f1_from_a_single_probe(fashion_images):
    benchmark = _benchmark(fashion_images)
    classes = benchmark.images.labels.argmax(axis=1)
    codes = class_clustered_codes(classes, 16, 0.0, seed=0)
    run = _run(benchmark, codes[benchmark.split.query], codes[benchmark.split.database])
    cost = cost_to_reach(run, benchmark, 0.3, [1, 10, 50, 100], search_queries=40)
    # 1,500 database items, about 150 per class: F1 = 2R/(1 + R) reaches 0.3 once R ≥ 0.18, K of 50
    # does (R ≈ 0.33); the whole class sits in the query's own bucket, so one address is probed.
    assert cost["K at reach"] == 50
    assert cost["buckets to reach"] == 1.0
    assert cost["best F1"] > 0.7


def test_random_codes_never_reach_a_high_f1(fashion_images):
    benchmark = _benchmark(fashion_images)
    codes = random_codes(len(benchmark.images.labels), 16, seed=1)
    run = _run(benchmark, codes[benchmark.split.query], codes[benchmark.split.database])
    cost = cost_to_reach(run, benchmark, 0.9, [1, 10, 100], search_queries=40)
    assert math.isnan(cost["buckets to reach"]) and cost["K at reach"] is None
    assert cost["best F1"] < 0.3


def test_dshc_takes_one_bit_per_label_on_a_multi_label_set_only(fashion_images):
    single = _benchmark(fashion_images)
    mosaic_dataset = load_dataset("fashion-mosaic", n_images=50, seed=0)
    multi = Benchmark(name=mosaic_dataset.name, paper_dataset="mir-flickr", images=mosaic_dataset,
                      split=single.split, training_sets={}, features=None, sample_size=None, seed=0)
    assert code_length("DSHC", single, 30) == 30
    assert code_length("DSHC", multi, 30) == mosaic_dataset.n_classes
    assert code_length("DTSH", multi, 30) == 30


def _per_query(means: dict[tuple[str, str, int], list[float]], n_queries: int = 50) -> dict:
    """Per-query AP arrays whose means are the given per-seed values, with a little per-query spread."""
    rng = np.random.default_rng(0)
    out = {}
    for cell, per_seed in means.items():
        arrays = []
        for mean in per_seed:
            noise = rng.normal(0, 0.05, n_queries)
            arrays.append(mean + noise - noise.mean())
        out[cell] = arrays
    return out


def test_a_headline_holds_beyond_the_noise_fails_against_it_and_cannot_be_tested_without_its_method():
    per_query = _per_query({
        ("FDAH", "a", 30): [0.60, 0.61, 0.62], ("ADSH", "a", 30): [0.50, 0.51, 0.52],  # clearly ahead
        ("DSHC", "a", 30): [0.40, 0.41, 0.42], ("DTSH", "a", 30): [0.60, 0.61, 0.62],  # clearly behind
        ("BGAN", "a", 30): [0.50, 0.40, 0.45], ("ITQ+feat", "a", 30): [0.45, 0.46, 0.44],  # inside the spread
        ("ADSH", "b", 30): [0.5, 0.5, 0.5], ("DSHC", "b", 10): [0.7, 0.71, 0.72], ("DTSH", "b", 30): [0.5, 0.5, 0.5],
    })
    claims = {claim.source.split("'")[0]: claim for claim in headline_claims(per_query, ["a", "b"], 3)}
    assert set(claims) == {headline.paper for headline in HEADLINES}
    assert claims["FDAH"].verdict == HOLDS
    assert claims["DSHC"].verdict == DOES_NOT_HOLD
    assert "10 vs 30 bits" in claims["DSHC"].evidence  # DSHC's shorter multi-label code is named
    assert claims["BGAN"].verdict.startswith(WITHIN_NOISE) and claims["BGAN"].verdict.endswith("3 seed(s)")
    assert claims["MCH"].verdict == NOT_TESTABLE  # MCH-ADSH never ran
    assert claims["DSAH"].verdict == NOT_TESTABLE


def test_the_survivors_sentence_names_each_paper_under_its_verdict():
    claims = pd.DataFrame({"source": ["FDAH's headline", "DSHC's headline", "BGAN's headline", "MCH's headline"],
                           "verdict": [HOLDS, DOES_NOT_HOLD, "within noise at 3 seed(s)", HOLDS]})
    sentence = survivors(claims)
    assert "FDAH, MCH survive" in sentence
    assert "BGAN are within noise" in sentence
    assert "DSHC do not survive" in sentence
    assert "cannot be tested" not in sentence


def test_the_ranking_orders_the_proposed_methods_per_dataset_best_first():
    summary = pd.DataFrame({"method": ["A", "B", "C", "A", "B"], "dataset": ["x", "x", "x", "y", "y"],
                            "bits": 30, "map_mean": [0.5, 0.7, 0.6, 0.2, 0.1]})
    ranks = ranking(summary, ["A", "B", "C"])
    assert ranks.loc["B", "x"] == 1 and ranks.loc["C", "x"] == 2 and ranks.loc["A", "x"] == 3
    assert ranks.loc["A", "y"] == 1 and math.isnan(ranks.loc["C", "y"])


def test_the_closing_points_quote_the_tables_numbers():
    def table(rows):
        return pd.DataFrame(rows, columns=["method", "dataset", "bits", "mAP@all", "mAP@all std", "buckets to reach",
                                           "peak MB"])
    tables = {"supervised": table([("S1", "x", 30, 0.70, 0.01, 500.0, 40.0), ("S2", "x", 30, 0.60, 0.02, 90.0, 10.0),
                                   ("S1", "y", 30, 0.43, 0.03, np.nan, 700.0)]),
              "unsupervised": table([("U1", "x", 30, 0.45, 0.01, np.nan, 5.0), ("U1", "y", 30, 0.41, 0.01, 9.0, 1.0)])}
    text = "\n".join(discussion(tables, "x", "y", 0.3))
    assert "best supervised method, S1, reaches mAP@all 0.700" in text
    assert "best unsupervised one, U1, 0.450" in text
    assert "between 0.410 and 0.430" in text and "reaches 0.030" in text
    assert "S2's codes reach F1 0.3 after 90 bucket addresses" in text  # the fewest on x; y's 9 is not counted
    assert "S1's on y, 700 MB" in text
