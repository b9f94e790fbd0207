"""Fixtures of the application and ledger tests, reused by the casework tests."""

from tests.applications.conftest import api, poor
from tests.benefits.conftest import inline_payroll, second_approver, today

__all__ = ["api", "inline_payroll", "poor", "second_approver", "today"]
