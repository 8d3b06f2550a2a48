"""Contract artifacts and deployment. The registry and market contracts arrive with their issues."""
