"""ISO 4217: the currency codes an offer's price may be in.

The active codes of the standard's list one (currencies and their current codes), without the
funds, precious metals and testing codes (X..., except the CFA, CFP and East Caribbean francs
and the Caribbean guilder, which are real money). A code is also what the exchange-rate table
is keyed by: a price is listed only when the portal has a rate for its currency
(marketplace.fx), so a valid code the ECB does not publish is refused with a message naming
the currencies that can be used.
"""

ISO_4217 = frozenset(
    """
    AED AFN ALL AMD ANG AOA ARS AUD AWG AZN BAM BBD BDT BGN BHD BIF BMD BND BOB BRL BSD BTN BWP
    BYN BZD CAD CDF CHF CLP CNY COP CRC CUP CVE CZK DJF DKK DOP DZD EGP ERN ETB EUR FJD FKP GBP
    GEL GHS GIP GMD GNF GTQ GYD HKD HNL HTG HUF IDR ILS INR IQD IRR ISK JMD JOD JPY KES KGS KHR
    KMF KPW KRW KWD KYD KZT LAK LBP LKR LRD LSL LYD MAD MDL MGA MKD MMK MNT MOP MRU MUR MVR MWK
    MXN MYR MZN NAD NGN NIO NOK NPR NZD OMR PAB PEN PGK PHP PKR PLN PYG QAR RON RSD RUB RWF SAR
    SBD SCR SDG SEK SGD SHP SLE SOS SRD SSP STN SVC SYP SZL THB TJS TMT TND TOP TRY TTD TWD TZS
    UAH UGX USD UYU UZS VES VND VUV WST XAF XCD XCG XOF XPF YER ZAR ZMW ZWG
    """.split()
)


def is_iso_4217(code: str) -> bool:
    """True for an active ISO 4217 code in capitals ("USD"); "usd" and "XYZ" are not."""
    return code in ISO_4217
