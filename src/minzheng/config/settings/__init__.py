"""Settings, composed by concern: base, database, security, logging."""

from minzheng.config.settings.base import *  # noqa: F403
from minzheng.config.settings.database import *  # noqa: F403
from minzheng.config.settings.logging import *  # noqa: F403
from minzheng.config.settings.security import *  # noqa: F403
