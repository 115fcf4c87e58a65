"""Sovereignty facts on providers, and certifications as records (0009 moves the old claims over)."""

import django.db.models.deletion
import django.utils.timezone
import django_countries.fields
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('providers', '0008_region_other_countries'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name='provider',
            name='dpa_offered',
            field=models.BooleanField(default=False, verbose_name='offers a GDPR data processing agreement'),
        ),
        migrations.AddField(
            model_name='provider',
            name='dpa_url',
            field=models.URLField(blank=True, verbose_name='data processing agreement (link)'),
        ),
        migrations.AddField(
            model_name='provider',
            name='incorporation_country',
            field=django_countries.fields.CountryField(blank=True, max_length=2, verbose_name='country of incorporation'),
        ),
        migrations.AddField(
            model_name='provider',
            name='legal_entity',
            field=models.CharField(blank=True, help_text='e.g. Nebius B.V.', max_length=200, verbose_name='legal entity'),
        ),
        migrations.AddField(
            model_name='provider',
            name='parent_country',
            field=django_countries.fields.CountryField(blank=True, help_text='Where the company that ultimately controls it is incorporated; its own if it has no parent.', max_length=2, verbose_name="ultimate parent's country"),
        ),
        migrations.AddField(
            model_name='provider',
            name='parent_name',
            field=models.CharField(blank=True, max_length=200, verbose_name='ultimate parent'),
        ),
        migrations.CreateModel(
            name='ProviderCertification',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('scope', models.CharField(choices=[('provider', 'The whole provider'), ('regions', 'Named regions')], default='provider', max_length=10)),
                ('issuer', models.CharField(blank=True, help_text='The body that issued it, e.g. BSI, Schellman.', max_length=200)),
                ('certificate_id', models.CharField(blank=True, max_length=120, verbose_name='certificate id')),
                ('valid_until', models.DateField(blank=True, null=True)),
                ('evidence_url', models.URLField(blank=True, verbose_name='evidence (link)')),
                ('verified_at', models.DateTimeField(blank=True, null=True)),
                ('expiry_notified_at', models.DateTimeField(blank=True, null=True)),
                ('created_at', models.DateTimeField(default=django.utils.timezone.now)),
                ('certification', models.ForeignKey(on_delete=django.db.models.deletion.PROTECT, related_name='records', to='providers.certification')),
                ('provider', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='certification_records', to='providers.provider')),
                ('regions', models.ManyToManyField(blank=True, related_name='certification_records', to='providers.region')),
                ('verified_by', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'certification record',
                'ordering': ['provider', 'certification__name'],
            },
        ),
    ]
