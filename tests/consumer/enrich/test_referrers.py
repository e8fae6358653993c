"""Referrer attribution: the source table, same-site detection, UTM precedence, channels."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traytic.consumer.enrich.referrers import (
    CHANNELS,
    MAX_REFERRER_LENGTH,
    MAX_SOURCE_LENGTH,
    Referral,
    attribute_referral,
    clean_referrer,
    lookup_host,
)

SITE = "example.com"


@pytest.mark.parametrize(
    ("referrer", "source", "channel"),
    [
        ("https://www.google.com/", "Google", "Organic Search"),
        ("https://www.google.co.uk/", "Google", "Organic Search"),
        ("https://www.google.com.br/", "Google", "Organic Search"),
        ("https://www.bing.com/search?q=traytic", "Bing", "Organic Search"),
        ("https://duckduckgo.com/", "DuckDuckGo", "Organic Search"),
        ("https://search.yahoo.com/search?p=x", "Yahoo", "Organic Search"),
        ("https://yandex.ru/search/?text=x", "Yandex", "Organic Search"),
        ("https://www.baidu.com/link?url=x", "Baidu", "Organic Search"),
        ("https://www.ecosia.org/search?q=x", "Ecosia", "Organic Search"),
        ("android-app://com.google.android.googlequicksearchbox/", "Google", "Organic Search"),
        ("https://t.co/AbC123", "Twitter", "Organic Social"),
        ("https://twitter.com/someone/status/1", "Twitter", "Organic Social"),
        ("https://x.com/someone", "Twitter", "Organic Social"),
        ("https://l.facebook.com/l.php?u=x", "Facebook", "Organic Social"),
        ("https://m.facebook.com/", "Facebook", "Organic Social"),
        ("https://www.instagram.com/", "Instagram", "Organic Social"),
        ("https://www.linkedin.com/feed/", "LinkedIn", "Organic Social"),
        ("https://lnkd.in/abc", "LinkedIn", "Organic Social"),
        ("https://github.com/traytic/traytic", "GitHub", "Organic Social"),
        ("https://old.reddit.com/r/selfhosted/", "Reddit", "Organic Social"),
        ("https://news.ycombinator.com/item?id=1", "Hacker News", "Organic Social"),
        ("https://www.youtube.com/watch?v=x", "YouTube", "Organic Video"),
        ("https://mail.google.com/mail/u/0/", "Gmail", "Email"),
        ("android-app://com.google.android.gm/", "Gmail", "Email"),
        ("https://someone.substack.com/p/post", "Substack", "Email"),
        ("https://buttondown.com/someone/archive/", "Buttondown", "Email"),
        ("https://chatgpt.com/", "ChatGPT", "AI"),
        ("https://www.perplexity.ai/search/x", "Perplexity", "AI"),
        ("https://gemini.google.com/app", "Gemini", "AI"),
        ("https://claude.ai/chat/abc", "Claude", "AI"),
        ("https://copilot.microsoft.com/", "Copilot", "AI"),
        ("https://chat.mistral.ai/chat", "Mistral Le Chat", "AI"),
        ("https://grok.com/", "Grok", "AI"),
        ("https://blog.other.org/post", "blog.other.org", "Referral"),
        ("https://www.other.org/", "other.org", "Referral"),
    ],
)
def test_referrer_table(referrer: str, source: str, channel: str) -> None:
    result = attribute_referral(referrer, SITE)
    assert (result.source, result.channel, result.internal) == (source, channel, False)
    assert result.referrer


def test_lookalike_hosts_are_not_search_engines() -> None:
    assert lookup_host("google.evil-site.com") is None
    assert lookup_host("googleusercontent.com") is None
    assert lookup_host("notgoogle.com") is None


@pytest.mark.parametrize(
    ("referrer", "cleaned"),
    [
        ("https://www.google.com/search?q=secret#frag", "https://www.google.com/search"),
        ("https://user:pass@Example.ORG/a/b?c=d", "https://example.org/a/b"),
        ("HTTP://example.org", "http://example.org/"),
        ("https://example.org:8443/x", "https://example.org:8443/x"),
        ("about:blank", ""),
        ("chrome-extension://abcdef/page.html", ""),
        ("not a url", ""),
        ("https://[::1", ""),
    ],
)
def test_clean_referrer(referrer: str, cleaned: str) -> None:
    assert clean_referrer(referrer).url == cleaned


@pytest.mark.parametrize(
    ("referrer", "page_host"),
    [
        ("https://example.com/blog", "example.com"),
        ("https://www.example.com/blog?x=1", "example.com"),
        ("https://example.com/", "www.example.com"),
        ("https://EXAMPLE.com/", "example.com"),
    ],
)
def test_same_site_referrer_is_internal(referrer: str, page_host: str) -> None:
    assert attribute_referral(referrer, page_host) == Referral("", "", "Direct", internal=True)


def test_a_subdomain_is_another_site() -> None:
    result = attribute_referral("https://docs.example.com/", "example.com")
    assert (result.source, result.channel, result.internal) == (
        "docs.example.com",
        "Referral",
        False,
    )


def test_no_referrer_no_utm_is_direct() -> None:
    assert attribute_referral("", SITE) == Referral("", "", "Direct")


@pytest.mark.parametrize(
    ("utm_source", "utm_medium", "source", "channel"),
    [
        ("newsletter", "", "newsletter", "Email"),
        ("weekly", "email", "weekly", "Email"),
        ("google", "cpc", "Google", "Paid Search"),
        ("bing", "ppc", "Bing", "Paid Search"),
        ("fb", "paid_social", "Facebook", "Paid Social"),
        ("youtube", "paid", "YouTube", "Paid Video"),
        ("partner-site", "cpm", "partner-site", "Paid Other"),
        ("twitter", "", "Twitter", "Organic Social"),
        ("mastodon.example", "social", "mastodon.example", "Organic Social"),
        ("chatgpt.com", "", "ChatGPT", "AI"),
        ("hn", "", "Hacker News", "Organic Social"),
        ("podcast", "", "podcast", "Referral"),
    ],
)
def test_utm_without_referrer(utm_source: str, utm_medium: str, source: str, channel: str) -> None:
    assert attribute_referral("", SITE, utm_source, utm_medium) == Referral("", source, channel)


def test_utm_source_names_the_source_over_the_referrer() -> None:
    result = attribute_referral("https://mail.google.com/", SITE, "newsletter", "email")
    assert (result.referrer, result.source, result.channel) == (
        "https://mail.google.com/",
        "newsletter",
        "Email",
    )
    paid = attribute_referral("https://www.google.com/", SITE, "google", "cpc")
    assert (paid.source, paid.channel) == ("Google", "Paid Search")


def test_utm_on_an_internal_navigation_still_counts() -> None:
    result = attribute_referral("https://example.com/", SITE, "newsletter")
    assert (result.internal, result.referrer, result.source, result.channel) == (
        True,
        "",
        "newsletter",
        "Email",
    )


URLS = st.builds(
    "{}://{}/{}".format,
    st.sampled_from(["http", "https", "HTTPS", "android-app", "ftp"]),
    st.from_regex(r"[A-Za-z0-9.:@-]{0,40}", fullmatch=True),
    st.text(max_size=1200),
)


@given(
    referrer=st.one_of(st.text(max_size=3000), URLS),
    page_host=st.text(max_size=100),
    utm_source=st.text(max_size=300),
    utm_medium=st.text(max_size=50),
)
def test_never_raises_and_stays_bounded(
    referrer: str, page_host: str, utm_source: str, utm_medium: str
) -> None:
    result = attribute_referral(referrer, page_host, utm_source, utm_medium)
    assert result.channel in CHANNELS
    assert len(result.referrer) <= MAX_REFERRER_LENGTH
    assert len(result.source) <= MAX_SOURCE_LENGTH
    assert "?" not in result.referrer
    assert "#" not in result.referrer
    if result.channel == "Direct":
        assert result.source == ""


@given(referrer=st.one_of(URLS, st.text(max_size=200)))
def test_cleaning_is_idempotent(referrer: str) -> None:
    once = clean_referrer(referrer)
    if once.url:
        assert clean_referrer(once.url) == once
    else:
        assert once.host == ""


def test_every_ai_assistant_host_is_the_ai_channel() -> None:
    """The one list of assistants (sources.py): each host, with `www.` or not, and its name as
    `utm_source` (ChatGPT tags its links `utm_source=chatgpt.com`) land in the channel AI."""
    from traytic.consumer.enrich.sources import SOURCES_BY_HOST

    hosts = [host for host, source in SOURCES_BY_HOST.items() if source.kind == "ai"]
    assert len(hosts) >= 12
    for host in hosts:
        for url in (f"https://{host}/", f"https://www.{host}/x?q=1"):
            result = attribute_referral(url, SITE)
            assert result.channel == "AI", (url, result)
            assert result.source == SOURCES_BY_HOST[host].name
        tagged = attribute_referral("", SITE, host, "")
        assert (tagged.source, tagged.channel) == (SOURCES_BY_HOST[host].name, "AI"), host
