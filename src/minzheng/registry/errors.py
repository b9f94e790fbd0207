from enum import StrEnum


class RegistryErrorCode(StrEnum):
    ID_NUMBER_REGISTERED = "person.id_number_registered"
    ID_NUMBER_DUPLICATE_IN_BATCH = "person.duplicate_in_file"
    DIVISION_UNKNOWN = "division.unknown"
    DIVISION_OUT_OF_SCOPE = "division.out_of_scope"
    PERSON_NOT_IN_HOUSEHOLD = "person.not_in_household"
    HEAD_COUNT = "household.head_count"
    NO_MEMBERS_LEFT = "household.no_members"
    REASON_REQUIRED = "history.reason_required"
    REVEAL_REASON = "reveal.reason_required"
    REVEAL_FORBIDDEN = "permission.reveal"
