"""Contracts version 2: deployments of version 1 keep their address under their version's name
(LicenseMarketV1, ProvenanceRegistryV1), so version 2 is deployed beside them and version 1's
unclaimed allocations, balances and anchored roots stay reachable."""

from django.db import migrations

# keccak of each version-1 artifact's bytecode (contracts/build/*V1.json, frozen)
VERSION_ONE = {
    "LicenseMarket": ("LicenseMarketV1", "0x0000beb0ebfd5a8c70458a0010d60b6e12cef01161490a8ecf024ce5265af3dd"),
    "ProvenanceRegistry": (
        "ProvenanceRegistryV1",
        "0x423ed3605bd81a70917c962a592d0e0609417ac00af904a482f1bbc95b450ab9",
    ),
}


def forwards(apps, schema_editor):
    ContractDeployment = apps.get_model("chain", "ContractDeployment")
    for old, (new, bytecode_hash) in VERSION_ONE.items():
        for row in ContractDeployment.objects.filter(name=old, bytecode_hash=bytecode_hash):
            if not ContractDeployment.objects.filter(chain_id=row.chain_id, name=new).exists():
                ContractDeployment.objects.filter(pk=row.pk).update(name=new)


def backwards(apps, schema_editor):
    ContractDeployment = apps.get_model("chain", "ContractDeployment")
    for old, (new, _) in VERSION_ONE.items():
        for row in ContractDeployment.objects.filter(name=new):
            if not ContractDeployment.objects.filter(chain_id=row.chain_id, name=old).exists():
                ContractDeployment.objects.filter(pk=row.pk).update(name=old)


class Migration(migrations.Migration):
    dependencies = [("chain", "0002_eventdelivery_chainevent_generation_and_more")]

    operations = [migrations.RunPython(forwards, backwards)]
