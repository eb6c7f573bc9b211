"""Shared fixtures: a tiny, valid company with every canonical table."""

from __future__ import annotations

import os

import pandas as pd
import pytest

#: The database fixtures (demo company in SQLite and a throwaway PostgreSQL), shared by the
#: tests of medrisk.data.db, dbconnect, dbcache and dbwrite.
pytest_plugins = ["db_fixtures"]


def D(s):  # noqa: N802 - short date helper for readable fixtures
    return pd.Timestamp(s)


def tiny_tables() -> dict[str, pd.DataFrame]:
    """Every canonical table, a few rows each, all rules satisfied. Money in fen."""
    return {
        "salespeople": pd.DataFrame({
            "salesperson_id": ["S1", "S2"], "name": ["王伟", "李娜"],
            "team": ["华东一组", "华东一组"],
            "region": ["华东", "华东"], "manager_id": [None, "S1"],
        }),
        "customers": pd.DataFrame({
            "customer_id": ["C1", "C2", "C3"],
            "name": ["上海市第一人民医院", "苏州康宁诊所", "杭州医疗器械经销公司"],
            "customer_type": ["tertiary_hospital", "clinic", "distributor"],
            "region": ["华东"] * 3, "province": ["上海", "江苏", "浙江"],
            "channel": ["direct", "direct", "distributor"], "salesperson_id": ["S1", "S2", "S2"],
            "credit_limit": [500_000_00, 50_000_00, 200_000_00],
            "payment_terms_days": [180, 60, 90],
            "opened_date": [D("2020-01-01"), D("2021-06-01"), D("2019-03-15")],
        }),
        "products": pd.DataFrame({
            "sku": ["K1", "K2"], "name": ["超声诊断仪", "一次性采血针"],
            "category": ["equipment", "consumable"],
            "list_price": [120_000_00, 2_50], "shelf_life_days": [3650, 730],
            "cold_chain": [False, False],
            "registration_no": ["国械注准20193060001", "国械注准20182150002"],
        }),
        "batches": pd.DataFrame({
            "batch_id": ["B1", "B2"], "sku": ["K1", "K2"],
            "production_date": [D("2024-01-01"), D("2024-06-01")],
            "expiry_date": [D("2034-01-01"), D("2026-06-01")], "quantity": [10, 10_000],
            "warehouse": ["上海仓", "上海仓"], "qc_status": ["released", "released"],
        }),
        "orders": pd.DataFrame({
            "order_id": ["O1", "O2"], "customer_id": ["C1", "C2"],
            "order_date": [D("2025-01-02"), D("2025-02-01")], "salesperson_id": ["S1", "S2"],
            "channel": ["direct", "direct"], "status": ["invoiced", "invoiced"],
        }),
        "order_lines": pd.DataFrame({
            "order_id": ["O1", "O2"], "line_no": [1, 1], "sku": ["K1", "K2"], "quantity": [1, 400],
            "unit_price": [120_000_00, 2_50], "discount_rate": [0.0, 0.0],
        }),
        "shipments": pd.DataFrame({
            "shipment_id": ["SH1", "SH2"], "order_id": ["O1", "O2"],
            "ship_date": [D("2025-01-05"), D("2025-02-03")], "sku": ["K1", "K2"],
            "batch_id": ["B1", "B2"], "quantity": [1, 400],
        }),
        "invoices": pd.DataFrame({
            "invoice_id": ["I1", "I2", "I3"], "customer_id": ["C1", "C2", "C3"],
            "invoice_date": [D("2025-01-05"), D("2025-02-03"), D("2025-03-01")],
            "due_date": [D("2025-07-04"), D("2025-04-04"), D("2025-05-30")],
            "amount": [120_000_00, 1_000_00, 50_000_00], "order_id": ["O1", "O2", None],
            "salesperson_id": ["S1", "S2", "S2"], "product_line": ["超声", "耗材", "耗材"],
            "currency": ["CNY", "CNY", "CNY"],
        }),
        "payments": pd.DataFrame({
            "payment_id": ["P1", "P2"], "customer_id": ["C1", "C2"],
            "payment_date": [D("2025-08-01"), D("2025-04-10")], "amount": [60_000_00, 1_000_00],
            "method": ["银行转账", "银行转账"], "reference": ["I1", None],
        }),
        "allocations": pd.DataFrame({
            "payment_id": ["P1", "P2"], "invoice_id": ["I1", "I2"], "amount": [60_000_00, 900_00],
        }),
        "adjustments": pd.DataFrame({
            "adjustment_id": ["A1"], "invoice_id": ["I2"], "adjustment_date": [D("2025-04-10")],
            "amount": [100_00], "kind": ["discount"],
        }),
        "collection_actions": pd.DataFrame({
            "action_id": ["X1"], "customer_id": ["C1"], "invoice_id": ["I1"],
            "action_date": [D("2025-07-10")], "stage": ["overdue_call"], "channel": ["call"],
            "actor": ["S1"], "outcome": ["promise_to_pay"], "promise_date": [D("2025-07-31")],
            "promise_amount": [60_000_00],
        }),
        "targets": pd.DataFrame({
            "period": [D("2025-01-01"), D("2025-02-01")], "target_amount": [100_000_00, 100_000_00],
            "region": ["华东", "华东"], "channel": [None, None], "salesperson_id": [None, None],
            "product_line": [None, None],
        }),
    }


@pytest.fixture(autouse=True, scope="session")
def _private_ledger_cache(tmp_path_factory):
    """Validated loads kept for this test process only, never in the checkout's data/cache."""
    os.environ["MEDRISK_LEDGER_CACHE"] = str(tmp_path_factory.mktemp("ledger-cache"))


@pytest.fixture
def tables():
    return tiny_tables()


@pytest.fixture(scope="session")
def demo20k():
    """The 20,000-invoice demo company (seed 0), built once per test process. Read-only."""
    from medrisk.data.demo import make_demo

    return make_demo(n_invoices=20_000, seed=0)
