"""Stable error codes of the poverty index and ranking, with the messages tests import."""

from enum import StrEnum


class TargetingErrorCode(StrEnum):
    READERS_ONLY = "targeting.registry_readers_only"
    NO_MEMBERS = "targeting.no_members"


READERS_ONLY_MESSAGE = "贫困指数与排序只对可查看登记数据的工作人员开放，居民和服务商不能查看"
NO_MEMBERS_MESSAGE = "该户没有在册成员，无法计算贫困指数"
