"""The region tables the adapters kept in code, as data (RegionMapping): editable in the admin.

Sources, as the adapters recorded them: Lambda's region list (SkyPilot's fetcher and the
descriptions Lambda's API returns), Verda's SDK Locations constants and /v1/locations answers,
Shadeform's reference and guides, SkyPilot's RunPod REGION_ZONES table, Hyperstack's documented
regions. (kind, code, country, city, the provider's own description)
"""

from django.db import migrations

MAPPINGS = [
    ('lambda', 'us-east-1', 'US', '', 'Virginia, USA'),
    ('lambda', 'us-east-2', 'US', 'Washington, D.C.', 'Washington DC, USA'),
    ('lambda', 'us-east-3', 'US', 'Washington, D.C.', 'Washington DC, USA'),
    ('lambda', 'us-midwest-1', 'US', '', 'Illinois, USA'),
    ('lambda', 'us-south-1', 'US', '', 'Texas, USA'),
    ('lambda', 'us-south-2', 'US', '', 'North Texas, USA'),
    ('lambda', 'us-south-3', 'US', '', 'Central Texas, USA'),
    ('lambda', 'us-west-1', 'US', '', 'California, USA'),
    ('lambda', 'us-west-2', 'US', '', 'Arizona, USA'),
    ('lambda', 'us-west-3', 'US', '', 'Utah, USA'),
    ('lambda', 'europe-central-1', 'DE', '', 'Germany'),
    ('lambda', 'europe-south-1', 'IT', '', 'Italy'),
    ('lambda', 'me-west-1', 'IL', '', 'Israel'),
    ('lambda', 'asia-south-1', 'IN', '', 'India'),
    ('lambda', 'asia-northeast-1', 'JP', 'Osaka', 'Osaka, Japan'),
    ('lambda', 'asia-northeast-2', 'JP', 'Tokyo', 'Tokyo, Japan'),
    ('lambda', 'australia-east-1', 'AU', 'Sydney', 'Sydney, Australia'),
    ('verda', 'FIN-01', 'FI', 'Helsinki', 'Finland 1'),
    ('verda', 'FIN-02', 'FI', 'Helsinki', 'Finland 2'),
    ('verda', 'FIN-03', 'FI', 'Helsinki', 'Finland 3'),
    ('verda', 'ICE-01', 'IS', 'Reykjanesbær', 'Iceland 1'),
    ('shadeform', 'canada-1', 'CA', '', ''),
    ('shadeform', 'norway-1', 'NO', '', ''),
    ('shadeform', 'us-central-1', 'US', '', ''),
    ('shadeform', 'us-central-2', 'US', '', ''),
    ('shadeform', 'us-east-1', 'US', '', ''),
    ('shadeform', 'us-east-2', 'US', '', ''),
    ('shadeform', 'us-west-1', 'US', '', ''),
    ('shadeform', 'us-west-2', 'US', '', ''),
    ('shadeform', 'us-west-3', 'US', '', ''),
    ('shadeform', 'us-south-1', 'US', '', ''),
    ('shadeform', 'us-midwest-1', 'US', '', ''),
    ('shadeform', 'us-east1-a', 'US', '', ''),
    ('shadeform', 'eu-iceland1-a', 'IS', '', ''),
    ('shadeform', 'dulles-usa-1', 'US', 'Dulles', ''),
    ('shadeform', 'houston-usa-1', 'US', 'Houston', ''),
    ('shadeform', 'desmoines-usa-1', 'US', 'Des Moines', ''),
    ('shadeform', 'kansascity-usa-1', 'US', 'Kansas City', ''),
    ('shadeform', 'kansascity-usa-2', 'US', 'Kansas City', ''),
    ('shadeform', 'helsinki-finland-1', 'FI', 'Helsinki', ''),
    ('shadeform', 'helsinki-finland-2', 'FI', 'Helsinki', ''),
    ('shadeform', 'helsinki-finland-5', 'FI', 'Helsinki', ''),
    ('shadeform', 'reykjanesbaer-iceland-1', 'IS', 'Reykjanesbær', ''),
    ('runpod', 'OC-AU-1', 'AU', '', ''),
    ('runpod', 'CA-MTL-1', 'CA', '', ''),
    ('runpod', 'CA-MTL-2', 'CA', '', ''),
    ('runpod', 'CA-MTL-3', 'CA', '', ''),
    ('runpod', 'CA-MTL-4', 'CA', '', ''),
    ('runpod', 'EU-CZ-1', 'CZ', '', ''),
    ('runpod', 'EU-DK-1', 'DK', '', ''),
    ('runpod', 'EU-FR-1', 'FR', '', ''),
    ('runpod', 'AP-IN-1', 'IN', '', ''),
    ('runpod', 'AP-IN-2', 'IN', '', ''),
    ('runpod', 'EUR-IS-1', 'IS', '', ''),
    ('runpod', 'EUR-IS-2', 'IS', '', ''),
    ('runpod', 'EUR-IS-3', 'IS', '', ''),
    ('runpod', 'EUR-IS-4', 'IS', '', ''),
    ('runpod', 'EUR-IS-5', 'IS', '', ''),
    ('runpod', 'AP-JP-1', 'JP', '', ''),
    ('runpod', 'EU-NL-1', 'NL', '', ''),
    ('runpod', 'EUR-NO-1', 'NO', '', ''),
    ('runpod', 'EUR-NO-2', 'NO', '', ''),
    ('runpod', 'EU-RO-1', 'RO', '', ''),
    ('runpod', 'EU-SE-1', 'SE', '', ''),
    ('runpod', 'EU-SE-2', 'SE', '', ''),
    ('runpod', 'SEA-SG-1', 'SG', '', ''),
    ('runpod', 'US-CA-1', 'US', '', ''),
    ('runpod', 'US-CA-2', 'US', '', ''),
    ('runpod', 'US-DE-1', 'US', '', ''),
    ('runpod', 'US-GA-1', 'US', '', ''),
    ('runpod', 'US-GA-2', 'US', '', ''),
    ('runpod', 'US-IL-1', 'US', '', ''),
    ('runpod', 'US-KS-1', 'US', '', ''),
    ('runpod', 'US-KS-2', 'US', '', ''),
    ('runpod', 'US-KS-3', 'US', '', ''),
    ('runpod', 'US-MD-1', 'US', '', ''),
    ('runpod', 'US-MO-1', 'US', '', ''),
    ('runpod', 'US-MO-2', 'US', '', ''),
    ('runpod', 'US-NC-1', 'US', '', ''),
    ('runpod', 'US-NC-2', 'US', '', ''),
    ('runpod', 'US-NE-1', 'US', '', ''),
    ('runpod', 'US-OR-1', 'US', '', ''),
    ('runpod', 'US-OR-2', 'US', '', ''),
    ('runpod', 'US-PA-1', 'US', '', ''),
    ('runpod', 'US-TX-1', 'US', '', ''),
    ('runpod', 'US-TX-2', 'US', '', ''),
    ('runpod', 'US-TX-3', 'US', '', ''),
    ('runpod', 'US-TX-4', 'US', '', ''),
    ('runpod', 'US-TX-5', 'US', '', ''),
    ('runpod', 'US-TX-6', 'US', '', ''),
    ('runpod', 'US-WA-1', 'US', '', ''),
    ('hyperstack', 'CANADA-1', 'CA', '', ''),
    ('hyperstack', 'NORWAY-1', 'NO', '', ''),
    ('hyperstack', 'US-1', 'US', '', ''),
]
SOURCES = {
    "lambda": "Lambda Cloud API region descriptions; SkyPilot fetch_lambda_cloud.py",
    "verda": "Verda SDK Locations; GET /v1/locations (country_code)",
    "shadeform": "Shadeform API reference and guides",
    "runpod": "SkyPilot fetch_runpod.py REGION_ZONES",
    "hyperstack": "Hyperstack documentation: regions",
}


def load(apps, schema_editor):
    RegionMapping = apps.get_model("sync", "RegionMapping")
    for kind, code, country, city, name in MAPPINGS:
        RegionMapping.objects.get_or_create(
            kind=kind,
            code=code,
            defaults={"country": country, "city": city, "name": name, "source": SOURCES[kind]},
        )


class Migration(migrations.Migration):
    dependencies = [("sync", "0006_region_mappings_and_review")]
    operations = [migrations.RunPython(load, migrations.RunPython.noop)]
