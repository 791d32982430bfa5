"""The security steps the audit trail records, named `area:subject:outcome` (warehouse style)."""

from enum import StrEnum


class EventTag(StrEnum):
    LOGIN_SUCCESS = "account:login:success"
    LOGIN_FAILURE = "account:login:failure"
    LOGIN_THROTTLED = "account:login:throttled"
    LOGIN_LETTER_UNUSABLE = "account:login:letter_unusable"
    LOGIN_PROVISIONAL = "account:login:provisional"
    LOGOUT = "account:logout"
    LETTER_ISSUED = "account:letter:issued"
    ACTIVATION_SUCCESS = "account:activation:success"
    ACTIVATION_FAILURE = "account:activation:failure"
    ACTIVATION_ABANDONED = "account:activation:abandoned"
    EMAIL_VERIFICATION_SENT = "account:email:verification_sent"
    EMAIL_VERIFIED = "account:email:verified"
    EMAIL_VERIFICATION_FAILURE = "account:email:verification_failure"
