from __future__ import annotations

from minzheng.config import env

SECRET_KEY = env.SECRET_KEY
FIELD_KEY = env.FIELD_KEY
LOOKUP_KEY = env.LOOKUP_KEY
ALLOWED_HOSTS = env.ALLOWED_HOSTS + (["testserver"] if env.DEBUG else [])
CSRF_TRUSTED_ORIGINS = env.CSRF_TRUSTED_ORIGINS
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = env.SECURE_COOKIES
CSRF_COOKIE_SECURE = env.SECURE_COOKIES
SESSION_COOKIE_AGE = 8 * 60 * 60
X_FRAME_OPTIONS = "DENY"
SECURE_CONTENT_TYPE_NOSNIFF = True
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
]
