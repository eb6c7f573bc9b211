"""The demo company: contract, consistency, money, FEFO, determinism and the designed behaviour."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from medrisk.data import RELATIONS, SCHEMAS
from medrisk.data.demo import DemoCompany, make_demo, make_ledger, write_demo
from medrisk.exceptions import ParamsError

N = 3_000
END = pd.Timestamp("2026-10-31")


@pytest.fixture(scope="module")
def company() -> DemoCompany:
    return make_demo(n_invoices=N, seed=7)


@pytest.fixture(scope="module")
def big() -> DemoCompany:
    """Enough invoices for rates by customer type to be stable."""
    return make_demo(n_invoices=40_000, seed=3)


def _t(company, name):
    return company.ledger.tables[name]


# ---------------------------------------------------------------------------
# The contract
# ---------------------------------------------------------------------------
def test_every_table_is_produced(company):
    assert set(company.ledger.tables) == set(SCHEMAS)
    assert all(len(df) > 0 for df in company.ledger.tables.values())
    assert len(_t(company, "invoices")) == N


@pytest.mark.parametrize("name", list(SCHEMAS))
def test_table_passes_its_schema_unchanged(company, name):
    df = _t(company, name)
    validated = SCHEMAS[name].validate(df)
    pd.testing.assert_frame_equal(validated, df)


def test_ledger_from_frames_accepts_every_row(company):
    from medrisk.data import Ledger

    checked = Ledger.from_frames(strict=True, **company.ledger.tables)
    assert checked.load_report.quarantined == 0


@pytest.mark.parametrize("rel", RELATIONS, ids=lambda r: f"{r.child}.{r.column}")
def test_foreign_ids_exist(company, rel):
    child = _t(company, rel.child)[rel.column].dropna()
    parent = _t(company, rel.parent)[rel.key]
    assert child.isin(parent).all()


def test_id_formats(company):
    patterns = {
        ("customers", "customer_id"): r"C\d{6}", ("invoices", "invoice_id"): r"INV\d{8}",
        ("payments", "payment_id"): r"P\d{6}", ("salespeople", "salesperson_id"): r"SP\d{3}",
        ("products", "sku"): r"SKU\d{4}", ("batches", "batch_id"): r"B\d{6}",
        ("orders", "order_id"): r"O\d{8}", ("shipments", "shipment_id"): r"SH\d{7}",
        ("adjustments", "adjustment_id"): r"ADJ\d{6}",
        ("collection_actions", "action_id"): r"ACT\d{7}",
        ("products", "registration_no"): r"(国|[沪苏浙粤京鲁川鄂])械注准20[12]\d[23]\d{6}",
    }
    for (table, col), pattern in patterns.items():
        assert _t(company, table)[col].str.fullmatch(pattern).all(), (table, col)


def test_vocabulary_is_complete(company):
    cust = _t(company, "customers")
    assert set(cust["customer_type"]) == set(SCHEMAS["customers"].to_schema()
                                             .columns["customer_type"].checks[0].statistics[
                                                 "allowed_values"])
    assert set(cust["region"]) == {"华东", "华南", "华北", "华中", "西南", "西北", "东北"}
    assert set(_t(company, "products")["category"]) == {"equipment", "consumable", "reagent",
                                                        "wear_part"}
    assert set(_t(company, "adjustments")["kind"]) == {"credit_note", "write_off", "discount"}
    assert set(_t(company, "batches")["qc_status"]) == {"released", "quarantined", "rejected"}
    assert set(_t(company, "orders")["status"]) == {"entered", "approved", "shipped", "invoiced",
                                                    "closed", "cancelled"}
    assert set(_t(company, "collection_actions")["stage"]) == {
        "pre_due_reminder", "overdue_call", "supervisor_escalation", "finance_letter",
        "legal_review"}


def test_channel_follows_customer_type(company):
    cust = _t(company, "customers")
    allowed = {
        "tertiary_hospital": {"direct"}, "secondary_hospital": {"direct"},
        "clinic": {"direct", "ecommerce"}, "pharmacy": {"direct", "ecommerce"},
        "distributor": {"distributor"}, "agent": {"agent"}, "other": {"direct", "ecommerce"},
    }
    pairs = cust.groupby("customer_type")["channel"].unique()
    for ctype, channels in pairs.items():
        assert set(channels) <= allowed[ctype], ctype
    terms = cust.groupby("customer_type")["payment_terms_days"].median()
    assert terms["tertiary_hospital"] == 180 and terms["secondary_hospital"] == 120
    assert terms["clinic"] == 60 and terms["distributor"] == 90


def test_salespeople_teams_and_managers(company):
    sp = _t(company, "salespeople")
    leads = sp[sp["manager_id"].isna()]
    assert len(leads) >= 7
    managed = sp.dropna(subset=["manager_id"])
    lead_of = sp.set_index("salesperson_id")
    assert lead_of.loc[managed["manager_id"], "manager_id"].isna().all()  # managers are leads
    lead_team = lead_of.loc[managed["manager_id"], "team"].to_numpy()
    assert (lead_team == managed["team"].to_numpy()).all()
    cust = _t(company, "customers").merge(sp, on="salesperson_id", suffixes=("", "_sp"))
    assert (cust["region"] == cust["region_sp"]).all()


# ---------------------------------------------------------------------------
# Money
# ---------------------------------------------------------------------------
def _open_amounts(company) -> pd.DataFrame:
    inv = _t(company, "invoices").set_index("invoice_id")
    alloc = _t(company, "allocations").groupby("invoice_id")["amount"].sum()
    adj = _t(company, "adjustments").groupby("invoice_id")["amount"].sum()
    out = pd.DataFrame({"amount": inv["amount"]})
    out["allocated"] = alloc.reindex(out.index, fill_value=0)
    out["adjusted"] = adj.reindex(out.index, fill_value=0)
    out["open"] = out["amount"] - out["allocated"] - out["adjusted"]
    return out


def test_money_reconciles_to_the_fen(company):
    money = _open_amounts(company)
    assert (money["open"] >= 0).all()
    assert money["amount"].dtype == np.int64 and money["open"].dtype == np.int64
    pay = _t(company, "payments").set_index("payment_id")["amount"]
    alloc = _t(company, "allocations").groupby("payment_id")["amount"].sum()
    pd.testing.assert_series_equal(alloc.reindex(pay.index), pay, check_names=False)
    # some invoices are fully settled, some partly paid, some untouched
    assert (money["open"] == 0).mean() > 0.5
    assert ((money["open"] > 0) & (money["allocated"] > 0)).any()


def test_invoice_amount_is_the_sum_of_discounted_lines(company):
    lines = _t(company, "order_lines")
    exact = np.round(lines["quantity"] * lines["unit_price"] * (1 - lines["discount_rate"]))
    per_order = exact.astype(np.int64).groupby(lines["order_id"]).sum()
    inv = _t(company, "invoices")
    assert (inv["amount"].to_numpy() == per_order.loc[inv["order_id"]].to_numpy()).all()
    prices = lines.merge(_t(company, "products"), on="sku")
    assert (prices["unit_price"] == prices["list_price"]).all()
    disc = lines.merge(_t(company, "orders"), on="order_id")
    disc = disc.groupby("channel")["discount_rate"].mean()
    assert disc["distributor"] > disc["agent"] > disc["direct"]


def test_allocations_join_payment_and_invoice_of_one_customer(company):
    a = _t(company, "allocations")
    a = a.merge(_t(company, "payments")[["payment_id", "customer_id"]], on="payment_id")
    a = a.merge(_t(company, "invoices")[["invoice_id", "customer_id"]], on="invoice_id",
                suffixes=("_pay", "_inv"))
    assert (a["customer_id_pay"] == a["customer_id_inv"]).all()
    counts = _t(company, "allocations").groupby("payment_id").size()
    assert (counts > 1).any()  # payment runs pay several invoices at once
    pay = _t(company, "payments")
    single = pay[pay["payment_id"].map(counts) == 1]
    assert 0.6 < single["reference"].notna().mean() < 0.95
    ref = single.dropna(subset=["reference"]).merge(
        _t(company, "allocations"), on="payment_id")
    assert (ref["reference"] == ref["invoice_id"]).all()
    assert pay.loc[pay["payment_id"].map(counts) > 1, "reference"].isna().all()


def test_dates_are_consistent(company):
    inv, orders = _t(company, "invoices"), _t(company, "orders")
    ship = _t(company, "shipments")
    j = ship.merge(orders, on="order_id").merge(inv[["order_id", "invoice_date"]], on="order_id",
                                                how="left")
    assert (j["ship_date"] >= j["order_date"]).all()
    assert (j.dropna(subset=["invoice_date"])["ship_date"]
            <= j.dropna(subset=["invoice_date"])["invoice_date"]).all()
    j = ship.merge(_t(company, "batches"), on="batch_id", suffixes=("", "_b"))
    assert (j["production_date"] < j["ship_date"]).all()
    assert (j["ship_date"] <= j["expiry_date"]).all()
    assert (j["sku"] == j["sku_b"]).all()
    cust = _t(company, "customers")
    due = inv.merge(cust, on="customer_id")
    assert ((due["due_date"] - due["invoice_date"]).dt.days == due["payment_terms_days"]).all()
    assert (due["opened_date"] < due["invoice_date"]).all()
    alloc = _t(company, "allocations").merge(_t(company, "payments"), on="payment_id").merge(
        inv, on="invoice_id")
    assert (alloc["payment_date"] >= alloc["invoice_date"]).all()
    act = _t(company, "collection_actions").merge(inv, on="invoice_id")
    assert (act["action_date"] >= act["invoice_date"]).all()
    adj = _t(company, "adjustments").merge(inv, on="invoice_id")
    assert (adj["adjustment_date"] > adj["invoice_date"]).all()


def test_invoices_span_the_months_up_to_end(company):
    inv = _t(company, "invoices")
    assert inv["invoice_date"].max() <= END
    assert inv["invoice_date"].min() >= pd.Timestamp("2023-11-01")
    assert inv["invoice_date"].dt.to_period("M").nunique() == 36


def test_nothing_happens_after_the_extract_date(company):
    events = {
        "customers": ["opened_date"], "batches": ["production_date"], "orders": ["order_date"],
        "shipments": ["ship_date"], "invoices": ["invoice_date"], "payments": ["payment_date"],
        "adjustments": ["adjustment_date"], "collection_actions": ["action_date"],
    }
    for table, cols in events.items():
        for col in cols:
            assert _t(company, table)[col].max() <= END, (table, col)
    # the future exists only where it should: due dates, expiry, promises, next year's targets
    targets = _t(company, "targets")
    assert targets["period"].max() == pd.Timestamp("2027-10-01")
    assert targets.groupby("period").size().eq(7).all()
    assert len(targets["period"].unique()) == 48


def test_orders_status_matches_their_documents(company):
    orders = _t(company, "orders").set_index("order_id")
    invoiced = set(_t(company, "invoices")["order_id"])
    shipped = set(_t(company, "shipments")["order_id"])
    status = orders["status"]
    assert set(status[status.isin(["invoiced", "closed"])].index) == invoiced
    assert not (set(status[status.isin(["entered", "approved", "cancelled"])].index) & shipped)
    assert set(status[status == "shipped"].index) <= shipped
    money = _open_amounts(company)
    closed = status.loc[_t(company, "invoices").set_index("invoice_id")["order_id"]].to_numpy()
    assert ((closed == "closed") == (money["open"] == 0).to_numpy()).all()
    pending = orders[orders["status"].isin(["entered", "approved", "shipped"])]
    assert (pending["order_date"] >= END - pd.Timedelta(days=21)).all()


def test_written_off_invoices_have_no_balance_left(company):
    adj = _t(company, "adjustments")
    wo = adj[adj["kind"] == "write_off"]
    assert len(wo) > 0
    money = _open_amounts(company)
    assert (money.loc[wo["invoice_id"], "open"] == 0).all()
    inv = _t(company, "invoices").set_index("invoice_id")
    days = wo.set_index("invoice_id")["adjustment_date"] - inv.loc[wo["invoice_id"], "due_date"]
    days = days.dt.days
    assert days.between(240, 600).all()


# ---------------------------------------------------------------------------
# Stock: batches and FEFO
# ---------------------------------------------------------------------------
def test_shipped_quantity_per_batch_within_batch_quantity(company):
    b = _t(company, "batches").set_index("batch_id")
    shipped = _t(company, "shipments").groupby("batch_id")["quantity"].sum()
    assert (shipped <= b.loc[shipped.index, "quantity"]).all()
    assert not b.loc[shipped.index, "qc_status"].ne("released").any()
    lines = _t(company, "order_lines").set_index(["order_id", "sku"])["quantity"]
    by_line = _t(company, "shipments").groupby(["order_id", "sku"])["quantity"].sum()
    assert (by_line <= lines.groupby(level=[0, 1]).sum().loc[by_line.index]).all()
    assert _t(company, "shipments").duplicated(["order_id", "sku"], keep=False).any()  # splits


def test_unsold_stock_exists_some_near_expiry(company):
    b = _t(company, "batches").set_index("batch_id")
    shipped = _t(company, "shipments").groupby("batch_id")["quantity"].sum()
    left = b["quantity"] - shipped.reindex(b.index, fill_value=0)
    released = b["qc_status"] == "released"
    assert (left[released] > 0).sum() >= len(_t(company, "products")) // 2
    near = released & (left > 0) & (b["expiry_date"] > END) & (
        b["expiry_date"] <= END + pd.Timedelta(days=90))
    assert near.sum() >= 1
    assert (b["qc_status"] != "released").sum() >= 2


def test_first_expiry_first_out(company):
    """No shipment draws on a batch while an earlier-expiring released batch of its SKU had stock.

    Shipments are replayed in id order (which is shipping order); for each row we
    compute the stock each other released, already produced, unexpired batch of
    the SKU still held just before it, and ask that every batch ranked earlier
    in (expiry, batch_id) order be empty.
    """
    ship = _t(company, "shipments").sort_values("shipment_id").reset_index(drop=True)
    b = _t(company, "batches")
    rel = b[b["qc_status"] == "released"].sort_values(["sku", "expiry_date", "batch_id"])
    rel = rel.assign(rank=rel.groupby("sku").cumcount())
    ship = ship.merge(rel[["batch_id", "rank"]], on="batch_id", how="left", validate="m:1")
    ship["pos"] = np.arange(len(ship))
    # cumulative quantity drawn from each batch up to and including each row
    ship["drawn"] = ship.groupby("batch_id")["quantity"].cumsum()
    pairs = ship[["pos", "sku", "ship_date", "rank"]].merge(
        rel[["sku", "batch_id", "rank", "production_date", "expiry_date", "quantity"]],
        on="sku", suffixes=("", "_other"))
    earlier = pairs[(pairs["rank_other"] < pairs["rank"])
                    & (pairs["production_date"] <= pairs["ship_date"])
                    & (pairs["expiry_date"] >= pairs["ship_date"])]
    # stock of the earlier batch just before this row = quantity - drawn by rows before it
    before = ship[["pos", "batch_id", "drawn"]].rename(columns={"pos": "pos_b"})
    earlier = earlier.merge(before, on="batch_id", how="left")
    drawn_before = (earlier[earlier["pos_b"] < earlier["pos"]]
                    .groupby(["pos", "batch_id"])["drawn"].max())
    need = earlier.drop_duplicates(["pos", "batch_id"]).set_index(["pos", "batch_id"])["quantity"]
    stock = need - drawn_before.reindex(need.index, fill_value=0)
    assert len(need) > 0
    assert (stock == 0).all(), stock[stock != 0].head()


# ---------------------------------------------------------------------------
# Determinism
# ---------------------------------------------------------------------------
def test_same_seed_gives_identical_tables(company):
    again = make_demo(n_invoices=N, seed=7)
    for name, df in company.ledger.tables.items():
        pd.testing.assert_frame_equal(again.ledger.tables[name], df, check_exact=True)
    pd.testing.assert_frame_equal(again.truth_invoices, company.truth_invoices, check_exact=True)
    pd.testing.assert_frame_equal(again.truth_customers, company.truth_customers, check_exact=True)
    assert again.ledger.fingerprint() == company.ledger.fingerprint()


def test_different_seed_differs(company):
    other = make_ledger(n_invoices=N, seed=8)
    assert other.fingerprint() != company.ledger.fingerprint()
    assert not other.invoices["amount"].equals(company.ledger.invoices["amount"])


@pytest.mark.parametrize("kwargs, match", [
    ({"n_invoices": 10}, "n_invoices must be an integer of at least 100; got 10"),
    ({"seed": -1}, "seed must be a non-negative integer; got -1"),
    ({"months": 0}, "months must be an integer from 1 to 120; got 0"),
    ({"end": "1999-12-31"}, "end must lie between 2010-01-01 and 2039-06-30; got '1999-12-31'"),
    ({"end": "not a date"}, "end must be a date such as '2026-10-31'; got 'not a date'"),
])
def test_bad_arguments_are_named(kwargs, match):
    with pytest.raises(ParamsError, match=match):
        make_demo(**kwargs)


def test_other_end_and_span():
    co = make_demo(n_invoices=500, seed=1, end="2025-03-15", months=12)
    inv = co.ledger.invoices
    assert inv["invoice_date"].max() <= pd.Timestamp("2025-03-15")
    assert inv["invoice_date"].min() >= pd.Timestamp("2024-04-01")
    assert co.ledger.payments["payment_date"].max() <= pd.Timestamp("2025-03-15")


# ---------------------------------------------------------------------------
# Designed behaviour: risk by type, truth, seasonality
# ---------------------------------------------------------------------------
def test_truth_matches_the_ledger(company):
    ti, tc = company.truth_invoices, company.truth_customers
    assert (ti["invoice_id"] == _t(company, "invoices")["invoice_id"]).all()
    assert (tc["customer_id"] == _t(company, "customers")["customer_id"]).all()
    assert ti["p_late"].between(0, 1).all() and (ti["p_late"] >= ti["p_default"]).all()
    money = _open_amounts(company)
    assert (ti["settled_by_end"].to_numpy() == ((money["open"] == 0).to_numpy()
                                                & ~ti["defaulted"].to_numpy())).all()
    # realised late payments agree with the drawn outcome
    known = ti.dropna(subset=["days_late_actual"])
    assert ((known["days_late_actual"] > 30) == known["late"]).all()
    wo = _t(company, "adjustments").query("kind == 'write_off'")["invoice_id"]
    assert ti.set_index("invoice_id").loc[wo, "defaulted"].all()


def test_true_probabilities_are_spread_and_calibrated(big):
    ti = big.truth_invoices
    p = ti["p_late"]
    assert p.quantile(0.1) < 0.2 and p.quantile(0.9) > 0.6
    assert abs(ti["late"].mean() - p.mean()) < 0.01
    assert abs(ti["defaulted"].mean() - ti["p_default"].mean()) < 0.005
    deciles = pd.qcut(p, 10, labels=False)
    by = ti.groupby(deciles).agg(p=("p_late", "mean"), y=("late", "mean"))
    assert (by["y"].diff().dropna() > -0.03).all()
    assert ((by["y"] - by["p"]).abs() < 0.05).all()


def test_risk_by_customer_type_is_ordered_as_designed(big):
    ti = big.truth_invoices.merge(big.ledger.customers[["customer_id", "customer_type"]])
    rates = ti.groupby("customer_type")[["defaulted", "late"]].mean()
    for risky in ("clinic", "agent"):
        assert rates.loc[risky, "defaulted"] > 3 * rates.loc["tertiary_hospital", "defaulted"]
    assert rates.loc["tertiary_hospital", "late"] > rates.loc["pharmacy", "late"]
    adj = big.ledger.adjustments.merge(big.ledger.invoices, on="invoice_id", suffixes=("", "_inv"))
    wo = adj[adj["kind"] == "write_off"].merge(big.ledger.customers, on="customer_id")
    per_invoice = wo["customer_type"].value_counts() / ti["customer_type"].value_counts()
    assert per_invoice["clinic"] > per_invoice.get("tertiary_hospital", 0)
    late_days = ti.dropna(subset=["days_late_actual"]).groupby("customer_type")["days_late_actual"]
    assert late_days.mean()["tertiary_hospital"] > late_days.mean()["pharmacy"]
    # defaults concentrate in few customers
    per_cust = ti.groupby("customer_id")["defaulted"].sum().sort_values(ascending=False)
    top = per_cust.iloc[: len(per_cust) // 10].sum() / per_cust.sum()
    assert top > 0.4


def test_seasonality_and_growth(big):
    inv = big.ledger.invoices
    monthly = inv.groupby(inv["invoice_date"].dt.to_period("M"))["amount"].sum()
    by_month = monthly.groupby(monthly.index.month).mean()
    assert by_month[12] > 1.2 * by_month[2]
    assert by_month[12] == by_month.max()
    yearly = inv.groupby(inv["invoice_date"].dt.to_period("Q"))["amount"].sum()
    growth = (yearly.iloc[-8:-4].sum() / yearly.iloc[-12:-8].sum()) - 1
    assert 0.10 < growth < 0.40
    # targets are in the range of actual sales
    targets = big.ledger.targets.groupby("period")["target_amount"].sum()
    actual = inv.groupby(inv["invoice_date"].dt.to_period("M").dt.start_time)["amount"].sum()
    ratio = (targets.reindex(actual.index) / actual).median()
    assert 0.9 < ratio < 1.3


def test_dunning_follows_the_stages(company):
    act = _t(company, "collection_actions").merge(_t(company, "invoices"), on="invoice_id")
    days = (act["action_date"] - act["due_date"]).dt.days
    first_day = days.groupby(act["stage"]).min()
    assert first_day["pre_due_reminder"] == -3
    assert first_day["overdue_call"] >= 1 and first_day["supervisor_escalation"] >= 15
    assert first_day["finance_letter"] >= 45 and first_day["legal_review"] >= 120
    promises = act[act["outcome"] == "promise_to_pay"]
    assert promises["promise_date"].notna().all() and promises["promise_amount"].notna().all()
    assert act.loc[act["outcome"] != "promise_to_pay", "promise_date"].isna().all()
    assert (promises["promise_date"] > promises["action_date"]).all()
    assert (act["outcome"] == "dispute").any()
    # promises kept and broken: the invoice settled by the promised date or not
    ti = company.truth_invoices.set_index("invoice_id")
    settle = ti.loc[promises["invoice_id"], "settle_date"].to_numpy()
    kept = settle <= promises["promise_date"].to_numpy()
    assert 0.1 < kept.mean() < 0.9


# ---------------------------------------------------------------------------
# Writing
# ---------------------------------------------------------------------------
def test_write_demo_round_trip(tmp_path):
    from medrisk.data import load_ledger

    out = write_demo(tmp_path / "demo", n_invoices=600, seed=2)
    assert (out / "invoices.parquet").exists()
    assert (out / "ground_truth" / "invoices.parquet").exists()
    loaded = load_ledger(out, strict=True)
    original = make_ledger(n_invoices=600, seed=2)
    assert set(loaded.tables) == set(original.tables)
    for name, df in original.tables.items():
        pd.testing.assert_frame_equal(loaded.tables[name].reset_index(drop=True), df,
                                      check_dtype=False, obj=name)
    truth = pd.read_parquet(out / "ground_truth" / "invoices.parquet")
    assert len(truth) == 600 and "p_late" in truth


def test_late_label_from_the_ledger_equals_the_drawn_outcome(company):
    """Open balance 30 days after due (payments and adjustments dated by then) > 0 <=> late.

    This is how a credit model labels invoices from the ledger; for every
    invoice whose due date + 30 days is on or before the extract date it must
    reproduce the outcome drawn with probability ``p_late``.
    """
    inv = _t(company, "invoices").set_index("invoice_id")
    cutoff = inv["due_date"] + pd.Timedelta(days=30)
    alloc = _t(company, "allocations").merge(_t(company, "payments"), on="payment_id",
                                             suffixes=("", "_pay"))
    alloc = alloc[alloc["payment_date"].to_numpy() <= cutoff.loc[alloc["invoice_id"]].to_numpy()]
    adj = _t(company, "adjustments")
    adj = adj[adj["adjustment_date"].to_numpy() <= cutoff.loc[adj["invoice_id"]].to_numpy()]
    paid = alloc.groupby("invoice_id")["amount"].sum().reindex(inv.index, fill_value=0)
    adjusted = adj.groupby("invoice_id")["amount"].sum().reindex(inv.index, fill_value=0)
    late = (inv["amount"] - paid - adjusted) > 0
    known = (cutoff <= END).to_numpy()
    truth = company.truth_invoices.set_index("invoice_id")["late"]
    assert known.sum() > N // 2
    assert (late[known] == truth[known]).all()
