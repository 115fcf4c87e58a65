"""Prices in one currency: the exchange-rate table, loaded from the shipped ECB snapshot, and each
offer's price in the reference currency (EUR).

Existing offers are converted here. A currency written in lower case ("usd") is upper-cased;
one that is not an ISO 4217 code with a rate ("XYZ") cannot be compared with any other price, so
its listed offers are withdrawn (kept, with their history) and their normalized price left
empty; their providers see them withdrawn on the dashboard and can list them again with a
real currency. A CHECK constraint then keeps every listed offer comparable.
"""

from django.db import migrations, models
from django.utils import timezone

import marketplace.models
from marketplace.fx import SNAPSHOT_PATH, ecb_rates_parse, price_normalize


def rates_load(apps, schema_editor):
    """The shipped snapshot, unless newer rates are already there."""
    ExchangeRate = apps.get_model("marketplace", "ExchangeRate")
    rates = ecb_rates_parse(SNAPSHOT_PATH.read_bytes())
    now = timezone.now()
    for code, rate in rates.units_per_eur.items():
        ExchangeRate.objects.get_or_create(
            currency=code, defaults={"units_per_eur": rate, "rate_date": rates.rate_date, "updated_at": now}
        )


def offers_normalize(apps, schema_editor):
    ExchangeRate, Offer = apps.get_model("marketplace", "ExchangeRate"), apps.get_model("marketplace", "Offer")
    rates = dict(ExchangeRate.objects.values_list("currency", "units_per_eur"))
    rates["EUR"] = 1
    for currency in Offer.objects.order_by().values_list("currency", flat=True).distinct():
        code = currency.strip().upper()
        offers = Offer.objects.filter(currency=currency)
        if code not in rates:
            offers.filter(status="active").update(status="withdrawn", updated_at=timezone.now())
            continue
        if code != currency:
            offers.update(currency=code)
            offers = Offer.objects.filter(currency=code, price_normalized__isnull=True)
        # One UPDATE per distinct price: offers share their prices far more than their ids.
        for price in offers.order_by().values_list("price_per_gpu_hour", flat=True).distinct():
            offers.filter(price_per_gpu_hour=price).update(price_normalized=price_normalize(price, rates[code]))


def currency_names_restore(apps, schema_editor):
    pass  # upper-cased codes and withdrawals stay: both were wrong facts


class Migration(migrations.Migration):
    # After the sync tables' rename: SQLite rebuilds the offer table here, with its foreign keys.
    dependencies = [("marketplace", "0010_historicaloffer"), ("sync", "0002_tables_renamed")]

    operations = [
        migrations.CreateModel(
            name="ExchangeRate",
            fields=[
                (
                    "currency",
                    models.CharField(
                        max_length=3,
                        primary_key=True,
                        serialize=False,
                        validators=[marketplace.models.validate_currency],
                    ),
                ),
                (
                    "units_per_eur",
                    models.DecimalField(decimal_places=6, max_digits=18, verbose_name="units per euro"),
                ),
                ("rate_date", models.DateField(verbose_name="rate of")),
                ("source", models.CharField(default="ECB", max_length=40)),
                ("updated_at", models.DateTimeField(default=timezone.now)),
            ],
            options={
                "verbose_name": "exchange rate",
                "ordering": ["currency"],
                "constraints": [
                    models.CheckConstraint(condition=models.Q(units_per_eur__gt=0), name="exchange_rate_positive")
                ],
            },
        ),
        migrations.AddField(
            model_name="offer",
            name="price_normalized",
            field=models.DecimalField(blank=True, decimal_places=10, editable=False, max_digits=20, null=True),
        ),
        migrations.AlterField(
            model_name="offer",
            name="currency",
            field=models.CharField(default="USD", max_length=3, validators=[marketplace.models.validate_currency]),
        ),
        migrations.RunPython(rates_load, migrations.RunPython.noop),
        migrations.RunPython(offers_normalize, currency_names_restore),
    ]
