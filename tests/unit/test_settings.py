import pytest

from connectors.common.settings import ConfigError
from connectors.registry import KINDS, parse, settings_for
from deploy.environment import ENV_VARS, Environment
from deploy.secrets import DEVELOPMENT_KEY, SecretError, pseudonym_key

GOOD = {"connector": "case_management", "name": "lcs", "source_url": "sqlite://", "la_code": "999"}


def test_good_config_parses_with_defaults():
    cfg = parse(dict(GOOD)).settings
    assert cfg["batch_size"] == 2000 and cfg["kafka_bootstrap"] == "127.0.0.1:9092"


def test_every_problem_is_reported_at_once_naming_setting_and_value():
    with pytest.raises(ConfigError) as err:
        parse({**GOOD, "la_code": "99", "batch_size": 0, "bogus": 1, "name": None})
    text = str(err.value)
    assert "'la_code' = '99'" in text
    assert "'batch_size' = 0" in text
    assert "unknown setting 'bogus'" in text
    assert "'name' is required" in text
    assert len(err.value.problems) == 4


def test_every_setting_and_env_var_has_a_description():
    assert all(s.description for kind in KINDS for s in settings_for(kind))
    assert all(v.description for v in ENV_VARS)


def test_production_refuses_the_development_key():
    with pytest.raises(SecretError):
        pseudonym_key(Environment({"CHORUS_MODE": "production"}))
    with pytest.raises(SecretError):
        pseudonym_key(
            Environment(
                {"CHORUS_MODE": "production", "CHORUS_PSEUDONYM_KEY": DEVELOPMENT_KEY.decode()}
            )
        )


def test_production_accepts_a_key_from_a_file(tmp_path):
    f = tmp_path / "key"
    f.write_text("s" * 40 + "\n")
    env = Environment({"CHORUS_MODE": "production", "CHORUS_PSEUDONYM_KEY_FILE": str(f)})
    assert pseudonym_key(env) == b"s" * 40


def test_short_key_is_refused():
    with pytest.raises(SecretError):
        pseudonym_key(Environment({"CHORUS_PSEUDONYM_KEY": "short"}))


def test_development_mode_falls_back_to_the_development_key():
    assert pseudonym_key(Environment({})) == DEVELOPMENT_KEY


def test_an_unknown_connector_kind_is_named():
    with pytest.raises(ConfigError) as err:
        parse({**GOOD, "connector": "fax_machine"})
    assert "'connector' = 'fax_machine'" in str(err.value)
    assert "case_management" in str(err.value)


def test_a_connector_over_sasl_ssl_trusts_its_ca_file_from_the_file_or_the_environment(tmp_path):
    from connectors.common.settings import kafka_security_of
    from deploy.commands.connector import overrides

    password = tmp_path / "connector.password"
    password.write_text("synthetic-password\n")
    raw = {
        **GOOD,
        "kafka_username": "chorus-connector-case-management",
        "kafka_password_file": str(password),
        "kafka_security_protocol": "SASL_SSL",
        "kafka_ca_file": "ca-in-file.crt",
    }
    security = kafka_security_of(parse(raw).settings)
    assert security.ca_file == "ca-in-file.crt"
    assert security.kafka_python()["ssl_cafile"] == "ca-in-file.crt"
    assert "synthetic-password" not in repr(security)

    env = Environment({"CHORUS_KAFKA_CA_FILE": "ca-from-env.crt"})
    from_env = kafka_security_of(parse({**raw, **overrides(env)}).settings)
    assert from_env.ca_file == "ca-from-env.crt"
