"""Rule files: one concept per file (see docs/subsystems/rules.md)."""
