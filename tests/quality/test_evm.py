"""Earned Value and quality indicators: a published worked example, the edges, and ratings."""

from __future__ import annotations

from decimal import Decimal

import pytest

from quality import evm
from quality.models import Indicator, Phase, Rag

D = Decimal


def test_a_published_worked_example():
    """Intuit QuickBooks Canada, "Using earned value management to assess project performance"
    (quickbooks.intuit.com/ca/resources/running-a-business/using-earned-value-management):
    a year-long project with a total budget of $100,000, halfway through; $55,000 budgeted to
    the six-month mark, $45,000 spent, half the work done (EV = $100,000 * 0.5 = $50,000).
    It gives SV = -$5,000, SPI = 0.91, CV = $5,000, CPI = 1.11, EAC = $90,000. Its EAC divides
    by the rounded 1.11; from the unrounded CPI it is exactly 100,000 * 45,000 / 50,000. ETC,
    which it does not state, is EAC - AC (PMBOK Guide 6th ed., 7.4.2.2)."""
    found = evm.indicators(
        evm.Figures(
            budget_at_completion=D("100000"),
            planned_value=D("55000"),
            earned_value=D("50000"),
            actual_cost=D("45000"),
        )
    )
    assert found.schedule_variance == D("-5000.00")
    assert found.spi == D("0.9091")  # 0.91 to two places
    assert found.cost_variance == D("5000.00")
    assert found.cpi == D("1.1111")  # 1.11 to two places
    assert found.estimate_at_completion == D("90000.00")
    assert found.estimate_to_complete == D("45000.00")


def test_nothing_planned_nothing_spent_is_defined_not_an_error():
    found = evm.indicators(
        evm.Figures(
            budget_at_completion=D("100000"),
            planned_value=D("0"),
            earned_value=D("0"),
            actual_cost=D("0"),
        )
    )
    assert found.schedule_variance == D("0.00")
    assert found.cost_variance == D("0.00")
    assert found.spi is None  # no planned value: no schedule index
    assert found.cpi is None  # nothing spent: no cost index
    # Nothing spent: the rest is forecast to cost what was budgeted (EAC = AC + BAC - EV).
    assert found.estimate_at_completion == D("100000.00")
    assert found.estimate_to_complete == D("100000.00")
    assert found.test_density is None
    assert found.defect_detection_rate is None


def test_work_earned_before_any_cost_is_forecast_at_budget_rate():
    found = evm.indicators(
        evm.Figures(
            budget_at_completion=D("100000"),
            planned_value=D("10000"),
            earned_value=D("20000"),
            actual_cost=D("0"),
        )
    )
    assert found.spi == D("2.0000")
    assert found.cpi is None
    assert found.estimate_at_completion == D("80000.00")
    assert found.estimate_to_complete == D("80000.00")


def test_money_spent_and_nothing_earned_leaves_no_forecast():
    found = evm.indicators(
        evm.Figures(
            budget_at_completion=D("100000"),
            planned_value=D("10000"),
            earned_value=D("0"),
            actual_cost=D("5000"),
        )
    )
    assert found.spi == D("0.0000")
    assert found.cpi == D("0.0000")
    assert found.estimate_at_completion is None
    assert found.estimate_to_complete is None


def test_test_density_and_defect_detection():
    found = evm.indicators(
        evm.Figures(
            budget_at_completion=D("100"),
            planned_value=D("50"),
            earned_value=D("50"),
            actual_cost=D("50"),
            tests_run=360,
            size=D("12"),
            defects_before_release=45,
            defects_after_release=5,
        )
    )
    assert found.test_density == D("30.0000")  # tests run per KLOC
    assert found.defect_detection_rate == D("90.0000")  # % of defects found before release


def test_rated_values_judge_variances_as_shares_and_tests_only_once_testing():
    figures = evm.Figures(
        budget_at_completion=D("100000"),
        planned_value=D("55000"),
        earned_value=D("50000"),
        actual_cost=D("45000"),
        tests_run=10,
        size=D("1"),
    )
    found = evm.indicators(figures)
    building = evm.rated_values(found, figures, Phase.BUILD)
    assert building[Indicator.SV] == D("-9.0909")  # -5,000 of 55,000 planned
    assert building[Indicator.CV] == D("10.0000")  # 5,000 of 50,000 earned
    assert building[Indicator.EAC] == D("-10.0000")  # 90,000 against 100,000: under budget
    assert building[Indicator.TEST_DENSITY] is None
    assert evm.rated_values(found, figures, Phase.TEST)[Indicator.TEST_DENSITY] == D("10.0000")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (D("0.95"), Rag.GREEN),
        (D("0.9499"), Rag.AMBER),
        (D("0.85"), Rag.AMBER),
        (D("0.8499"), Rag.RED),
        (None, Rag.UNRATED),
    ],
)
def test_rating_better_higher(value, expected):
    assert evm.rate(value, indicator=Indicator.SPI, green=D("0.95"), red=D("0.85")) == expected


@pytest.mark.parametrize(
    ("value", "expected"),
    [(D("5"), Rag.GREEN), (D("5.01"), Rag.AMBER), (D("15"), Rag.AMBER), (D("15.01"), Rag.RED)],
)
def test_rating_better_lower(value, expected):
    assert evm.rate(value, indicator=Indicator.EAC, green=D("5"), red=D("15")) == expected


def test_a_project_is_as_healthy_as_its_worst_indicator():
    assert evm.overall({"spi": Rag.GREEN, "cpi": Rag.AMBER}) == Rag.AMBER
    assert evm.overall({"spi": Rag.RED, "cpi": Rag.GREEN}) == Rag.RED
    assert evm.overall({}) == Rag.UNRATED


def test_rate_all_leaves_out_what_has_no_value_or_no_threshold():
    ratings = evm.rate_all(
        {"spi": D("0.7"), "cpi": None, "sv": D("-1")},
        {"spi": (D("0.95"), D("0.85")), "cpi": (D("0.95"), D("0.85"))},
    )
    assert ratings == {"spi": Rag.RED}


@pytest.mark.parametrize(
    ("series", "trending"),
    [
        ([D("1.0"), D("0.98"), D("0.96"), D("0.94")], True),  # three falls
        ([D("1.0"), D("0.98"), D("0.96")], False),  # two falls only
        ([D("0.9"), D("1.0"), D("0.98"), D("0.96"), D("0.94")], True),  # the last three count
        ([D("1.0"), D("0.98"), D("0.98"), D("0.94")], False),  # a flat period breaks the run
        ([D("1.0"), D("0.98"), D("0.99"), D("0.94")], False),  # a rise breaks it
        ([D("1.0"), None, D("0.96"), D("0.94")], False),  # a period without a value too
    ],
)
def test_falling_three_periods_running(series, trending):
    assert evm.falling(series) is trending
