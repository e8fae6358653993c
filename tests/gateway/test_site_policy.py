"""Which pages may send for a site (pure): the host read from a URL agrees with the consumer's
`urlsplit`, and a site accepts its domain, its subdomains and its allowed hostnames, and local
development hosts only when it opted in."""

from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traytic.gateway.site_policy import SitePolicy, is_local_host, page_hostname


@pytest.mark.parametrize(
    ("url", "host"),
    [
        ("https://example.com/blog?x=1#top", "example.com"),
        ("https://Example.COM./", "example.com"),
        ("http://example.com:8080/", "example.com"),
        ("https://user:pw@example.com/", "example.com"),
        ("https://example.com@evil.test/", "evil.test"),
        ("https://example.com", "example.com"),
        ("https://example.com?q", "example.com"),
        ("https://[::1]:3000/", "::1"),
        ("http://127.0.0.1:5173/", "127.0.0.1"),
        ("capacitor://localhost/", "localhost"),
        ("/relative/path", ""),
        ("u", ""),
        ("file:///home/me/index.html", ""),
        ("https://exa mple.com/", ""),
        ("https://exämple.com/", ""),
        ("javascript:alert('https://example.com/')", ""),
    ],
)
def test_page_hostname(url: str, host: str) -> None:
    assert page_hostname(url) == host


urls = st.one_of(
    st.builds(
        lambda scheme, user, host, port, path: f"{scheme}://{user}{host}{port}{path}",
        st.sampled_from(["http", "https", "HTTPS", "capacitor", "x+y.z-1"]),
        st.sampled_from(["", "u@", "u:p@", "a@b@"]),
        st.from_regex(r"[A-Za-z0-9.-]{0,20}|\[[0-9a-f:]{2,12}\]", fullmatch=True),
        st.sampled_from(["", ":80", ":", ":abc"]),
        st.text(max_size=15),
    ),
    st.text(max_size=40),
)


@given(urls)
def test_page_hostname_never_disagrees_with_urlsplit(url: str) -> None:
    """The gateway checks the host the consumer will store (or refuses the event)."""
    host = page_hostname(url)
    if not host:
        return
    try:
        expected = urlsplit(url.strip()).hostname or ""
    except ValueError:
        expected = ""
    assert host == expected.rstrip("."), url


def test_domain_its_subdomains_and_www() -> None:
    policy = SitePolicy("www.example.com")
    for host in ("www.example.com", "example.com", "blog.example.com", "a.b.example.com"):
        assert policy.allows(host), host
    for host in ("example.org", "badexample.com", "example.com.evil.test", "", "com"):
        assert not policy.allows(host), host


def test_allowed_hostnames_exact_and_wildcard() -> None:
    policy = SitePolicy("example.com", ["shop.example.net", "*.preview.app"])
    assert policy.allows("shop.example.net")
    assert not policy.allows("x.shop.example.net")  # an exact entry is exact
    assert policy.allows("pr-1.preview.app")
    assert not policy.allows("preview.app")  # `*.` means subdomains
    assert not policy.allows("example.net")


@pytest.mark.parametrize(
    "host", ["localhost", "app.localhost", "127.0.0.1", "127.1.2.3", "::1", "0.0.0.0"]
)
def test_local_hosts_only_when_the_site_opts_in(host: str) -> None:
    assert is_local_host(host)
    assert not SitePolicy("example.com").allows(host)
    assert SitePolicy("example.com", allow_localhost=True).allows(host)
    assert SitePolicy("localhost").allows(host)  # the `traytic dev` demo site


@pytest.mark.parametrize("host", ["192.168.1.10", "10.0.0.1", "example.localhost.com", "::2"])
def test_other_hosts_are_not_local(host: str) -> None:
    assert not is_local_host(host)
    assert not SitePolicy("example.com", allow_localhost=True).allows(host)


def test_a_listed_local_host_is_allowed_by_its_entry() -> None:
    policy = SitePolicy("example.com", ["localhost"])
    assert policy.allows("localhost")
    assert not policy.allows("127.0.0.1")


def test_foreign_events_by_url() -> None:
    policy = SitePolicy("example.com")
    urls = [
        "https://example.com/a",
        "https://example.com/b?x",
        "https://example.com.evil.test/c",
        "https://evil.test/",
        "https://example.com",
        "nonsense",
        "https://blog.example.com/#x",
    ]
    assert policy.foreign_events(urls) == [2, 3, 5]


def test_accept_all_is_for_unreadable_records() -> None:
    policy = SitePolicy.accept_all()
    assert policy.allows("anything.test") and policy.allows("localhost")
    assert not policy.filter_datacenter


def test_remembered_verdicts_are_bounded() -> None:
    policy = SitePolicy("example.com")
    for i in range(5000):
        assert not policy.allows(f"h{i}.test")
    assert len(policy._verdicts) <= 1024
    assert policy.allows("example.com")
