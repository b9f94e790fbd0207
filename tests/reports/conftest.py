"""Fixtures of the ledger's tests, reused by the report tests (payrolls computed inline,
the second approver, the workflow's clock)."""

from tests.benefits.conftest import inline_payroll, second_approver, today

__all__ = ["inline_payroll", "second_approver", "today"]
