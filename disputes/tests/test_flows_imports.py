"""disputes/flows/ is a namespace folder of the disputes app (no __init__.py), which grimp and
so `lint-imports` do not read: the layers rule for it is checked here instead. A flow may import
disputes and every layer below it, never the site above (portal)."""

import ast
from pathlib import Path

FLOWS = Path(__file__).resolve().parents[1] / "flows"
ABOVE = ("portal",)


def test_flows_import_only_downwards():
    modules = sorted(FLOWS.glob("*.py"))
    assert {m.stem for m in modules} == {"filing", "decision", "escrow"}
    for module in modules:
        for node in ast.walk(ast.parse(module.read_text())):
            names = (
                [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else []
            )
            for name in names:
                assert name.split(".")[0] not in ABOVE, f"{module.name} imports {name}"
