"""The itgen: section of ape-config.yaml and its environment overrides."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from itgen_chain import config


def test_the_projects_itgen_section_is_read_with_every_field_documented():
    config.settings.cache_clear()
    settings = config.settings()
    assert settings.deployments_folder == Path("deployments")
    assert settings.batch_size == 100 and settings.confirmations == 15
    source = Path(config.__file__).read_text()
    for name in config.ItgenConfig.model_fields:
        field = re.search(rf"^    {name}:.*$", source, re.MULTILINE)
        assert field and '    """' in source[field.end() : field.end() + 400], name


def test_the_environment_overrides_the_file(monkeypatch, tmp_path):
    monkeypatch.setenv("ITGEN_BATCH_SIZE", "40")
    monkeypatch.setenv("ITGEN_DEPLOYMENTS_FOLDER", str(tmp_path / "records"))
    config.settings.cache_clear()
    try:
        settings = config.settings()
        assert settings.batch_size == 40
        assert settings.deployments_folder == tmp_path / "records"
        from itgen_chain import records

        assert records.path_for("bsc", "mainnet", "spring") == (
            tmp_path / "records" / "bsc-mainnet.spring.json"
        )
    finally:
        config.settings.cache_clear()


def test_a_reference_pattern_that_does_not_compile_is_one_line(monkeypatch):
    from ape import config as ape_config

    from itgen_chain.exceptions import ItgenError

    class Section:
        def model_dump(self, **_):
            return {"reference_patterns": {"main": "ua-(\\d"}}

    monkeypatch.setattr(ape_config, "get_config", lambda name: Section())
    config.settings.cache_clear()
    try:
        with pytest.raises(ItgenError, match="reference_patterns.main"):
            config.settings()
    finally:
        config.settings.cache_clear()
