"""Short links: codes, UTM parameters, refused addresses, rewriting a delivery's content,
clicks (bots apart, local days, concurrent clicks) and a post's figures."""

import secrets
import threading
from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace
from urllib.parse import parse_qs, urlsplit

import pytest
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from tribu.channels.models import Channel
from tribu.publishing.models import Delivery, Post, PostVariant, Ritual, ShortLink, ShortLinkDay
from tribu.publishing.services import links
from tribu.publishing.services.content import snapshot

BASE = "https://tribu.example"


@pytest.fixture(autouse=True)
def base_url(settings):
    settings.TRIBU_BASE_URL = BASE


def make_channel(workspace, network="mastodon", name=None, **fields):
    return Channel.objects.create(
        workspace=workspace, network=network, name=name or f"{network} {secrets.token_hex(2)}",
        base_url=f"https://{network}.example", account_id=secrets.token_hex(4), **fields,
    )  # fmt: skip


@pytest.fixture
def mastodon(workspace):
    return make_channel(workspace, "mastodon", "Acme on Mastodon")


@pytest.fixture
def post(workspace):
    return Post.objects.create(workspace=workspace, text="Bonjour")


def query(url):
    return parse_qs(urlsplit(url).query, keep_blank_values=True)


# Codes -----------------------------------------------------------------------------------------


def test_codes_are_eight_unambiguous_url_safe_characters(workspace):
    codes = {links.shorten(workspace, "https://shop.example/").code for _ in range(50)}
    assert len(codes) == 50
    for code in codes:
        assert len(code) == 8
        assert set(code) <= set(links.ALPHABET)
        assert not set(code) & set("0O1lI")


def test_a_taken_code_is_drawn_again(workspace, monkeypatch):
    taken = links.shorten(workspace, "https://shop.example/a")
    letters = iter(taken.code + "b" * 8)
    monkeypatch.setattr(links, "secrets", SimpleNamespace(choice=lambda alphabet: next(letters)))
    link = links.shorten(workspace, "https://shop.example/b")
    assert link.code == "b" * 8
    assert ShortLink.objects.filter(code=taken.code).count() == 1


def test_no_free_code_after_a_few_draws_is_an_error(workspace, monkeypatch):
    taken = links.shorten(workspace, "https://shop.example/a")
    monkeypatch.setattr(
        links, "secrets", SimpleNamespace(choice=lambda alphabet, c=taken.code: c[0])
    )
    ShortLink.objects.filter(pk=taken.pk).update(code=taken.code[0] * 8)
    with pytest.raises(links.LinkError, match="Try again"):
        links.shorten(workspace, "https://shop.example/b")


# UTM parameters ---------------------------------------------------------------------------------


def test_utm_parameters_are_added_and_the_rest_is_kept(workspace, mastodon, post):
    url = "https://shop.example/p/lampe?ref=home&q=x%20y&utm_source=newsletter#details"
    link = links.shorten(workspace, url, post=post, channel=mastodon)
    assert link.original_url == url
    params = query(link.target_url)
    assert params["utm_source"] == ["mastodon"]
    assert params["utm_medium"] == ["social"]
    assert params["utm_campaign"] == ["tribu"]
    assert params["utm_content"] == [f"post-{post.pk}"]
    assert params["ref"] == ["home"] and params["q"] == ["x y"]
    # The site's own parameters are kept as written; the fragment stays at the end.
    assert "ref=home&q=x%20y&" in link.target_url
    assert link.target_url.endswith("#details")
    assert link.target_url.startswith("https://shop.example/p/lampe?")


def test_utm_parameters_replace_the_same_ones(workspace, mastodon):
    url = "https://shop.example/?utm_medium=email&utm_campaign=old&utm_term=lamp"
    link = links.shorten(workspace, url, channel=mastodon, campaign="Soldes d'été")
    params = query(link.target_url)
    assert params["utm_medium"] == ["social"]
    assert params["utm_campaign"] == ["Soldes d'été"]
    assert params["utm_term"] == ["lamp"]  # not one of ours: kept
    assert "utm_content" not in params  # no post
    assert link.target_url.count("utm_medium") == 1


def test_a_link_by_hand_has_tribu_as_source(workspace):
    link = links.shorten(workspace, "http://shop.example/x")
    assert query(link.target_url)["utm_source"] == ["tribu"]
    assert link.post is None and link.channel is None


def test_a_ritual_names_the_campaign(workspace, mastodon):
    ritual = Ritual.objects.create(
        workspace=workspace, name="Mardi Conseil", rule="FREQ=WEEKLY;BYDAY=TU",
        starts_on=date(2025, 1, 7), at_time="09:00",
    )  # fmt: skip
    post = Post.objects.create(workspace=workspace, text="Conseil", ritual=ritual)
    link = links.shorten(workspace, "https://shop.example/", post=post, channel=mastodon)
    assert query(link.target_url)["utm_campaign"] == ["mardi-conseil"]


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("", "Enter the address"),
        ("ftp://files.example/a.zip", "Only web addresses"),
        ("javascript:alert(1)", "Only web addresses"),
        ("mailto:hello@shop.example", "Only web addresses"),
        ("shop.example/page", "Only web addresses"),
        ("https://", "not a valid web address"),
        ("https://shop example/", "not a valid web address"),
        (f"{BASE}/l/abcdefgh", "already points to Tribu"),
        ("https://TRIBU.example./page", "already points to Tribu"),
        ("https://shop.example/" + "a" * 2000, "too long"),
    ],
)
def test_refused_addresses_say_why(workspace, url, words):
    with pytest.raises(links.LinkError, match=words):
        links.shorten(workspace, url)
    assert not ShortLink.objects.exists()


def test_a_target_too_long_with_its_parameters_is_refused(workspace, mastodon):
    url = "https://shop.example/" + "a" * 1950
    links.check_url(url)  # fine alone
    with pytest.raises(links.LinkError, match="tracking parameters"):
        links.shorten(workspace, url, channel=mastodon)


def test_objects_of_another_workspace_are_refused(workspace, make_workspace):
    other = make_workspace()
    foreign = make_channel(other)
    with pytest.raises(ValueError, match="workspace"):
        links.shorten(workspace, "https://shop.example/", channel=foreign)


# Rewriting --------------------------------------------------------------------------------------


def test_every_url_becomes_its_short_link_and_repeats_reuse_it(workspace, mastodon, post):
    text = (
        "Nouveau : https://shop.example/lampe. Et aussi (https://blog.example/a?b=1)! "
        "Encore https://shop.example/lampe"
    )
    result = links.rewrite_links(text, workspace, post=post, channel=mastodon)
    created = {link.original_url: link for link in ShortLink.objects.filter(post=post)}
    assert set(created) == {"https://shop.example/lampe", "https://blog.example/a?b=1"}
    lamp, blog = created["https://shop.example/lampe"], created["https://blog.example/a?b=1"]
    assert result == (
        f"Nouveau : {BASE}/l/{lamp.code}. Et aussi ({BASE}/l/{blog.code})! "
        f"Encore {BASE}/l/{lamp.code}"
    )
    # Freezing the content again (a retry) reuses the links.
    assert links.rewrite_links(text, workspace, post=post, channel=mastodon) == result
    assert ShortLink.objects.filter(post=post).count() == 2


def test_each_channel_gets_its_own_link(workspace, mastodon, post):
    bluesky = make_channel(workspace, "bluesky")
    one = links.rewrite_links("https://shop.example/", workspace, post=post, channel=mastodon)
    two = links.rewrite_links("https://shop.example/", workspace, post=post, channel=bluesky)
    assert one != two
    sources = {query(link.target_url)["utm_source"][0] for link in ShortLink.objects.all()}
    assert sources == {"mastodon", "bluesky"}


def test_tribu_links_and_plain_text_are_left_alone(workspace, mastodon, post):
    text = f"Déjà court : {BASE}/l/abcdefgh, et pas de lien ici. mail@shop.example"
    assert links.rewrite_links(text, workspace, post=post, channel=mastodon) == text
    assert not ShortLink.objects.exists()


@pytest.mark.parametrize("base", ["", "http://127.0.0.1:8000", "http://localhost:8000"])
def test_without_a_public_base_url_links_are_left_untouched(settings, workspace, post, base):
    settings.TRIBU_BASE_URL = base
    channel = make_channel(workspace)
    text = "Voir https://shop.example/lampe"
    assert links.rewrite_links(text, workspace, post=post, channel=channel) == text
    assert not ShortLink.objects.exists()


def make_delivery(post, channel, **content):
    PostVariant.objects.get_or_create(post=post, channel=channel)
    return Delivery.objects.create(
        workspace=post.workspace, post=post, channel=channel, due_at=timezone.now(),
        next_attempt_at=timezone.now(),
    )  # fmt: skip


def test_a_delivery_content_is_shortened_when_the_setting_is_on(workspace, mastodon):
    post = Post.objects.create(
        workspace=workspace, text="Soldes https://shop.example/soldes",
        thread=["Détails : https://shop.example/faq"], first_comment="",
        link_card={"url": "https://shop.example/soldes", "title": "Soldes"},
    )  # fmt: skip
    delivery = make_delivery(post, mastodon)
    content = snapshot(delivery)
    assert links.apply_short_links(content, delivery, enabled=False) is content
    result = links.apply_short_links(content, delivery, enabled=True)
    soldes = ShortLink.objects.get(original_url="https://shop.example/soldes")
    faq = ShortLink.objects.get(original_url="https://shop.example/faq")
    assert result["text"] == f"Soldes {BASE}/l/{soldes.code}"
    assert result["thread"] == [f"Détails : {BASE}/l/{faq.code}"]
    assert result["link_card"] == {"url": f"{BASE}/l/{soldes.code}", "title": "Soldes"}
    assert content["text"] == "Soldes https://shop.example/soldes"  # the input is not changed
    assert soldes.post_id == post.pk and soldes.channel_id == mastodon.pk
    assert query(soldes.target_url)["utm_content"] == [f"post-{post.pk}"]


def test_a_shortened_text_that_would_be_too_long_is_published_as_written(workspace):
    bluesky = make_channel(workspace, "bluesky")
    # Bluesky counts URLs in full: 14 characters become 32 and cross the 300 limit.
    text = "x" * 280 + " https://a.co/x"
    post = Post.objects.create(workspace=workspace, text=text)
    delivery = make_delivery(post, bluesky)
    content = snapshot(delivery)
    assert links.apply_short_links(content, delivery, enabled=True) == content
    assert not ShortLink.objects.exists()  # no link left behind for a text kept as written
    # Short enough: shortened.
    post.text = "Voir https://a.co/x"
    post.save()
    content = snapshot(delivery)
    assert links.apply_short_links(content, delivery, enabled=True)["text"].startswith(
        f"Voir {BASE}/l/"
    )


# Clicks -----------------------------------------------------------------------------------------

BOTS = [
    "Slackbot-LinkExpanding 1.0 (+https://api.slack.com/robots)",
    "Twitterbot/1.0",
    "facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)",
    "LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)",
    "Mozilla/5.0 (compatible; Discordbot/2.0; +https://discordapp.com)",
    "TelegramBot (like TwitterBot)",
    "WhatsApp/2.23.20.0 A",
    "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
    "Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)",
    "Mozilla/5.0 (Macintosh) AppleWebKit/605.1.15 Safari/605.1.15 (Applebot/0.1)",
    "http.rb/5.1.1 (Mastodon/4.2.1; +https://mastodon.social/)",
    "Mozilla/5.0 (compatible; Cardyb/1.1; +mailto:support@bsky.app)",
    "Mozilla/5.0 (compatible; SomeCrawler/3.1)",
    "Mozilla/5.0 (compatible; Spider)",
    "SkypeUriPreview Preview/0.5",
    "curl/8.5.0",
    "Wget/1.21.4",
    "python-requests/2.31.0",
    "Go-http-client/2.0",
    "",
    "   ",
]
PEOPLE = [
    "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/126.0.0.0 Mobile Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mastodon/2024.05 CFNetwork/1494 Darwin/23.4.0",  # the app itself, not its server
]


@pytest.mark.parametrize("user_agent", BOTS)
def test_bots_are_counted_apart(workspace, user_agent):
    link = links.shorten(workspace, "https://shop.example/")
    assert links.record_click(link, user_agent=user_agent) is False
    link.refresh_from_db()
    assert (link.clicks, link.bot_clicks) == (0, 1)
    assert not ShortLinkDay.objects.exists()


@pytest.mark.parametrize("user_agent", PEOPLE)
def test_people_are_counted_per_local_day(workspace, user_agent):
    link = links.shorten(workspace, "https://shop.example/")
    # 23:30 UTC on 1 June is 01:30 on 2 June in Paris, the workspace's zone.
    late = datetime(2025, 6, 1, 23, 30, tzinfo=UTC)
    assert links.record_click(link, user_agent=user_agent, when=late) is True
    links.record_click(link, user_agent=user_agent, when=late + timedelta(minutes=5))
    links.record_click(link, user_agent=user_agent, when=late - timedelta(hours=2))
    link.refresh_from_db()
    assert (link.clicks, link.bot_clicks) == (3, 0)
    days = dict(ShortLinkDay.objects.filter(link=link).values_list("day", "clicks"))
    assert days == {date(2025, 6, 2): 2, date(2025, 6, 1): 1}


def test_the_caller_may_say_it_is_a_bot(workspace):
    link = links.shorten(workspace, "https://shop.example/")
    links.record_click(link, user_agent=PEOPLE[0], bot=True)
    link.refresh_from_db()
    assert (link.clicks, link.bot_clicks) == (0, 1)


@pytest.mark.postgres
@pytest.mark.skipif(
    django_settings.DATABASES["default"]["ENGINE"] != "django.db.backends.postgresql",
    reason="needs PostgreSQL: several connections clicking at once",
)
@pytest.mark.django_db(transaction=True)
def test_concurrent_clicks_are_all_counted(make_workspace):
    workspace = make_workspace()
    link = links.shorten(workspace, "https://shop.example/")
    link = ShortLink.objects.select_related("workspace").get(pk=link.pk)
    threads_count, clicks_each = 8, 25
    barrier = threading.Barrier(threads_count)
    errors = []
    when = datetime(2025, 6, 2, 10, tzinfo=UTC)

    def click(index):
        try:
            barrier.wait()
            for number in range(clicks_each):
                user_agent = PEOPLE[0] if (index + number) % 5 else BOTS[0]
                links.record_click(link, user_agent=user_agent, when=when)
        except Exception as error:  # noqa: BLE001 - reported by the assertion below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=click, args=(index,)) for index in range(threads_count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    expected_bots = sum(
        1 for index in range(threads_count) for n in range(clicks_each) if (index + n) % 5 == 0
    )
    link.refresh_from_db()
    assert link.bot_clicks == expected_bots
    assert link.clicks == threads_count * clicks_each - expected_bots
    assert ShortLinkDay.objects.get(link=link).clicks == link.clicks


# Figures ----------------------------------------------------------------------------------------


def test_stats_of_a_post_per_channel_and_link(workspace, mastodon, post, make_workspace):
    bluesky = make_channel(workspace, "bluesky", "Acme on Bluesky")
    shop = links.shorten(workspace, "https://shop.example/", post=post, channel=mastodon)
    blog = links.shorten(workspace, "https://blog.example/", post=post, channel=mastodon)
    sky = links.shorten(workspace, "https://shop.example/", post=post, channel=bluesky)
    links.shorten(workspace, "https://shop.example/")  # by hand: not the post's
    day_one = datetime(2025, 6, 2, 10, tzinfo=UTC)
    for when, link, agent in [
        (day_one, shop, PEOPLE[0]),
        (day_one + timedelta(days=1), shop, PEOPLE[1]),
        (day_one + timedelta(days=1), shop, PEOPLE[2]),
        (day_one, shop, BOTS[0]),
        (day_one, sky, PEOPLE[0]),
        (day_one, sky, BOTS[1]),
    ]:
        links.record_click(link, user_agent=agent, when=when)

    figures = links.stats(post)
    assert [group.channel for group in figures] == [bluesky, mastodon]
    sky_group, mastodon_group = figures
    assert (sky_group.clicks, sky_group.bot_clicks) == (1, 1)
    assert (mastodon_group.clicks, mastodon_group.bot_clicks) == (3, 1)
    by_link = {item.link.pk: item for item in mastodon_group.links}
    assert set(by_link) == {shop.pk, blog.pk}
    assert by_link[shop.pk].days == [(date(2025, 6, 2), 1), (date(2025, 6, 3), 2)]
    assert (by_link[blog.pk].clicks, by_link[blog.pk].days) == (0, [])
    assert links.stats(Post.objects.create(workspace=workspace, text="Sans lien")) == []
