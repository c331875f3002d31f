"""Any one process of `make run` killed outright under load: customers are answered again,
nothing acknowledged is lost or answered twice, everyone who wrote in
the meantime was told; killing the launcher leaves nothing behind and `make run` starts
again. (bench/faults.py is the longer, louder version of this, and the place the recovery
time is measured against its goal of a minute: a busy CI machine must not fail this test
on speed alone.)"""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest

from stack.settings import PROJECT_ROOT
from tests.e2e.faults import FAULTS, CustomerLoad, ProductRun, inject, verify
from tests.e2e.isolated import isolated_settings

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

# Not the goal (bench/faults.py prints that): the point past which "recovered" is wrong.
RECOVERY_HANG_SECONDS = 240.0


async def test_the_product_recovers_from_any_one_crash_under_load(tmp_path: Path) -> None:
    settings = isolated_settings(tmp_path, PROJECT_ROOT / "var" / "log" / "test-faults")
    settings.log_dir.mkdir(parents=True, exist_ok=True)
    run = ProductRun(settings, settings.log_dir / "make-run.log")
    await asyncio.to_thread(run.start)
    try:
        async with aiohttp.ClientSession() as session:
            load = CustomerLoad(settings.gateway_url, customers=12, interval=4.0)
            await load.start(session)
            await asyncio.sleep(4)
            results = []
            for fault in FAULTS:
                results.append(await inject(fault, run, load))
                await asyncio.sleep(4)
            await load.stop()
            lost, duplicated = await verify(session, load, settings)
    finally:
        await asyncio.to_thread(run.stop)
    for result in results:
        assert result.recovery_seconds is not None, f"{result.fault}: never answered again"
        assert result.recovery_seconds <= RECOVERY_HANG_SECONDS, result
        assert result.silent_customers == 0, result  # everyone who wrote was told
        assert "not ready again before the deadline" not in result.notes, result
    launcher = results[FAULTS.index("launcher")]
    assert launcher.leftover_processes == 0, launcher
    assert not any("ports still taken" in note for note in launcher.notes), launcher
    assert sum(r.sent_during_outage for r in results) > 0  # the faults happened under load
    assert lost == 0
    assert duplicated == 0
