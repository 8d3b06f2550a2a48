"""Signals the kernel sends; the apps above connect to them in their AppConfig.ready (the kernel
imports no app).

- `profile_changed`: sender `core.models.Profile`, kwargs `profile`. Sent inside the transaction
  that saves a person's display name, so a receiver's writes (licensing refreshes the catalogue
  rows that show the name) commit with it."""

from django.dispatch import Signal

profile_changed = Signal()
