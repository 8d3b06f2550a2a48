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
from schemathesis.generation import GenerationMode
from schemathesis.specs.openapi.checks import positive_data_acceptance

from licensing import services
from licensing.terms import PRESETS
from royalties.tests.factories import work_row
from works.services import fingerprint_publish

EXAMPLES = 30


@pytest.fixture
def live_key(api_key, creator):
    """A key with every scope and a rate no fuzzer reaches, over three public works."""
    for preset in ("ai_training", "cc_by", "commercial_use"):
        work = work_row(creator.user, creator.address, title=preset)
        fingerprint_publish(work=work)
        services.offer_create(work=work, terms=PRESETS[preset][1], preset=preset)
    return api_key("read", "license", "report", rate=1_000_000)


def test_the_api_keeps_its_schema(live_server, chain, live_key):
    schema = schemathesis.openapi.from_url(f"{live_server.url}/api/v1/openapi.json")
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
                response = case.call_and_validate(
                    base_url=base_url, headers=headers, excluded_checks=[positive_data_acceptance]
                )
                statuses.setdefault(case.operation.label, set()).add(response.status_code)

            check()
            tried.append((operation.label, mode.value))
    assert len(tried) == 2 * len(operations)
    print(statuses)
    # the fuzzer reached the endpoints themselves, not only the router's 404
    assert 200 in statuses["GET /api/v1/me"] and 200 in statuses["POST /api/v1/manifest-checks"]
    assert 400 in statuses["POST /api/v1/manifest-checks"]
