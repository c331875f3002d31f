"""The deployment sample (deploy/) cannot drift from the product unnoticed.

- deploy/compose.yaml is valid against the Compose Specification's JSON schema (the vendored
  copy in deploy/schema/, unmodified), and uses no interpolation, so what is checked is
  what Compose runs;
- every variable it gives the app nodes (their `environment` and the secrets file that
  deploy/make-secrets.sh writes) is one the product reads: an `ASSISTANT_*` variable must
  name a field of stack/settings.py, any other must be read where the table below says;
  and the product's own code accepts the values (Settings, the web edge, Rasa's endpoints);
- the addresses agree: nginx's upstream is exactly every gateway of every app node, the
  nodes trust nginx's address, the URLs name the postgres and redis services with the
  passwords those services get;
- nginx accepts deploy/nginx.conf (`nginx -t`, in private mount and network namespaces, so
  nothing on this machine is touched), with a throwaway certificate.

Nothing here needs Docker or a network.
"""

from __future__ import annotations

import copy
import hashlib
import os
import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import jsonschema_rs  # the validator schemathesis brings (requirements/app.txt)
import pytest
import yaml

from handoff.web.guard import WebGuard
from handoff.web.ops_api import routes
from stack import shared_stores
from stack.launcher import gateway_ports, rasa_endpoints
from stack.settings import PROJECT_ROOT, Settings

DEPLOY = PROJECT_ROOT / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
NGINX_CONF = DEPLOY / "nginx.conf"
DOCKERFILE = DEPLOY / "Dockerfile"
MAKE_SECRETS = DEPLOY / "make-secrets.sh"
SCHEMA = DEPLOY / "schema" / "compose-spec.json"
# check-jsonschema 0.39.0's vendor.compose-spec (deploy/schema/README.md).
SCHEMA_SHA256 = "d549057ebc2925f39f62799eab0db7b9e2c18b35b6c00595199116da3ed10e64"
OUR_IMAGE = "support-assistant:latest"

# Variables the sample gives the app nodes that are not settings, and the file that names
# each (a glob under the project: Rasa's are in its environment, which `make setup` makes).
OTHER_VARIABLES = {
    "DEMO_AGENT_PASSWORD": "stack/launcher.py",
    "DEMO_SUPERVISOR_PASSWORD": "stack/launcher.py",
    "SQL_POOL_SIZE": ".venv/rasa/lib/python3*/site-packages/rasa/core/constants.py",
    "SQL_MAX_OVERFLOW": ".venv/rasa/lib/python3*/site-packages/rasa/core/constants.py",
}

NO_NGINX = (
    "nginx is not installed: scripts/install-system-packages.sh installs it (`make test` runs it)"
)


# -- reading the sample ----------------------------------------------------------------


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    loaded = yaml.safe_load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(loaded, dict)
    return loaded


@pytest.fixture(scope="module")
def secrets_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """What deploy/make-secrets.sh writes, as the compose file expects it (secrets/)."""
    folder = tmp_path_factory.mktemp("deploy") / "secrets"
    subprocess.run([str(MAKE_SECRETS), str(folder)], check=True, capture_output=True, timeout=30)
    return folder


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines, as Compose reads an env_file (no quoting is used in ours)."""
    values = {}
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip() and not line.lstrip().startswith("#"):
            name, sep, value = line.partition("=")
            assert sep, f"{path.name}: {line!r} is not KEY=VALUE"
            values[name.strip()] = value
    return values


def service_env(service: dict[str, Any], secrets: Path) -> dict[str, str]:
    """A service's environment: its env_files (from `secrets`), then `environment`."""
    env: dict[str, str] = {}
    files = service.get("env_file", [])
    for item in [files] if isinstance(files, str | dict) else files:
        path = Path(item["path"] if isinstance(item, dict) else item)
        assert path.parts[0] == "secrets", f"env_file {path} is not one make-secrets.sh writes"
        env.update(read_env_file(secrets / Path(*path.parts[1:])))
    environment = service.get("environment", {})
    if isinstance(environment, list):
        environment = dict(item.split("=", 1) for item in environment)
    env.update({name: str(value) for name, value in environment.items()})
    return env


def app_nodes(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    nodes = {n: s for n, s in compose["services"].items() if s.get("image") == OUR_IMAGE}
    assert len(nodes) >= 2, "the sample shows several app nodes"
    return nodes


def address(service: dict[str, Any]) -> str:
    return str(service["networks"]["backend"]["ipv4_address"])


def upstream_servers(conf: str) -> set[tuple[str, int]]:
    block = re.search(r"upstream\s+gateways\s*\{(.*?)\}", conf, re.S)
    assert block, "nginx.conf has no `upstream gateways`"
    return {
        (host, int(port))
        for host, port in re.findall(r"^\s*server\s+([0-9.]+):([0-9]+)\b", block[1], re.M)
    }


# -- the Compose file --------------------------------------------------------------------


def test_the_schema_is_the_vendored_copy_with_its_licence() -> None:
    assert hashlib.sha256(SCHEMA.read_bytes()).hexdigest() == SCHEMA_SHA256
    assert "Apache License" in (DEPLOY / "schema" / "LICENSE.compose-spec").read_text()


def compose_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema_rs.validator_for(yaml.safe_load(SCHEMA.read_text(encoding="utf-8")))
    return [
        f"{'/'.join(map(str, error.instance_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    assert compose_errors(compose) == []


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        pytest.param(
            lambda c: c["services"]["lb"].update(ports="80:80"), "lb/ports", id="not-a-list"
        ),
        pytest.param(
            lambda c: c["services"]["app-1"].update(enviroment={}), "enviroment", id="typo"
        ),
        pytest.param(
            lambda c: c["services"]["lb"]["depends_on"]["app-1"].update(condition="ready"),
            "lb/depends_on",
            id="unknown-condition",
        ),
    ],
)
def test_the_schema_check_catches_mistakes(
    compose: dict[str, Any], change: Any, expected: str
) -> None:
    broken = copy.deepcopy(compose)
    change(broken)
    errors = compose_errors(broken)
    assert errors and any(expected in error for error in errors), errors


def test_compose_file_uses_no_interpolation() -> None:
    # `$$` is a literal `$` for the container's shell; a lone `$` would be Compose's.
    text = re.sub(r"#.*", "", COMPOSE.read_text(encoding="utf-8"))
    assert "$" not in text.replace("$$", "")


# -- the variables the app nodes get ---------------------------------------------------------


def test_make_secrets_writes_private_files_once(secrets_dir: Path) -> None:
    assert sorted(p.name for p in secrets_dir.iterdir()) == ["app.env", "postgres.env", "redis.env"]
    for path in secrets_dir.iterdir():
        assert path.stat().st_mode & 0o077 == 0, f"{path.name} is readable by others"
    again = subprocess.run([str(MAKE_SECRETS), str(secrets_dir)], capture_output=True, text=True)
    assert again.returncode == 1 and "already exists" in again.stderr


def test_every_variable_of_the_app_nodes_is_read_by_the_product(
    compose: dict[str, Any], secrets_dir: Path
) -> None:
    settings_variables = Settings().to_env()  # ASSISTANT_<FIELD> for every field
    for name, service in app_nodes(compose).items():
        env = service_env(service, secrets_dir)
        for variable, value in env.items():
            if variable.startswith("ASSISTANT_"):
                assert variable in settings_variables, (
                    f"{name}: {variable} is not a setting of stack/settings.py"
                )
                field = variable.removeprefix("ASSISTANT_").lower()
                read = getattr(Settings.from_env({variable: value}), field)
                assert str(read) == value, f"{name}: {variable}={value!r} is read as {read!r}"
            else:
                assert variable in OTHER_VARIABLES, (
                    f"{name}: {variable} is neither a setting nor in OTHER_VARIABLES"
                )
                readers = sorted(PROJECT_ROOT.glob(OTHER_VARIABLES[variable]))
                assert len(readers) == 1, f"no {OTHER_VARIABLES[variable]}: run `make setup`"
                assert f'"{variable}"' in readers[0].read_text(encoding="utf-8"), (
                    f"{readers[0]} no longer names {variable}"
                )


def test_the_product_accepts_the_app_nodes_settings(
    compose: dict[str, Any], secrets_dir: Path
) -> None:
    services = compose["services"]
    postgres_env = service_env(services["postgres"], secrets_dir)
    redis_env = service_env(services["redis"], secrets_dir)
    for name, service in app_nodes(compose).items():
        settings = Settings.from_env(service_env(service, secrets_dir))
        # Several gateways need both shared stores (shared_stores.check says so at start).
        assert settings.gateway_replicas > 1
        database = shared_stores.parse_database_url(settings.database_url)
        redis = shared_stores.parse_redis_url(settings.redis_url)
        assert database is not None and redis is not None
        assert (database.host, database.port) == ("postgres", 5432)
        assert (database.user, database.database) == (
            postgres_env["POSTGRES_USER"],
            postgres_env["POSTGRES_DB"],
        )
        assert database.password == postgres_env["POSTGRES_PASSWORD"]
        assert (redis.host, redis.port, redis.password) == (
            "redis",
            6379,
            redis_env["REDIS_PASSWORD"],
        )
        # Rasa's trackers and locks on them, the passwords from its environment only.
        endpoints = rasa_endpoints(settings)
        assert endpoints["tracker_store"]["dialect"] == "postgresql"
        assert endpoints["lock_store"]["type"] == "redis"
        assert database.password not in yaml.safe_dump(endpoints)
        # The web edge takes the origins and trusts exactly the load balancer.
        guard = WebGuard(settings)
        assert {str(ip) for ip in guard.trusted_proxies} == {address(services["lb"])}, name
        # The unanswered questions of every node go to the one shared volume.
        mounts = {m.split(":")[1] for m in service["volumes"]}
        assert str(settings.unanswered_path.parent) in mounts


def test_app_node_health_check_asks_the_gateways_readiness(compose: dict[str, Any]) -> None:
    assert "/readyz" in {getattr(route, "path", "") for route in routes}
    for service in app_nodes(compose).values():
        kind, program, flag, code = service["healthcheck"]["test"]
        assert (kind, program, flag) == ("CMD", ".venv/app/bin/python", "-c")
        assert "/readyz" in code
        compile(code, "healthcheck", "exec")


def test_the_image_is_made_and_started_as_on_any_machine() -> None:
    """The Dockerfile is not built here: its make targets and command must exist."""
    dockerfile = DOCKERFILE.read_text(encoding="utf-8")
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    targets = [t for line in re.findall(r"^RUN make (.+)$", dockerfile, re.M) for t in line.split()]
    assert targets
    for target in targets:
        assert re.search(rf"^{re.escape(target)}:", makefile, re.M), f"no make target {target}"
    assert 'CMD [".venv/app/bin/python", "-m", "stack", "run"]' in dockerfile
    assert '["run"]' in (PROJECT_ROOT / "stack" / "__main__.py").read_text(encoding="utf-8")


# -- the load balancer ------------------------------------------------------------------------


def test_the_load_balancer_reaches_every_gateway_and_nothing_else(
    compose: dict[str, Any], secrets_dir: Path
) -> None:
    expected = {
        (address(service), port)
        for service in app_nodes(compose).values()
        for port in gateway_ports(Settings.from_env(service_env(service, secrets_dir)))
    }
    assert upstream_servers(NGINX_CONF.read_text(encoding="utf-8")) == expected


def test_the_load_balancer_passes_what_the_gateway_needs() -> None:
    conf = NGINX_CONF.read_text(encoding="utf-8")
    for directive in (
        "proxy_set_header Upgrade $http_upgrade;",  # websockets
        "proxy_set_header Connection $connection_upgrade;",
        "proxy_set_header Host $http_host;",  # the Origin check compares with it
        "proxy_set_header X-Forwarded-For $remote_addr;",  # per-address limits
        "proxy_http_version 1.1;",
    ):
        assert directive in conf
    directives = re.sub(r"#.*", "", conf)
    assert not re.search(r"^\s*(ip_hash|hash|sticky)\b", directives, re.M), "no stickiness needed"


def nginx_binary() -> str:
    found = shutil.which("nginx") or (
        "/usr/sbin/nginx" if Path("/usr/sbin/nginx").exists() else None
    )
    if found is None:
        pytest.fail(NO_NGINX)
    return found


def nginx_test(folder: Path) -> subprocess.CompletedProcess[str]:
    """`nginx -t` on folder/nginx.conf in private mount and network namespaces: the test
    binds the listen ports (80, 443) in a network of its own, and creates its temporary
    folders (absolute paths built into nginx: /var/lib/nginx/* on Debian) in folder/,
    mounted over theirs, so nothing of this machine's nginx is touched."""
    nginx = nginx_binary()
    unshare = shutil.which("unshare")
    assert unshare, "unshare (util-linux) is missing"
    built = subprocess.run([nginx, "-V"], capture_output=True, text=True, check=True).stderr
    temp_parents = sorted(
        {Path(p).parent for p in re.findall(r"--http-[a-z]+-temp-path=(\S+)", built)}
    )
    steps = []
    for number, parent in enumerate(p for p in temp_parents if p.is_dir()):
        own = folder / f"temp-{number}"
        own.mkdir()
        steps.append(f"mount --bind {shlex.quote(str(own))} {shlex.quote(str(parent))}")
    root = shlex.quote(str(folder))
    # `user root`: workers are never started; as root of a user namespace this is us.
    directives = shlex.quote(f"pid {folder}/nginx.pid; user root;")
    steps.append(
        f"exec {shlex.quote(nginx)} -t -p {root} -c {root}/nginx.conf -e {root}/error.log "
        f"-g {directives}"
    )
    as_root = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    return subprocess.run(
        [unshare, *as_root, "--mount", "--net", "sh", "-c", " && ".join(steps)],
        capture_output=True,
        text=True,
        timeout=60,
    )


@pytest.fixture
def nginx_folder(tmp_path: Path) -> Path:
    """deploy/nginx.conf as it is, beside a throwaway certificate in tls/ (the names it uses)."""
    shutil.copy(NGINX_CONF, tmp_path / "nginx.conf")
    (tmp_path / "tls").mkdir()
    openssl = shutil.which("openssl")
    assert openssl, "openssl is missing: scripts/install-system-packages.sh installs it"
    subprocess.run(
        [
            openssl,
            *("req", "-x509", "-nodes", "-days", "1", "-subj", "/CN=localhost"),
            *("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"),
            *("-keyout", str(tmp_path / "tls" / "privkey.pem")),
            *("-out", str(tmp_path / "tls" / "fullchain.pem")),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return tmp_path


def test_nginx_accepts_the_load_balancer_configuration(nginx_folder: Path) -> None:
    result = nginx_test(nginx_folder)
    log = (nginx_folder / "error.log").read_text() if (nginx_folder / "error.log").exists() else ""
    assert result.returncode == 0, result.stdout + result.stderr + log
    assert "test is successful" in result.stderr


def test_nginx_check_catches_mistakes(nginx_folder: Path) -> None:
    conf = nginx_folder / "nginx.conf"
    conf.write_text(conf.read_text().replace("least_conn;", "least_conn_typo;"))
    result = nginx_test(nginx_folder)
    assert result.returncode != 0
    assert 'unknown directive "least_conn_typo"' in result.stderr
