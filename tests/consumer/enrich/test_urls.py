"""Page URLs, screen classes and Accept-Language parsing."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from traytic.consumer.enrich.urls import (
    MAX_HOSTNAME_LENGTH,
    MAX_LANGUAGE_LENGTH,
    MAX_PATH_LENGTH,
    MAX_UTM_LENGTH,
    PageUrl,
    normalise_pathname,
    parse_page_url,
    primary_language,
    screen_class,
)


@pytest.mark.parametrize(
    ("url", "hostname", "pathname"),
    [
        ("https://example.com/", "example.com", "/"),
        ("https://example.com", "example.com", "/"),
        ("https://WWW.Example.COM/Blog/", "example.com", "/Blog"),
        ("https://example.com:8443/a/b/?x=1#top", "example.com", "/a/b"),
        ("https://example.com.//a//b///", "example.com", "/a/b"),
        ("https://example.com/caf%C3%A9/na%20me", "example.com", "/café/na me"),
        ("https://example.com/bad%FFbyte", "example.com", "/bad\ufffdbyte"),
        ("https://example.com/%2F%2F", "example.com", "/"),
        ("https://www2.example.com/x", "www2.example.com", "/x"),
        ("https://user:pw@example.com/x", "example.com", "/x"),
        ("http://localhost:3001/dashboard", "localhost", "/dashboard"),
        ("https://[::1", "", "/"),
    ],
)
def test_hostname_and_pathname(url: str, hostname: str, pathname: str) -> None:
    page = parse_page_url(url)
    assert (page.hostname, page.pathname) == (hostname, pathname)


def test_utm_parameters_are_kept_and_the_rest_dropped() -> None:
    url = (
        "https://example.com/p?utm_source=news%20letter&UTM_Medium=email&utm_campaign=launch"
        "&utm_term=analytics&utm_content=button&id=42&utm_source=second#section"
    )
    assert parse_page_url(url) == PageUrl(
        "example.com", "/p", "news letter", "email", "launch", "analytics", "button"
    )


def test_missing_utm_parameters_are_empty() -> None:
    assert parse_page_url("https://example.com/?ref=x") == PageUrl("example.com", "/")


def test_long_paths_are_cut() -> None:
    page = parse_page_url("https://example.com/" + "a" * 5000)
    assert page.pathname == "/" + "a" * (MAX_PATH_LENGTH - 1)


@given(st.text(max_size=3000))
def test_parse_never_raises_and_stays_bounded(url: str) -> None:
    page = parse_page_url(url)
    assert page.pathname.startswith("/")
    assert page.pathname == "/" or not page.pathname.endswith("/")
    assert "//" not in page.pathname
    assert len(page.pathname) <= MAX_PATH_LENGTH
    assert len(page.hostname) <= MAX_HOSTNAME_LENGTH
    assert page.hostname == page.hostname.lower()
    assert not page.hostname.startswith("www.")
    assert all(len(value) <= MAX_UTM_LENGTH for value in page[2:])


@given(st.text(alphabet=st.characters(exclude_characters="%"), max_size=2000))
def test_pathname_normalisation_is_idempotent(path: str) -> None:
    once = normalise_pathname(path)
    assert normalise_pathname(once) == once


@given(
    host=st.from_regex(r"(www\.)?[a-z0-9-]{1,20}(\.[a-z]{2,6}){1,2}", fullmatch=True),
    path=st.text(alphabet=st.characters(exclude_characters="%?#\\"), max_size=200),
)
def test_reparsing_a_parsed_url_changes_nothing(host: str, path: str) -> None:
    once = parse_page_url(f"https://{host}/{path}")
    again = parse_page_url(f"https://{once.hostname}{once.pathname}")
    assert (again.hostname, again.pathname) == (once.hostname, once.pathname)


@pytest.mark.parametrize(
    ("width", "expected"),
    [
        (None, ""),
        (0, ""),
        (320, "mobile"),
        (575, "mobile"),
        (576, "tablet"),
        (991, "tablet"),
        (992, "laptop"),
        (1439, "laptop"),
        (1440, "desktop"),
        (3840, "desktop"),
    ],
)
def test_screen_class(width: int | None, expected: str) -> None:
    assert screen_class(width) == expected


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("en-US,en;q=0.9", "en-US"),
        ("de", "de"),
        ("fr;q=0.5, de-CH;q=0.8, en;q=0.1", "de-CH"),
        ("en;q=0.8, fr;q=0.8", "en"),
        ("*;q=1, pt-br;q=0.9", "pt-BR"),
        ("zh-hant-tw", "zh-Hant-TW"),
        ("es-419,es;q=0.9", "es-419"),
        ("en;q=0, fr;q=0.1", "fr"),
        ("en;q=abc, nl", "nl"),
        ("", ""),
        ("*", ""),
        ("garbage!!, ;;;", ""),
        ("en;q=2", ""),
    ],
)
def test_primary_language(header: str, expected: str) -> None:
    assert primary_language(header) == expected


@given(st.text(max_size=2000))
def test_primary_language_never_raises(header: str) -> None:
    language = primary_language(header)
    assert len(language) <= MAX_LANGUAGE_LENGTH
    assert language == "" or language.replace("-", "").isalnum()
    assert language == "" or language.lower() in header.lower()
