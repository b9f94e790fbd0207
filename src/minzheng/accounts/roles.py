"""Roles of CONTRACTS.md and what each may do with the registry."""

from __future__ import annotations

from django.db import models


class Role(models.TextChoices):
    RESIDENT = "resident", "居民"
    COMMUNITY_WORKER = "community_worker", "社区工作者"
    STREET_REVIEWER = "street_reviewer", "街道审核员"
    DISTRICT_APPROVER = "district_approver", "区级审批员"
    DEPARTMENT_LIAISON = "department_liaison", "委办局联络员"
    SERVICE_PROVIDER = "service_provider", "加盟服务商"
    AUDITOR = "auditor", "审计监督员"
    ADMIN = "admin", "系统管理员"


class Department(models.TextChoices):
    CIVIL_AFFAIRS = "civil_affairs", "民政局"
    HUMAN_RESOURCES = "human_resources", "人力资源和社会保障局"
    HEALTH = "health", "卫生健康委员会"
    MEDICAL_SECURITY = "medical_security", "医疗保障局"
    EDUCATION = "education", "教育委员会"
    HOUSING = "housing", "住房和城乡建设委员会"
    DISABLED_PERSONS = "disabled_persons", "残疾人联合会"
    RED_CROSS = "red_cross", "红十字会"
    CHARITY = "charity", "慈善协会"
    JUSTICE = "justice", "司法局"
    TRADE_UNION = "trade_union", "总工会"
    WOMEN = "women", "妇女联合会"


# Staff who read the registry within their division's subtree.
REGISTRY_READERS = frozenset(
    {
        Role.COMMUNITY_WORKER,
        Role.STREET_REVIEWER,
        Role.DISTRICT_APPROVER,
        Role.DEPARTMENT_LIAISON,
        Role.AUDITOR,
        Role.ADMIN,
    }
)
# Staff who change it.
REGISTRY_WRITERS = frozenset(
    {Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER, Role.ADMIN}
)
# Who may see a full ID number, always with a reason that is logged.
ID_REVEALERS = frozenset(
    {Role.COMMUNITY_WORKER, Role.STREET_REVIEWER, Role.DISTRICT_APPROVER, Role.AUDITOR, Role.ADMIN}
)
# Who may search the access log.
ACCESS_LOG_READERS = frozenset({Role.AUDITOR, Role.ADMIN})
