"""Measure how many GPU names of public cloud catalogs resolve, read through the provider feed.

    python manage.py gpu_names_coverage sync/tests/data/public_gpu_catalogs.csv

The file's format is described at its top. Prints the rate per provider and overall, and every
name that does not resolve with why (unknown, ambiguous with the models that fit, contradiction).
"""

from pathlib import Path

from django.core.management.base import BaseCommand

from sync.coverage import catalog_rows, gpu_names_coverage

DEFAULT = Path(__file__).resolve().parents[2] / "tests" / "data" / "public_gpu_catalogs.csv"


class Command(BaseCommand):
    help = "Resolve the GPU names of public cloud catalogs (a CSV) through the feed and print the rate."

    def add_arguments(self, parser):
        parser.add_argument("file", nargs="?", default=str(DEFAULT), help="The catalogs (CSV).")

    def handle(self, *args, file: str, **options):
        coverage = gpu_names_coverage(catalog_rows(Path(file)))
        for provider, (resolved, total) in sorted(coverage.by_provider.items()):
            self.stdout.write(f"{provider:14} {resolved:4} / {total:4}  {resolved / total:6.1%}")
        self.stdout.write(f"{'all':14} {coverage.resolved:4} / {coverage.total:4}  {coverage.rate:6.1%}")
        for provider, instance_type, name, status, candidates, facts in coverage.unresolved:
            detail = f" ({candidates})" if candidates else ""
            self.stdout.write(f"  {status:13} {provider}: {name!r} {instance_type or ''} {facts}{detail}")
