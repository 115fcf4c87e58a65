"""Country groups for the catalog's region filter, as plain data (ISO 3166-1 alpha-2 codes).

Groups overlap on purpose (Mexico is in North America and Latin America, Egypt in Africa and
the Middle East) because people search by either. EU is the 27 member states; the EEA adds
Iceland, Liechtenstein and Norway (GDPR applies across the EEA).
"""

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

EU = frozenset("AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE".split())
EEA = EU | {"IS", "LI", "NO"}
EUROPE = EEA | frozenset("AD AL BA BY CH FO GB GG GI IM JE MC MD ME MK RS RU SM UA VA".split())
NORTH_AMERICA = frozenset("US CA MX GL BM PM".split())
LATAM = frozenset(
    "AR BO BR CL CO CR CU DO EC GT HN HT MX NI PA PE PR PY SV UY VE BZ GY SR GF GP MQ BL MF JM TT BS BB".split()
)
APAC = frozenset(
    "AU NZ JP KR KP CN HK MO TW SG MY ID TH VN PH IN PK BD LK NP BT MV KH LA MM BN TL MN "
    "FJ PG SB VU NC PF WS TO KI FM MH NR PW TV GU MP AS CK NU".split()
)
MIDDLE_EAST = frozenset("AE SA QA BH KW OM IL JO LB IQ IR SY YE PS TR EG".split())
AFRICA = frozenset(
    "DZ AO BJ BW BF BI CV CM CF TD KM CG CD CI DJ EG GQ ER SZ ET GA GM GH GN GW KE LS LR LY MG MW ML "
    "MR MU YT MA MZ NA NE NG RE RW SH ST SN SC SL SO ZA SS SD TZ TG TN UG EH ZM ZW".split()
)


@dataclass(frozen=True)
class CountryGroup:
    slug: str
    label: str
    countries: frozenset[str]


COUNTRY_GROUPS: dict[str, CountryGroup] = {
    group.slug: group
    for group in [
        CountryGroup("eu", _("European Union"), EU),
        CountryGroup("eea", _("European Economic Area"), EEA),
        CountryGroup("europe", _("Europe"), EUROPE),
        CountryGroup("north-america", _("North America"), NORTH_AMERICA),
        CountryGroup("latam", _("Latin America"), LATAM),
        CountryGroup("apac", _("Asia-Pacific"), APAC),
        CountryGroup("middle-east", _("Middle East"), MIDDLE_EAST),
        CountryGroup("africa", _("Africa"), AFRICA),
    ]
}


def countries_in_groups(slugs: list[str]) -> set[str]:
    """The union of the groups' countries: picking EU and APAC means "in either"."""
    return set().union(*(COUNTRY_GROUPS[slug].countries for slug in slugs))
