"""ASSISTANT_LOG_FORMAT: JSON lines by default, text on request, for every program; Rasa
gets it as its --logging-config-file."""

from __future__ import annotations

import io
import json
import logging
import logging.config
from pathlib import Path

import pytest
import yaml

from common.jsonlog import conversation_context
from stack.launcher import StackError, program_specs, rasa_logging_config, stack_files
from stack.settings import Settings
from tests.logging_config import logging_configured


def test_json_is_the_default() -> None:
    assert Settings().log_format == "json"
    assert Settings.from_env({"ASSISTANT_LOG_FORMAT": "text"}).log_format == "text"


def test_rasa_is_given_the_logging_configuration(tmp_path: Path) -> None:
    settings = Settings(run_dir=tmp_path / "run", log_dir=tmp_path / "log")
    files = stack_files(settings)
    argv = program_specs(settings, files)["rasa"].argv
    assert argv[argv.index("--logging-config-file") + 1] == str(files.run_dir / "logging.yml")


@pytest.mark.parametrize("log_format", ["json", "text"])
def test_rasas_configuration_survives_yaml_and_a_lowered_root_level(log_format: str) -> None:
    """Written as YAML, read back, applied: our channel's records still come through
    after a library sets the root logger to WARNING (numpy.distutils does, in Rasa)."""
    config = yaml.safe_load(yaml.safe_dump(rasa_logging_config(Settings(log_format=log_format))))
    stream = io.StringIO()
    config["handlers"]["stack"]["stream"] = stream  # instead of ext://sys.stderr
    with logging_configured(config):
        logging.getLogger().setLevel(logging.WARNING)
        with conversation_context("conv-7"):
            logging.getLogger("bot.gateway_channel").info("handled message conv-7:1")
    line = stream.getvalue().strip()
    if log_format == "json":
        entry = json.loads(line)
        assert (entry["process"], entry["conversation_id"]) == ("rasa", "conv-7")
    else:
        assert line.endswith("INFO bot.gateway_channel [conv-7]: handled message conv-7:1")


def test_an_unknown_format_stops_the_start() -> None:
    with pytest.raises(StackError, match="ASSISTANT_LOG_FORMAT"):
        rasa_logging_config(Settings(log_format="xml"))
