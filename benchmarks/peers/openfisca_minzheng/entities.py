"""Two entities, as in Minzheng's engine: a person, and the household they belong to."""

from openfisca_core.entities import build_entity

Household = build_entity(
    key="household",
    plural="households",
    label="家庭",
    doc="A household document: the people living together and their assets.",
    roles=[{"key": "member", "plural": "members", "label": "成员"}],
)

Person = build_entity(
    key="person",
    plural="persons",
    label="成员",
    doc="One member of a household.",
    is_person=True,
)

entities = [Household, Person]
