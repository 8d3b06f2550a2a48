"""schemathesis against /api/v1/openapi.json on the live test server: every operation, valid and
invalid inputs generated from the schema, sent with a real key to a server with real works and
a deployed LicenseMarket. No 5xx, and no response that breaks the schema (status declared,
JSON content type, body matching its schema). One check is left out: "positive data
acceptance" expects every schema-valid body to be accepted, but business rules the schema cannot
state (a paying wallet the organisation never registered, a work whose terms prohibit training)
are refused with a 4xx JSON error by design.

(schemathesis' pytest plugin does not run under pytest 9, so the operations are walked here
with each operation's Hypothesis strategy: the same generation and the same checks.)"""

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.config import SchemathesisConfig
from schemathesis.generation import GenerationMode

from licensing import services
from licensing.terms import PRESETS
from royalties.tests.factories import work_row
from works.services import fingerprint_publish

EXAMPLES = 30
# Every check runs. The API's contract (its description says so): 400 means the request does not
# match the schema, 422 that a well-formed request was refused by a rule the schema cannot state
# (a wallet the organisation never registered, terms that prohibit training). So schema-valid
# data must be answered 2xx, or 401/403/404/409/422/429, never 400.
CONFIG = SchemathesisConfig.from_dict(
    {
        "checks": {
            "positive_data_acceptance": {
                "expected-statuses": ["2xx", "401", "403", "404", "409", "410", "422", "429"]
            }
        }
    }
)


@pytest.fixture
def live_key(api_key, creator):
    """A key with every scope and a rate no fuzzer reaches, over three public works."""
    for preset in ("ai_training", "cc_by", "commercial_use"):
        work = work_row(creator.user, creator.address, title=preset)
        fingerprint_publish(work=work)
        services.offer_create(work=work, terms=PRESETS[preset][1], preset=preset)
    return api_key("read", "license", "report", rate=1_000_000)


def test_the_api_keeps_its_schema(live_server, chain, live_key):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json", config=CONFIG)
    headers = {"Authorization": f"Bearer {live_key}"}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 14, [op.label for op in operations]
    tried = []
    statuses: dict[str, set[int]] = {}
    base_url = live_server.url
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case):
                response = case.call_and_validate(base_url=base_url, headers=headers)
                statuses.setdefault(case.operation.label, set()).add(response.status_code)

            check()
            tried.append((operation.label, mode.value))
    assert len(tried) == 2 * len(operations)
    print(statuses)
    # the fuzzer reached the endpoints themselves, not only the router's 404
    assert 200 in statuses["GET /api/v1/me"] and 200 in statuses["POST /api/v1/manifest-checks"]
    assert 400 in statuses["POST /api/v1/manifest-checks"]


def test_every_schema_name_is_unique_so_the_document_says_what_each_answer_is():
    """ninja keys components by class name: two `MatchOut`s made the manifest check's match
    documented as an audit's. Every model of every router has a name of its own."""
    import importlib
    import inspect

    from pydantic import BaseModel

    from portal.api import api

    modules = {
        importlib.import_module(operation.view_func.__module__)
        for _, router in api._routers
        for path in router.path_operations.values()
        for operation in path.operations
    }
    assert len(modules) >= 3
    seen: dict[str, str] = {}
    for module in modules:
        for name, obj in inspect.getmembers(module, inspect.isclass):
            if issubclass(obj, BaseModel) and obj.__module__ == module.__name__:
                assert seen.setdefault(name, module.__name__) == module.__name__, (name, seen[name])
    schema = api.get_openapi_schema()
    match = schema["components"]["schemas"]["ManifestResult"]["properties"]["match"]["anyOf"][0]["$ref"]
    fields = schema["components"]["schemas"][match.rsplit("/", 1)[1]]["properties"]
    assert set(fields) == {"work_id", "title", "creator_address", "kind", "distance"}
