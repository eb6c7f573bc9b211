"""Tests of medrisk.dunning: stage boundaries, pauses, stops, disputes, templates, the log."""

from __future__ import annotations

import pandas as pd
import pytest

from medrisk.data import Ledger
from medrisk.data._cells import normalize_text
from medrisk.data.demo import make_demo
from medrisk.dunning import (
    ACTION_COLUMNS,
    append_actions,
    backtest_dunning,
    due_actions,
    dunning_stages,
    write_actions_csv,
)
from medrisk.exceptions import ParamsError, SchemaError

DUE = pd.Timestamp("2025-06-30")


def day(k: int) -> pd.Timestamp:
    """The day ``k`` days after the due date."""
    return DUE + pd.Timedelta(days=k)


def small_ledger(payments=(), actions=()) -> Ledger:
    """One customer (salesperson S2, manager S1), one invoice of ¥10,000 due on DUE."""
    pay = pd.DataFrame(list(payments), columns=["payment_id", "payment_date", "amount"])
    act = pd.DataFrame(list(actions), columns=["action_id", "action_date", "stage", "outcome",
                                               "promise_date", "promise_amount"])
    tables = {
        "salespeople": pd.DataFrame({"salesperson_id": ["S1", "S2"], "name": ["王伟", "李娜"],
                                     "team": ["华东一组"] * 2, "region": ["华东"] * 2,
                                     "manager_id": [None, "S1"]}),
        "customers": pd.DataFrame({"customer_id": ["C1"], "name": ["苏州康宁诊所"],
                                   "customer_type": ["clinic"], "region": ["华东"],
                                   "salesperson_id": ["S2"], "credit_limit": [50_000_00],
                                   "payment_terms_days": [90]}),
        "invoices": pd.DataFrame({"invoice_id": ["I1"], "customer_id": ["C1"],
                                  "invoice_date": [DUE - pd.Timedelta(days=90)],
                                  "due_date": [DUE], "amount": [10_000_00],
                                  "salesperson_id": ["S2"]}),
        "payments": pay.assign(customer_id="C1", reference="I1"),
        "allocations": pay[["payment_id", "amount"]].assign(invoice_id="I1"),
        "collection_actions": act.assign(customer_id="C1", invoice_id="I1", channel="call",
                                         actor="S2"),
    }
    return Ledger.from_frames(**tables)


#: Days around every default boundary (-3, 1, 15, 60, 90), relative to the due date.
AROUND = [-6, -4, -3, -2, 0, 1, 2, 14, 15, 16, 59, 60, 61, 89, 90, 91, 120]


def stages_issued(ledger: Ledger, days=AROUND, **kw) -> list[tuple[int, str]]:
    """Run the engine on each day, appending what it issues; (day offset, stage) issued."""
    out = []
    for k in days:
        run = due_actions(ledger, day(k), render=False, **kw)
        out += [(k, s) for s in run.actions["stage"]]
        if len(run.actions):
            ledger = append_actions(ledger, run.actions)
    return out


def test_default_stages_fire_on_their_boundary_days():
    assert stages_issued(small_ledger()) == [
        (-3, "pre_due_reminder"), (1, "overdue_call"), (15, "supervisor_escalation"),
        (60, "finance_letter"), (90, "legal_review")]


def test_replay_gives_the_same_schedule_as_appending_day_by_day():
    bt = backtest_dunning(small_ledger(), [day(k) for k in AROUND])
    got = [((r.as_of - DUE).days, r.stage) for r in bt.itertuples()]
    assert got == [(-3, "pre_due_reminder"), (1, "overdue_call"), (15, "supervisor_escalation"),
                   (60, "finance_letter"), (90, "legal_review")]


@pytest.mark.parametrize("k, stage", [(-4, None), (-3, "pre_due_reminder"), (0, "pre_due_reminder"),
                                      (1, "overdue_call"), (14, "overdue_call"),
                                      (15, "supervisor_escalation"), (59, "supervisor_escalation"),
                                      (60, "finance_letter"), (89, "finance_letter"),
                                      (90, "legal_review"), (400, "legal_review")])
def test_a_run_that_missed_days_issues_only_the_stage_reached(k, stage):
    run = due_actions(small_ledger(), day(k), render=False)
    assert run.actions["stage"].tolist() == ([] if stage is None else [stage])


def test_actors_channels_and_ids_follow_the_params():
    led = small_ledger()
    tasks = {k: due_actions(led, day(k)).tasks.iloc[0] for k in (-3, 1, 15, 60, 90)}
    assert [tasks[k]["actor"] for k in (-3, 1, 15, 60, 90)] == [
        "S2", "S2", "S1", "财务部", "法务部"]
    assert [tasks[k]["channel"] for k in (-3, 1, 15, 60, 90)] == [
        "sms", "call", "call", "letter", "legal"]
    assert tasks[-3]["recipient"] == "customer_contact" and tasks[-3]["recipient_id"] == "C1"
    assert tasks[15]["recipient_id"] == "S1"
    assert tasks[1]["action_id"] == "DUN-20250701-I1-overdue_call"
    assert "苏州康宁诊所" in tasks[1]["message_zh"] and "¥10,000" in tasks[1]["message_zh"]
    assert "1 days overdue" in tasks[1]["message_en"]


def test_never_repeats_a_stage_recorded_in_the_ledger():
    led = small_ledger(actions=[("A1", day(16), "supervisor_escalation", "contacted", None, None)])
    assert due_actions(led, day(20)).actions.empty  # escalation done, no going back to the call
    assert due_actions(led, day(60)).actions["stage"].tolist() == ["finance_letter"]
    assert due_actions(led, day(15)).actions["stage"].tolist() == ["supervisor_escalation"]


def test_stops_the_day_the_payment_arrives():
    led = small_ledger(payments=[("P1", day(10), 10_000_00)])
    assert stages_issued(led, [1, 10, 15, 60, 90]) == [(1, "overdue_call")]
    assert due_actions(led, day(10)).actions.empty
    assert due_actions(led, day(9)).actions["stage"].tolist() == ["overdue_call"]


def test_a_part_payment_does_not_stop_dunning():
    led = small_ledger(payments=[("P1", day(10), 4_000_00)])
    run = due_actions(led, day(15))
    assert run.actions["stage"].tolist() == ["supervisor_escalation"]
    assert run.tasks["open_amount"].tolist() == [6_000_00]


def test_a_pending_promise_pauses_and_a_broken_one_resumes():
    # promised on day 1 to pay by day 14; grace 3 days: pending up to day 17
    led = small_ledger(actions=[("A1", day(1), "overdue_call", "promise_to_pay", day(14),
                                 10_000_00)])
    run = due_actions(led, day(15))
    assert run.actions.empty
    assert run.paused["invoice_id"].tolist() == ["I1"]
    assert run.paused["stage"].tolist() == ["supervisor_escalation"]
    assert due_actions(led, day(17)).actions.empty
    run = due_actions(led, day(18))  # broken: resume
    assert run.actions["stage"].tolist() == ["supervisor_escalation"] and run.paused.empty


def test_a_kept_promise_means_no_further_action():
    led = small_ledger(
        payments=[("P1", day(12), 10_000_00)],
        actions=[("A1", day(1), "overdue_call", "promise_to_pay", day(14), 10_000_00)])
    assert stages_issued(led, [2, 13, 15, 18, 60, 90]) == []


def test_a_promise_kept_in_part_resumes_at_the_next_stage():
    led = small_ledger(
        payments=[("P1", day(12), 3_000_00)],
        actions=[("A1", day(1), "overdue_call", "promise_to_pay", day(14), 3_000_00)])
    run = due_actions(led, day(15))  # promised 3,000 paid by day 14: kept, 7,000 still open
    assert run.actions["stage"].tolist() == ["supervisor_escalation"] and run.paused.empty


def test_disputed_invoices_go_to_the_dispute_queue():
    led = small_ledger(actions=[("A1", day(1), "overdue_call", "dispute", None, None)])
    run = due_actions(led, day(15))
    assert run.actions.empty
    assert run.disputes["invoice_id"].tolist() == ["I1"]
    assert run.disputes["stage_due"].tolist() == ["supervisor_escalation"]
    led = small_ledger(actions=[("A1", day(1), "overdue_call", "dispute", None, None),
                                ("A2", day(5), "overdue_call", "contacted", None, None)])
    assert due_actions(led, day(15)).actions["stage"].tolist() == ["supervisor_escalation"]


def test_actions_are_canonical_and_append_to_a_ledger_and_a_csv(tmp_path):
    led = small_ledger()
    run = due_actions(led, day(1))
    assert list(run.actions.columns) == ACTION_COLUMNS
    led2 = append_actions(led, run.actions)
    assert len(led2.collection_actions) == 1 and led.collection_actions.empty
    with pytest.raises(SchemaError, match="already in the ledger"):
        append_actions(led2, run.actions)
    path = write_actions_csv(run.actions, tmp_path / "actions.csv", append=False)
    write_actions_csv(due_actions(led2, day(15)).actions, path)
    back = pd.read_csv(path)
    assert list(back.columns) == ACTION_COLUMNS
    assert back["stage"].tolist() == ["overdue_call", "supervisor_escalation"]
    assert back["action_date"].tolist() == ["2025-07-01", "2025-07-15"]
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    with pytest.raises(SchemaError, match="expected the collection_actions columns"):
        write_actions_csv(run.actions, tmp_path / "other.csv")


def test_templates_can_be_replaced_and_run_in_a_sandbox(tmp_path):
    (tmp_path / "dunning_en.j2").write_text("{{ stage }} for {{ customer_id }}: {{ open_amount }}")
    prm = {"dunning": {"template_dir": str(tmp_path)}}
    run = due_actions(small_ledger(), day(1), prm)
    assert run.tasks["message_en"].tolist() == ["overdue_call for C1: ¥10,000"]
    assert run.tasks["message_zh"].iloc[0].startswith("【电话催收任务】")  # built-in zh kept
    (tmp_path / "dunning_en.j2").write_text("{{ nonsense }}")
    with pytest.raises(ParamsError, match="nonsense"):
        due_actions(small_ledger(), day(1), prm)
    (tmp_path / "dunning_en.j2").write_text("{{ stage.__class__.__mro__ }}")
    with pytest.raises(ParamsError, match="failed"):
        due_actions(small_ledger(), day(1), prm)


def test_custom_stages_and_bad_stages():
    prm = {"dunning": {"stages": [
        {"name": "call", "offset_days": 5, "channel": "call", "actor": "salesperson",
         "recipient": "customer_contact"},
        {"name": "letter", "offset_days": 30, "channel": "letter", "actor": "finance",
         "recipient": "customer_contact"}]}}
    assert stages_issued(small_ledger(), [-5, 4, 5, 6, 29, 30, 31, 40], params=prm) == [
        (5, "call"), (30, "letter")]
    bad = {"dunning": {"stages": [{**prm["dunning"]["stages"][0], "channel": "fax"}]}}
    with pytest.raises(ParamsError, match="channel='fax' is not supported"):
        dunning_stages(bad)
    bad = {"dunning": {"stages": prm["dunning"]["stages"][::-1]}}
    with pytest.raises(ParamsError, match="offset_days must increase"):
        dunning_stages(bad)


@pytest.fixture(scope="module")
def demo():
    return make_demo(n_invoices=5_000, seed=2)


def test_on_demo_no_stage_recorded_is_issued_again_and_reruns_are_identical(demo):
    led = demo.ledger
    as_of = pd.Timestamp("2025-09-30")
    run = due_actions(led, as_of)
    again = due_actions(led, as_of)
    pd.testing.assert_frame_equal(run.tasks, again.tasks)
    assert len(run.actions) > 0
    acts = led.collection_actions
    done = acts[acts["action_date"] <= as_of][["invoice_id", "stage"]]
    clash = run.actions.merge(done, on=["invoice_id", "stage"])
    assert clash.empty
    assert set(run.actions["invoice_id"]).isdisjoint(run.disputes["invoice_id"])
    assert set(run.actions["invoice_id"]).isdisjoint(run.paused["invoice_id"])


def test_actions_csv_writes_formulas_as_text_and_reads_back_as_written(tmp_path):
    actions = due_actions(small_ledger(), day(1)).actions.assign(actor="=HYPERLINK(\"x\")")
    path = write_actions_csv(actions, tmp_path / "actions.csv", append=False)
    raw = pd.read_csv(path, dtype=str)
    assert raw["actor"].tolist() == ["'=HYPERLINK(\"x\")"]
    assert normalize_text(raw["actor"]).tolist() == ["=HYPERLINK(\"x\")"]
