"""The kernel: what every app may import and what imports no app (docs/architecture.md)."""
