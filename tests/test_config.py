"""tribu/config.py: every variable is validated, and every problem is reported at once."""

import stat

import pytest
from cryptography.fernet import Fernet

from tribu import config


def load(tmp_path, **variables):
    environ = {"TRIBU_DATA_DIR": str(tmp_path / "data"), **variables}
    return config.load(environ)


def problems(tmp_path, **variables):
    with pytest.raises(config.ConfigurationError) as caught:
        load(tmp_path, **variables)
    return caught.value.problems


def test_defaults_work_out_of_the_box(tmp_path):
    loaded = load(tmp_path)
    assert loaded.data_dir == (tmp_path / "data").resolve()
    assert loaded.debug is False
    assert loaded.database_url is None and not loaded.is_postgres
    assert loaded.base_url == "http://127.0.0.1:8000"
    assert "127.0.0.1" in loaded.allowed_hosts
    assert loaded.email["EMAIL_BACKEND"].endswith("console.EmailBackend")
    assert (loaded.data_dir / "media").is_dir()


def test_secret_files_are_created_private_then_reused(tmp_path):
    first = load(tmp_path)
    data_dir = first.data_dir
    for name in (config.SECRET_KEY_FILE, config.ENCRYPTION_KEYS_FILE):
        assert stat.S_IMODE((data_dir / name).stat().st_mode) == 0o600
    assert sorted(path.name for path in first.generated_files) == sorted(
        [config.SECRET_KEY_FILE, config.ENCRYPTION_KEYS_FILE]
    )
    Fernet(first.encryption_keys[0])  # a usable key
    assert len(first.secret_key) >= 32

    second = load(tmp_path)
    assert second.secret_key == first.secret_key
    assert second.encryption_keys == first.encryption_keys
    assert second.generated_files == []


def test_no_files_are_created_when_asked_not_to(tmp_path):
    environ = {"TRIBU_DATA_DIR": str(tmp_path)}
    config.load(environ, create_files=False)
    assert not (tmp_path / config.SECRET_KEY_FILE).exists()
    assert not (tmp_path / config.ENCRYPTION_KEYS_FILE).exists()


def test_secret_file_readable_by_others_is_a_problem(tmp_path):
    loaded = load(tmp_path)
    (loaded.data_dir / config.SECRET_KEY_FILE).chmod(0o644)
    [problem] = problems(tmp_path)
    assert problem.variable == "TRIBU_SECRET_KEY"
    assert "chmod 600" in problem.fix


def test_environment_keys_win_over_files(tmp_path):
    key = Fernet.generate_key().decode()
    loaded = load(tmp_path, TRIBU_SECRET_KEY="s" * 40, TRIBU_ENCRYPTION_KEYS=f" {key} ,")
    assert loaded.secret_key == "s" * 40
    assert loaded.encryption_keys == [key]
    assert not (loaded.data_dir / config.SECRET_KEY_FILE).exists()
    assert not (loaded.data_dir / config.ENCRYPTION_KEYS_FILE).exists()


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("TRIBU_DEBUG", "maybe"),
        ("TRIBU_TRUST_PROXY", "2"),
        ("TRIBU_SECRET_KEY", "short"),
        ("TRIBU_ENCRYPTION_KEYS", "not-a-fernet-key"),
        ("TRIBU_ENCRYPTION_KEYS", " , "),
        ("DATABASE_URL", "mysql://user@host/db"),
        ("DATABASE_URL", "postgres://user@host"),
        ("TRIBU_BASE_URL", "tribu.example.com"),
        ("TRIBU_BASE_URL", "https://tribu.example.com/app"),
        ("TRIBU_ALLOWED_HOSTS", "https://tribu.example.com"),
        ("TRIBU_ALLOWED_HOSTS", " , "),
        ("TRIBU_EMAIL_URL", "imap://mail.example.com"),
        ("TRIBU_EMAIL_URL", "smtp://mail.example.com:port"),
        ("TRIBU_EMAIL_FROM", "Tribu"),
    ],
)
def test_a_bad_value_names_its_variable_and_a_fix(tmp_path, variable, value):
    [problem] = problems(tmp_path, **{variable: value})
    assert problem.variable == variable
    assert problem.message and problem.fix
    assert variable in config.format_report([problem])


def test_every_problem_is_reported_at_once(tmp_path):
    found = problems(
        tmp_path,
        TRIBU_DEBUG="perhaps",
        TRIBU_BASE_URL="ftp://x",
        TRIBU_EMAIL_FROM="nobody",
        DATABASE_URL="oracle://db",
    )
    assert {problem.variable for problem in found} == {
        "TRIBU_DEBUG",
        "TRIBU_BASE_URL",
        "TRIBU_EMAIL_FROM",
        "DATABASE_URL",
    }
    report = str(config.ConfigurationError(found))
    assert report.startswith("Tribu cannot start: 4 configuration problems.")


def test_encryption_key_equal_to_secret_key_is_refused(tmp_path):
    key = Fernet.generate_key().decode()
    [problem] = problems(tmp_path, TRIBU_SECRET_KEY=key, TRIBU_ENCRYPTION_KEYS=key)
    assert problem.variable == "TRIBU_ENCRYPTION_KEYS"


def test_unwritable_data_dir_is_a_problem(tmp_path):
    if __import__("os").geteuid() == 0:
        pytest.skip("root can write anywhere")
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    found = problems(tmp_path, TRIBU_DATA_DIR=str(locked / "data"))
    assert found[0].variable == "TRIBU_DATA_DIR"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("1", True), ("yes", True), ("ON", True), ("0", False), ("off", False), ("", False)],
)
def test_yes_no_values(tmp_path, value, expected):
    assert load(tmp_path, TRIBU_DEBUG=value).debug is expected


def test_https_base_url_means_secure_settings(tmp_path):
    loaded = load(
        tmp_path, TRIBU_BASE_URL="https://tribu.example.com/", TRIBU_ALLOWED_HOSTS="localhost"
    )
    assert loaded.is_https
    assert loaded.base_url == "https://tribu.example.com"
    # The public host is always accepted, next to the listed ones.
    assert loaded.allowed_hosts == ["localhost", "tribu.example.com"]
    assert not load(tmp_path).is_https


def test_postgres_url_switches_the_database(tmp_path):
    loaded = load(tmp_path, DATABASE_URL="postgresql://tribu:secret@db:5432/tribu")
    assert loaded.is_postgres


def test_smtp_url_becomes_email_settings(tmp_path):
    loaded = load(
        tmp_path, TRIBU_EMAIL_URL="smtp://me%40example.com:p%2Fw@mail.example.com:587?tls=1"
    )
    email = loaded.email
    assert email["EMAIL_BACKEND"].endswith("smtp.EmailBackend")
    assert email["EMAIL_HOST"] == "mail.example.com"
    assert email["EMAIL_PORT"] == 587
    assert email["EMAIL_HOST_USER"] == "me@example.com"
    assert email["EMAIL_HOST_PASSWORD"] == "p/w"
    assert email["EMAIL_USE_TLS"] is True and email["EMAIL_USE_SSL"] is False
    implicit = load(tmp_path, TRIBU_EMAIL_URL="smtps://mail.example.com").email
    assert implicit["EMAIL_PORT"] == 465 and implicit["EMAIL_USE_SSL"] is True


def test_allowed_hosts_accept_ipv6_literals_but_not_ports(tmp_path):
    loaded = load(tmp_path, TRIBU_ALLOWED_HOSTS="tribu.example.com,[::1],.example.org")
    assert loaded.allowed_hosts[:3] == ["tribu.example.com", "[::1]", ".example.org"]
    [problem] = problems(tmp_path, TRIBU_ALLOWED_HOSTS="tribu.example.com:8000")
    assert problem.variable == "TRIBU_ALLOWED_HOSTS"


def test_problems_speak_the_operators_language(tmp_path):
    [french] = problems(tmp_path, TRIBU_DEBUG="peut-être", LANG="fr_FR.UTF-8")
    assert french.variable == "TRIBU_DEBUG"
    assert french.message == "'peut-être' n’est pas une valeur oui/non."
    assert "TRIBU_DEBUG=1" in french.fix and "Définissez" in french.fix

    [english] = problems(tmp_path, TRIBU_DEBUG="perhaps", LANG="C")
    assert english.message == "'perhaps' is not a yes/no value."
    assert english.fix == "Set TRIBU_DEBUG=1 to enable or 0 to disable."


def test_the_report_header_is_translated_with_a_real_plural(tmp_path):
    with pytest.raises(config.ConfigurationError) as caught:
        load(tmp_path, TRIBU_DEBUG="peut-être", LC_ALL="fr_FR.UTF-8", LANG="C")
    report = str(caught.value)
    assert report.startswith("Tribu ne peut pas démarrer\u00a0: 1 problème de configuration.")
    assert "- TRIBU_DEBUG: " in report


def test_the_locale_variables_are_read_in_gettext_order():
    assert config.operator_languages({"LANG": "fr_FR.UTF-8"}) == ["fr"]
    assert config.operator_languages({"LANGUAGE": "en_GB:fr", "LANG": "fr_FR.UTF-8"}) == [
        "en",
        "fr",
    ]
    assert config.operator_languages({"LC_ALL": "C.UTF-8", "LANG": "fr_FR.UTF-8"}) == []
    assert config.operator_languages({}) == []


def test_network_apps_default_to_the_networks_own_addresses_without_credentials(tmp_path):
    apps = load(tmp_path).network_apps
    assert set(apps) == {"linkedin", "meta", "x", "threads"}
    assert apps["linkedin"]["api_url"] == "https://api.linkedin.com"
    assert apps["meta"]["auth_url"] == "https://www.facebook.com"
    assert apps["x"]["client_id"] == "" and apps["x"]["client_secret"] == ""
    assert apps["threads"]["version"] == "v1.0"


def test_network_apps_read_credentials_addresses_and_version(tmp_path):
    apps = load(
        tmp_path,
        TRIBU_LINKEDIN_CLIENT_ID="abc",
        TRIBU_LINKEDIN_CLIENT_SECRET="s3cret",
        TRIBU_LINKEDIN_API_URL="https://proxy.example.com/linkedin/",
        TRIBU_LINKEDIN_API_VERSION="202609",
    ).network_apps
    assert apps["linkedin"] == {
        "client_id": "abc",
        "client_secret": "s3cret",
        "api_url": "https://proxy.example.com/linkedin",
        "auth_url": "https://www.linkedin.com",
        "version": "202609",
    }


def test_half_an_app_or_a_bad_address_is_a_problem(tmp_path):
    found = problems(tmp_path, TRIBU_X_CLIENT_ID="abc", TRIBU_META_API_URL="graph.example")
    variables = {problem.variable for problem in found}
    assert variables == {"TRIBU_X_CLIENT_SECRET", "TRIBU_META_API_URL"}
    assert all(problem.fix for problem in found)
