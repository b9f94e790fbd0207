"""Writes for accounts: users, API tokens, access-log entries."""

from __future__ import annotations

import hashlib
import secrets

from django.db import transaction
from django.utils import timezone

from minzheng.accounts.errors import AccessErrorCode
from minzheng.accounts.models import AccessAction, AccessLog, ApiToken, User
from minzheng.accounts.roles import Department, Role
from minzheng.core.errors import ApplicationError, NotFound
from minzheng.registry.models import Division, Household, Person


def user_create(
    *,
    username: str,
    role: str,
    division_code: str | None,
    password: str | None = None,
    department: str = "",
    household: Household | None = None,
    display_name: str = "",
) -> User:
    if role not in Role.values:
        raise ApplicationError(
            AccessErrorCode.ROLE_UNKNOWN, f"未知角色：{role}（可选：{', '.join(Role.values)}）"
        )
    if User.objects.filter(username=username).exists():
        raise ApplicationError(AccessErrorCode.USER_EXISTS, f"用户名 {username} 已存在", status=409)
    if role == Role.DEPARTMENT_LIAISON and department not in Department.values:
        raise ApplicationError(
            AccessErrorCode.DEPARTMENT_REQUIRED,
            f"委办局联络员必须指定所属委办局（可选：{', '.join(Department.values)}）",
        )
    division = None
    if role == Role.RESIDENT:
        if household is None:
            raise ApplicationError("user.household_required", "居民账户必须关联本人家庭")
        division = household.division
    else:
        division = Division.objects.filter(code=division_code or "").first()
        if division is None:
            raise ApplicationError(
                AccessErrorCode.DIVISION_NOT_FOUND, f"区划代码 {division_code} 不存在"
            )
    with transaction.atomic():
        user = User(
            username=username,
            role=role,
            division=division,
            department=department,
            household=household,
            first_name=display_name,
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
    return user


def token_create(*, username: str) -> str:
    """Issue a new API token for the user; only its hash is kept."""
    user = User.objects.filter(username=username, is_active=True).first()
    if user is None:
        raise NotFound(AccessErrorCode.USER_NOT_FOUND, f"用户 {username} 不存在或已停用")
    token = "mz_" + secrets.token_urlsafe(32)
    ApiToken.objects.create(
        user=user, key_hash=hashlib.sha256(token.encode()).hexdigest(), prefix=token[:8]
    )
    return token


def token_authenticate(token: str) -> User | None:
    digest = hashlib.sha256(token.encode()).hexdigest()
    row = (
        ApiToken.objects.select_related("user", "user__division")
        .filter(key_hash=digest, revoked_at__isnull=True, user__is_active=True)
        .first()
    )
    if row is None:
        return None
    now = timezone.now()
    if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
        ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
    return row.user


def access_log_record(
    *,
    actor: User,
    household: Household,
    persons: list[Person],
    action: str = AccessAction.VIEW,
    reason: str = "",
    channel: str = "web",
) -> None:
    """Log one read per person of the household file that was shown."""
    rows = [
        AccessLog(
            actor=actor,
            person=person,
            household=household,
            division_id=household.division_id,
            action=action,
            reason=reason[:200],
            channel=channel,
        )
        for person in persons
    ]
    AccessLog.objects.bulk_create(rows)


SYSTEM_USERNAME = "system"


def system_user() -> User:
    """The account that command-line batch work runs as, so its reads are logged too."""
    user = User.objects.filter(username=SYSTEM_USERNAME).first()
    if user is None:
        user = user_create(
            username=SYSTEM_USERNAME, role=Role.ADMIN, division_code="110000", display_name="命令行"
        )
    return user
