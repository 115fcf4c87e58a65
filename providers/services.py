"""Writes on providers as businesses: applying to list one, its public profile, its sovereignty
facts, its certification records, its team and its regions.

Every service validates with ``full_clean()`` before saving, so a rule broken here fails the same
way whether the call comes from a form, a feed or a shell. Offers are written by
marketplace/services.py, sync connections by sync/services.py.
"""

import hashlib
import logging
import secrets
import textwrap
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta
from functools import partial

from django.contrib.auth.models import User
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.mail import send_mail
from django.db import transaction
from django.db.models import QuerySet
from django.urls import reverse
from django.utils import timezone
from django.utils.text import slugify
from django.utils.translation import gettext

from portal.lib.urls import site_url
from providers import notifications
from providers.models import Certification, Invitation, Membership, Provider, ProviderCertification, Region

logger = logging.getLogger(__name__)

# The facts a provider states about who operates it (Provider's sovereignty fields).
FACT_FIELDS = ("legal_entity", "incorporation_country", "parent_name", "parent_country", "dpa_offered", "dpa_url")
# What the provider's owners edit on the dashboard's profile page: its public profile and legal ids.
PROFILE_FIELDS = ("hq_country", "website", "contact_email", "description", "registration_number", "vat_number")
# A certification's provider is e-mailed this many days before it expires.
CERTIFICATION_EXPIRY_NOTICE_DAYS = 30
# A team invitation's link works this many days; a provider sends at most so many a day.
INVITATION_DAYS = 7
MAX_INVITATIONS_PER_DAY = 30


def _unique_slug(name: str) -> str:
    base = slugify(name)[:40] or "provider"
    slug, n = base, 1
    while Provider.objects.filter(slug=slug).exists():
        n += 1
        slug = f"{base}-{n}"
    return slug


def _notify(kind: str, provider: Provider) -> None:
    """Enqueue the ``kind`` e-mails (providers/emails.py) once the current transaction commits.

    Robust: with the broker down, the change stands and the failure is logged (the e-mail is
    lost, the change is not; the dashboard and the admin show the provider's status).
    """
    transaction.on_commit(partial(notifications.notify.delay, kind, provider.pk), robust=True)


def provider_approve(*, provider: Provider, by: User | None = None) -> bool:
    """List an approved provider's offers in the catalog, recording who approved it and when, and
    tell its owners; False if it was approved already (nothing changes then, nobody is e-mailed)."""
    changed = _provider_status_set(provider, Provider.Status.APPROVED, by=by)
    if changed:
        _notify("provider_approved", provider)
    return changed


def provider_suspend(*, provider: Provider, by: User | None = None) -> bool:
    """Hide a provider and its offers from the catalog (nothing is deleted) and tell its owners;
    False if it was suspended already (nothing changes then, nobody is e-mailed)."""
    changed = _provider_status_set(provider, Provider.Status.SUSPENDED, by=by)
    if changed:
        _notify("provider_suspended", provider)
    return changed


@transaction.atomic
def _provider_status_set(provider: Provider, status: str, *, by: User | None) -> bool:
    # A row lock, then a save (not a queryset update): the change enters the provider's history.
    current = Provider.objects.select_for_update().get(pk=provider.pk)
    if current.status == status:
        provider.status = status
        return False
    current.status = status
    if status == Provider.Status.APPROVED:
        current.approved_by, current.approved_at = by, timezone.now()
    if by is not None:
        current._history_user = by  # the admin who did it, also outside a request (a shell, a command)
    current.save()
    provider.status, provider.approved_by_id, provider.approved_at = status, current.approved_by_id, current.approved_at
    return True


@transaction.atomic
def provider_apply(
    *,
    user: User,
    name: str,
    hq_country: str,
    website: str = "",
    contact_email: str = "",
    description: str = "",
    registration_number: str = "",
    vat_number: str = "",
    certifications: Iterable[Certification] = (),
    **facts,
) -> Provider:
    """Create a provider pending approval, owned by ``user``, and e-mail the applicant (its owner
    and contact address) and the admins who review applications, once it is committed.

    Nothing of a pending provider is public (the catalog lists approved providers only), but its
    owner can already prepare regions, offers and connections on the dashboard. ``facts`` are its
    sovereignty facts (FACT_FIELDS); the ``certifications`` it claims become records of the whole
    provider that count once an admin has checked their evidence and verified them.
    """
    unknown = set(facts) - set(FACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown provider facts: {sorted(unknown)}")
    provider = Provider(
        name=name,
        slug=_unique_slug(name),
        hq_country=hq_country,
        website=website,
        contact_email=contact_email,
        description=description,
        registration_number=registration_number,
        vat_number=vat_number,
        status=Provider.Status.PENDING,
        **facts,
    )
    provider.full_clean()
    provider.save()
    ProviderCertification.objects.bulk_create(
        ProviderCertification(provider=provider, certification=certification) for certification in certifications
    )
    Membership.objects.create(user=user, provider=provider, role=Membership.Role.OWNER)
    _notify("application_received", provider)
    return provider


# --- Public profile -------------------------------------------------------------------------


def is_owner(*, provider: Provider, user: User) -> bool:
    return Membership.objects.filter(provider=provider, user=user, role=Membership.Role.OWNER).exists()


def provider_profile_update(*, provider: Provider, user: User, data: Mapping[str, object]) -> Provider:
    """Change the provider's public profile and legal identifiers (PROFILE_FIELDS), as ``user``.

    Only an owner may: PermissionDenied otherwise. The change enters the provider's history with
    ``user`` (the dashboard's history page), also outside a request. The VAT number is kept without
    spaces or dots and in capitals, as VIES writes it. The name and slug are not the provider's to
    change here: the catalog's links and the approval are tied to them.
    """
    unknown = set(data) - set(PROFILE_FIELDS)
    if unknown:
        raise TypeError(f"unknown profile fields: {sorted(unknown)}")
    if not is_owner(provider=provider, user=user):
        raise PermissionDenied
    for name, value in data.items():
        if name == "vat_number":
            value = "".join(str(value).split()).replace(".", "").upper()
        elif isinstance(value, str):
            value = value.strip()
        setattr(provider, name, value)
    provider.full_clean()
    provider._history_user = user
    provider.save(update_fields=list(data))
    return provider


# --- Team -----------------------------------------------------------------------------------


def _owner_required(provider: Provider, user: User) -> None:
    if not is_owner(provider=provider, user=user):
        raise PermissionDenied


def _other_owners(membership: Membership) -> int:
    """How many owners the membership's provider has besides it, counted under a lock on them, so
    two owners removing each other at once cannot leave the provider without one."""
    owners = Membership.objects.select_for_update().filter(
        provider_id=membership.provider_id, role=Membership.Role.OWNER
    )
    return sum(1 for pk in owners.values_list("pk", flat=True) if pk != membership.pk)


@transaction.atomic
def invitation_create(*, provider: Provider, by: User, email: str, role: str = Membership.Role.STAFF) -> Invitation:
    """Invite ``email`` to ``provider``'s team as ``role``, by one of its owners, and e-mail them
    the link once the invitation commits.

    The person may or may not have an account yet: the link asks them to sign in, or to sign up,
    with that address. A new invitation to an address replaces its pending one (the old link
    stops working). A current member's address is refused (ValidationError on ``email``), and so
    is an invitation beyond MAX_INVITATIONS_PER_DAY of the provider's: each is an e-mail to an
    address nobody vouched for, and the portal must not become a way to mail strangers.
    """
    _owner_required(provider, by)
    if role not in Membership.Role.values:
        raise ValidationError({"role": gettext("Choose owner or staff.")})
    email = email.strip()
    # The provider's row locked: two owners inviting at once are counted one after the other.
    Provider.objects.select_for_update().values_list("pk", flat=True).get(pk=provider.pk)
    if provider.memberships.filter(user__email__iexact=email).exists():
        raise ValidationError({"email": gettext("This person is already a member of the team.")})
    now = timezone.now()
    if provider.invitations.filter(created_at__gt=now - timedelta(days=1)).count() >= MAX_INVITATIONS_PER_DAY:
        sent = gettext("%(n)s invitations were sent in the last 24 hours: try again tomorrow.")
        raise ValidationError({"email": sent % {"n": MAX_INVITATIONS_PER_DAY}})
    provider.invitations.pending().filter(email__iexact=email).update(revoked_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation(
        provider=provider,
        email=email,
        role=role,
        token_hash=invitation_token_hash(token),
        invited_by=by,
        created_at=now,
        expires_at=now + timedelta(days=INVITATION_DAYS),
    )
    invitation.full_clean()
    invitation.save()
    transaction.on_commit(partial(_invitation_mail, invitation, token), robust=True)
    return invitation


def invitation_token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _invitation_mail(invitation: Invitation, token: str) -> int:
    link = site_url(reverse("accounts:invitation", args=[token]))
    values = {
        "provider": invitation.provider.name,
        "by": invitation.invited_by.get_username() if invitation.invited_by else gettext("an owner"),
        "role": invitation.get_role_display(),
        "email": invitation.email,
        "days": INVITATION_DAYS,
    }
    subject = gettext("Join the team of %(provider)s on the GPU marketplace") % values
    invites = gettext("%(by)s invites you to the team of %(provider)s on the GPU marketplace, as %(role)s.")
    how = gettext(
        "Open this link within %(days)s days and sign in with %(email)s, or create an account with that address first:"
    )
    body = "\n\n".join(
        [
            gettext("Hello,"),
            textwrap.fill(invites % values, width=78),
            textwrap.fill(how % values, width=78) + "\n    " + link,
            textwrap.fill(gettext("If you did not expect it, ignore this e-mail: nothing happens without you."), 78),
        ]
    )
    return send_mail(subject, body, None, [invitation.email])


@transaction.atomic
def invitation_accept(*, invitation: Invitation, user: User) -> Membership:
    """Make ``user`` a member of the invitation's team with its role, once.

    ValidationError when the invitation was accepted, withdrawn or has expired; PermissionDenied
    when the user's address is not the invited one (a forwarded link does not let someone else
    in). Someone who is a member already keeps their role; the invitation is used all the same.
    """
    invitation = Invitation.objects.select_for_update().select_related("provider").get(pk=invitation.pk)
    if reason := invitation.gone_reason:
        raise ValidationError(reason)
    if not invitation.is_for(user):
        raise PermissionDenied
    membership = Membership.objects.filter(provider=invitation.provider, user=user).first()
    if membership is None:
        membership = Membership(provider=invitation.provider, user=user, role=invitation.role)
        membership._history_user = user
        membership.save()
    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    return membership


@transaction.atomic
def invitation_revoke(*, invitation: Invitation, by: User) -> None:
    """Withdraw a pending invitation, by an owner: its link stops working."""
    _owner_required(invitation.provider, by)
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if invitation.accepted_at or invitation.revoked_at:
        raise ValidationError(invitation.gone_reason)
    invitation.revoked_at = timezone.now()
    invitation.save(update_fields=["revoked_at"])


@transaction.atomic
def membership_role_set(*, membership: Membership, by: User, role: str) -> Membership:
    """Make a member owner or staff, by an owner. The last owner cannot be made staff."""
    _owner_required(membership.provider, by)
    if role not in Membership.Role.values:
        raise ValidationError({"role": gettext("Choose owner or staff.")})
    if membership.role == role:
        return membership
    if role != Membership.Role.OWNER and not _other_owners(membership):
        raise ValidationError(gettext("A provider keeps at least one owner: make someone else owner first."))
    membership.role = role
    membership._history_user = by
    membership.save(update_fields=["role"])
    return membership


@transaction.atomic
def membership_remove(*, membership: Membership, by: User) -> None:
    """Remove a member from the team: an owner removes anyone, a member may leave by themselves.

    The last owner is never removed, not even by themselves: a provider keeps an owner.
    """
    if membership.user_id != by.pk:
        _owner_required(membership.provider, by)
    if membership.role == Membership.Role.OWNER and not _other_owners(membership):
        raise ValidationError(gettext("A provider keeps at least one owner: make someone else owner first."))
    membership._history_user = by
    membership.delete()


# --- Sovereignty facts and certification records ------------------------------------------


def provider_facts_update(*, provider: Provider, **facts) -> Provider:
    """Change who the provider says operates it: legal entity, countries, data processing agreement."""
    unknown = set(facts) - set(FACT_FIELDS)
    if unknown:
        raise TypeError(f"unknown provider facts: {sorted(unknown)}")
    for name, value in facts.items():
        setattr(provider, name, value)
    provider.full_clean()
    provider.save(update_fields=list(facts))
    return provider


@transaction.atomic
def certification_record_save(
    *, record: ProviderCertification, regions: Iterable[Region] | None = None, by_admin: bool = False
) -> ProviderCertification:
    """Create or change a certification record.

    A provider's own edit (``by_admin`` False) makes it unverified again: an admin must check the
    evidence of what it now says. A new validity date re-arms the expiry e-mail. Regions are kept
    only for a record scoped to named regions, and must be the provider's own.
    """
    previous = ProviderCertification.objects.filter(pk=record.pk).first() if record.pk else None
    if not by_admin:
        record.verified_at, record.verified_by = None, None
    if previous is None or previous.valid_until != record.valid_until:
        record.expiry_notified_at = None
    region_list = list(regions) if regions is not None else None
    if record.scope == ProviderCertification.Scope.REGIONS:
        if region_list is not None and not region_list:
            raise ValidationError({"regions": gettext("Name the regions the certification covers.")})
        if region_list and any(region.provider_id != record.provider_id for region in region_list):
            raise ValidationError({"regions": gettext("Only the provider's own regions can be named.")})
    record.full_clean()
    record.save()
    if record.scope == ProviderCertification.Scope.PROVIDER:
        record.regions.clear()
    elif region_list is not None:
        record.regions.set(region_list)
    return record


def certification_record_delete(*, record: ProviderCertification) -> None:
    record.delete()


def certification_records_verify(*, records: QuerySet, user: User, now: datetime | None = None) -> int:
    """Mark records verified by ``user`` (an admin who checked their evidence); returns how many.

    A record with no validity date is not verified: a certification that counts has an end date.
    """
    now = now or timezone.now()
    return records.filter(verified_at__isnull=True, valid_until__isnull=False).update(verified_at=now, verified_by=user)


def certification_expiry_notify(*, today: date | None = None) -> int:
    """E-mail providers whose verified certifications expire within 30 days, once per validity date.

    Returns the number of records notified. Run daily (sync beat schedule: providers.tasks).
    """
    today = today or timezone.localdate()
    due = (
        ProviderCertification.objects.valid(today)
        .filter(valid_until__lte=today + timedelta(days=CERTIFICATION_EXPIRY_NOTICE_DAYS), expiry_notified_at=None)
        .select_related("provider", "certification")
        .order_by("provider_id", "valid_until")
    )
    notified = 0
    for record in due:
        # Claim the record first: two workers running the task at once send one message.
        claimed = ProviderCertification.objects.filter(pk=record.pk, expiry_notified_at=None)
        if not claimed.update(expiry_notified_at=timezone.now()):
            continue
        try:
            _certification_expiry_mail(record, today)
        except OSError:  # SMTP errors included: the others are still mailed, this one is retried next time
            logger.exception("certification %s: the expiry e-mail failed", record.pk)
            ProviderCertification.objects.filter(pk=record.pk).update(expiry_notified_at=None)
            continue
        notified += 1
    return notified


def _certification_expiry_mail(record: ProviderCertification, today: date) -> int:
    provider = record.provider
    owners = Membership.objects.filter(provider=provider, role=Membership.Role.OWNER, user__is_active=True)
    addresses = [provider.contact_email, *owners.values_list("user__email", flat=True)]
    recipients = list({address.lower(): address for address in addresses if address}.values())
    if not recipients:
        logger.warning("certification %s expires soon, but %s has no e-mail address", record.pk, provider.slug)
        return 0
    link = site_url(reverse("dashboard:sovereignty", args=[provider.slug]))
    values = {
        "certification": record.certification.name,
        "provider": provider.name,
        "date": record.valid_until.isoformat(),
        "days": (record.valid_until - today).days,
        "link": link,
    }
    subject = gettext("%(certification)s of %(provider)s expires on %(date)s") % values
    paragraphs = [
        gettext("Hello,"),
        gettext(
            "The %(certification)s certification of %(provider)s, as recorded on the marketplace, is valid "
            "until %(date)s (in %(days)s days). After that date the catalog no longer counts it: it is left "
            "out of the certification filter and its badge says it has expired."
        ),
        gettext(
            "Once it is renewed, enter the new validity date, certificate id and evidence link on your "
            "dashboard; an administrator verifies them again:"
        ),
        "    %(link)s",
    ]
    body = "\n\n".join(
        text % values if text.startswith("    ") else textwrap.fill(text % values, width=78) for text in paragraphs
    )
    return send_mail(subject, body, None, recipients)


# --- Regions -------------------------------------------------------------------------------


def region_create(*, provider: Provider, code: str, country: str, city: str = "", name: str = "") -> Region:
    """Add a region (data centre) to ``provider``; its code is unique within the provider."""
    region = Region(provider=provider, code=code, country=country, city=city, name=name)
    region.full_clean()
    region.save()
    return region


def region_update(*, region: Region, code: str, country: str, city: str = "", name: str = "") -> Region:
    """Change a region. Its offers keep a copy of its country: change a region that has offers
    with marketplace.services.offers_region_update, which moves them with it."""
    region.code, region.country, region.city, region.name = code, country, city, name
    region.full_clean()
    region.save()
    return region


def regions_upsert(*, provider: Provider, regions: Iterable) -> dict[str, Region]:
    """Create or update the regions an inventory declares; return all the provider's regions by code.

    ``regions`` have a ``code``, a ``country`` (ISO 3166-1 alpha-2), a ``city``, a ``name`` and the
    ``countries`` it also spans (marketplace.inventory.NormalizedRegion); city and name left empty
    keep what the dashboard has. A region without a country is left out: nobody said where it is.
    """
    existing = {region.code: region for region in Region.objects.filter(provider=provider)}
    created, changed = [], []
    for item in regions:
        if not item.country:
            continue  # a location the answer does not place: a region is never made up for it
        others = [code for code in dict.fromkeys(getattr(item, "countries", ()) or ()) if code != item.country]
        region = existing.get(item.code)
        if region is None:
            region = Region(
                provider=provider,
                code=item.code,
                country=item.country,
                other_countries=others,
                city=item.city,
                name=item.name,
            )
            created.append(region)
            existing[item.code] = region
            continue
        wanted = {
            "country": item.country,
            "other_countries": others,
            "city": item.city or region.city,
            "name": item.name or region.name,
        }
        current = {
            "country": region.country.code,
            "other_countries": [country.code for country in region.other_countries],
            "city": region.city,
            "name": region.name,
        }
        if wanted != current:
            for name, value in wanted.items():
                setattr(region, name, value)
            changed.append(region)
    Region.objects.bulk_create(created)
    Region.objects.bulk_update(changed, ["country", "other_countries", "city", "name"])
    return existing
