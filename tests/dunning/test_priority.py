"""Tests of medrisk.dunning: scores, their parts and reasons, point in time, the ground truth."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medrisk.data import Ledger
from medrisk.data.demo import make_demo
from medrisk.dunning import (
    DEFAULT_PARAMS,
    DEFAULT_PARAMS_PATH,
    SCORE_COLUMNS,
    history_pd,
    load_params,
    score_invoices,
)
from medrisk.exceptions import ParamsError

AS_OF = pd.Timestamp("2025-10-31")  # a year before the demo's extract date: outcomes are known


@pytest.fixture(scope="module")
def demo():
    return make_demo(n_invoices=8_000, seed=7)


@pytest.fixture(scope="module")
def scores(demo):
    return score_invoices(demo.ledger, AS_OF)


def test_params_file_matches_the_defaults_and_unknown_keys_are_refused():
    assert load_params(DEFAULT_PARAMS_PATH) == DEFAULT_PARAMS
    assert load_params({"priority": {"lgd": 0.6}})["priority"]["weights"] == \
        DEFAULT_PARAMS["priority"]["weights"]
    with pytest.raises(ParamsError, match=r"unknown key 'priority.weight'.*allowed keys"):
        load_params({"priority": {"weight": {}}})
    with pytest.raises(ParamsError, match=r"priority.lgd must be a number in \[0, 1\]; got 1.5"):
        load_params({"priority": {"lgd": 1.5}})
    with pytest.raises(ParamsError, match="does not exist"):
        load_params("no/such/file.yaml")
    with pytest.raises(ParamsError, match=r"presumed_loss_days must be a whole number.*got 0"):
        load_params({"priority": {"presumed_loss_days": 0}})
    with pytest.raises(ParamsError, match=r"prior_invoices must be a number above 0; got 0"):
        load_params({"priority": {"prior_invoices": 0}})
    with pytest.raises(ParamsError, match=r"relative_risk_cap must be .* at least 1; got 0.5"):
        load_params({"priority": {"relative_risk_cap": 0.5}})


def test_one_row_per_open_invoice_sorted_by_score(demo, scores):
    assert list(scores.columns) == SCORE_COLUMNS
    assert scores["invoice_id"].is_unique
    assert (scores["open_amount"] > 0).all()
    assert scores["rank"].tolist() == list(range(1, len(scores) + 1))
    assert scores["score"].is_monotonic_decreasing
    assert (scores["invoice_date"] <= AS_OF).all()


def test_score_is_expected_loss_times_urgency_and_parts_add_up(scores):
    s = scores
    el = s["open_amount"] / 100 * s["p_default"] * s["lgd"]
    np.testing.assert_allclose(s["expected_loss"], el)
    parts = 1 + s[["urgency_days_past_due", "urgency_due_soon", "urgency_broken_promise",
                   "urgency_dispute", "urgency_exposure"]].sum(axis=1)
    np.testing.assert_allclose(s["urgency"], parts * s["promise_factor"])
    np.testing.assert_allclose(s["score"], s["expected_loss"] * s["urgency"])
    w = DEFAULT_PARAMS["priority"]["weights"]
    np.testing.assert_allclose(s["urgency_days_past_due"],
                               w["days_past_due"] * np.minimum(s["days_past_due"], 180) / 30)
    assert set(s.loc[s["promise_state"] == "pending", "promise_factor"]) == {0.5}
    assert (s.loc[s["promise_state"] == "broken", "urgency_broken_promise"] == 1.0).all()


def test_reasons_say_why_in_plain_words(scores):
    s = scores
    row = s[(s["promise_state"] == "broken") & (s["days_past_due"] > 0)].iloc[0]
    money = f"¥{(row['open_amount'] + 50) // 100:,}"
    assert row["reason_en"].startswith(f"{money} overdue {row['days_past_due']} days; promised "
                                       f"{row['promise_date']:%Y-%m-%d}, not paid")
    assert row["reason_zh"].startswith(f"{money} 逾期{row['days_past_due']}天；承诺"
                                       f"{row['promise_date']:%Y-%m-%d}付款，未付")
    assert f"{row['history_bad']} of last {row['history_n']} invoices" in row["reason_en"]
    not_due = s[s["days_to_due"] > 0].iloc[0]
    assert f"due in {not_due['days_to_due']} days" in not_due["reason_en"]
    assert f"{not_due['days_to_due']}天后到期" in not_due["reason_zh"]
    assert s["reason_en"].str.len().min() > 10 and s["reason_zh"].notna().all()


def test_scores_are_identical_on_reruns(demo, scores):
    again = score_invoices(demo.ledger, AS_OF)
    pd.testing.assert_frame_equal(scores, again)


def _top_decile_loss_rates(demo, scores) -> tuple[float, float]:
    """Share of the money lost (ground truth) in the top decile by rank, and on average."""
    truth = demo.truth_invoices.set_index("invoice_id")
    lost = truth.loc[scores["invoice_id"], "defaulted"].to_numpy()
    money = scores["open_amount"].to_numpy()
    top = scores["rank"].to_numpy() <= len(scores) // 10
    top_rate = (money * lost)[top].sum() / money[top].sum()
    mean_rate = (money * lost).sum() / money.sum()
    return top_rate, mean_rate


def test_top_decile_holds_several_times_the_average_loss(demo, scores):
    top_rate, mean_rate = _top_decile_loss_rates(demo, scores)
    assert top_rate >= 3 * mean_rate, (top_rate, mean_rate)


@pytest.fixture(scope="module")
def demo_seed0():
    return make_demo(n_invoices=8_000, seed=0)


# Combinations where the former estimate (loss rate of settled invoices only, customer risk
# from lateness; urgency weights days_past_due 0.5, exposure 0.25) fell short: 2.5x, 1.0x and
# 1.7x. Early as_of dates have no written-off invoice yet, so the loss table must read the
# invoices still open (censored) instead of flooring every probability.
@pytest.mark.parametrize(("seed", "as_of"), [
    (7, "2024-10-31"),
    (0, "2024-10-31"),
    (0, "2025-10-31"),
])
def test_top_decile_loss_holds_on_other_seeds_and_dates(request, seed, as_of):
    company = request.getfixturevalue("demo" if seed == 7 else "demo_seed0")
    top_rate, mean_rate = _top_decile_loss_rates(company, score_invoices(company.ledger, as_of))
    assert top_rate >= 3 * mean_rate, (seed, as_of, top_rate, mean_rate)


def test_point_in_time_a_ledger_cut_at_as_of_gives_the_same_scores(demo, scores):
    t = demo.ledger.tables
    pay = t["payments"][t["payments"]["payment_date"] <= AS_OF]
    cut = Ledger({
        **t,
        "invoices": t["invoices"][t["invoices"]["invoice_date"] <= AS_OF],
        "payments": pay,
        "allocations": t["allocations"][t["allocations"]["payment_id"].isin(pay["payment_id"])],
        "adjustments": t["adjustments"][t["adjustments"]["adjustment_date"] <= AS_OF],
        "collection_actions": t["collection_actions"][
            t["collection_actions"]["action_date"] <= AS_OF],
    })
    pd.testing.assert_frame_equal(scores, score_invoices(cut, AS_OF))


def test_pd_frame_is_used_where_given_and_checked(demo, scores):
    some = scores["invoice_id"].iloc[:50]
    frame = pd.DataFrame({"invoice_id": some, "p_default": 0.5})
    s = score_invoices(demo.ledger, AS_OF, pd_frame=frame).set_index("invoice_id")
    assert (s.loc[some, "pd_source"] == "model").all()
    assert (s.loc[some, "p_default"] == 0.5).all()
    assert (s.drop(index=some)["pd_source"] == "history").all()
    with pytest.raises(ParamsError,
                       match=r"p_default must be probabilities in \[0, 1\]; got \[1.5\]"):
        score_invoices(demo.ledger, AS_OF, pd_frame=pd.DataFrame({"invoice_id": ["x"],
                                                                  "p_default": [1.5]}))
    with pytest.raises(ParamsError, match="lacks column"):
        score_invoices(demo.ledger, AS_OF, pd_frame=pd.DataFrame({"invoice_id": ["x"]}))


def test_history_pd_rises_with_days_past_due(demo):
    h = history_pd(demo.ledger, AS_OF)
    items = score_invoices(demo.ledger, AS_OF).set_index("invoice_id")
    dpd = items.loc[h["invoice_id"], "days_past_due"].to_numpy()
    band = h.groupby(np.digitize(dpd, [1, 91, 366]))["band_rate"].mean()
    assert band.is_monotonic_increasing and band.iloc[-1] > 10 * band.iloc[0]
    assert h["p_default"].between(0.001, 0.95).all()


def test_bad_as_of_is_refused(demo):
    with pytest.raises(ParamsError, match="as_of must be a date"):
        score_invoices(demo.ledger, "not a date")


@pytest.mark.parametrize("open_fen, text", [(250, "¥3"), (249, "¥2"), (150, "¥2"), (50, "¥1")])
def test_reasons_in_zh_and_en_round_money_half_away_from_zero(open_fen, text):
    # the dunning texts and the reports use one formatter: 250 fen is ¥3 in both languages
    ledger = Ledger.from_frames(
        customers=pd.DataFrame({"customer_id": ["C1"]}),
        invoices=pd.DataFrame({"invoice_id": ["I1"], "customer_id": ["C1"],
                               "invoice_date": [pd.Timestamp("2025-01-02")],
                               "due_date": [pd.Timestamp("2025-03-01")],
                               "amount": [10_000 + open_fen]}),
        payments=pd.DataFrame({"payment_id": ["P1"], "customer_id": ["C1"],
                               "payment_date": [pd.Timestamp("2025-02-01")],
                               "amount": [10_000], "reference": ["I1"]}),
    )
    row = score_invoices(ledger, "2025-03-31").iloc[0]
    assert row["open_amount"] == open_fen
    assert row["reason_en"].startswith(f"{text} overdue 30 days")
    assert row["reason_zh"].startswith(f"{text} 逾期30天")
