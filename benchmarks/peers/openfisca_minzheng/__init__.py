"""A minimal OpenFisca country package for Minzheng's dibao and age-allowance rules.

The peer of ``benchmarks/bench_rules.py``: the same rules as
``src/minzheng/policy/variables/{general,dibao,low_income,extreme_poverty,age_allowance}``
written the OpenFisca way (entities, YAML parameters, one class per variable, numpy
formulas), so that both engines can be run on the same synthetic households and their
amounts compared to the fen. Only what ``dibao`` and ``age_allowance`` depend on is
modelled: the dibao means test and amount with the classified add-ons, single-person
cover (which needs the low-income test) and gradual exit, and the extreme-poverty
eligibility that replaces dibao for a person.

    from benchmarks.peers.openfisca_minzheng import MinzhengTaxBenefitSystem
    from benchmarks.peers.openfisca_minzheng.run import simulate
"""

from __future__ import annotations

from pathlib import Path

from openfisca_core.taxbenefitsystems import TaxBenefitSystem

from benchmarks.peers.openfisca_minzheng.entities import entities

HERE = Path(__file__).resolve().parent


class MinzhengTaxBenefitSystem(TaxBenefitSystem):
    def __init__(self) -> None:
        super().__init__(entities)
        self.add_variables_from_directory(str(HERE / "variables"))
        self.load_parameters(str(HERE / "parameters"))

    def get_package_metadata(self) -> dict[str, str]:
        # not an installed distribution: say so instead of logging a warning per file
        return {
            "name": "openfisca-minzheng (benchmark peer)",
            "version": "0",
            "repository_url": "",
            "location": str(HERE),
        }
