"""The container files say what the README's "Container" section says (issue 23): `make image-test` builds and
runs them for real (scripts/image-test.sh, outside pytest); this checks, quickly and everywhere, that the image pins
every dependency of pyproject.toml, runs as a non-root user with a health check, that compose runs two instances
on PostgreSQL, and that the README's commands use the flags the script uses."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]


def test_the_lock_pins_every_dependency_of_pyproject() -> None:
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    lock = (ROOT / "container" / "requirements.lock").read_text()
    pinned = {m.group(1).lower().replace("_", "-"): m.group(2)
              for m in re.finditer(r"^([A-Za-z0-9_.-]+)==(\S+)", lock, re.M)}
    missing = []
    for dep in deps:
        name, version = re.sub(r"\[.*\]", "", dep).split("==")
        if pinned.get(name.lower().replace("_", "-")) != version:
            missing.append(dep)
    assert not missing, f"container/requirements.lock is stale ({missing}): run `make container/requirements.lock`"
    assert lock.count("--hash=sha256:") >= len(pinned)


def test_the_image_runs_serve_as_a_non_root_user_with_a_health_check() -> None:
    cf = (ROOT / "Containerfile").read_text()
    assert re.search(r"^FROM docker\.io/library/debian:bookworm-slim$", cf, re.M)
    users = re.findall(r"^USER (\S+)$", cf, re.M)
    assert users and users[-1] not in ("root", "0")
    assert "HEALTHCHECK" in cf and "/healthz" in cf
    assert 'CMD ["serve", "--host", "0.0.0.0"]' in cf and "--require-hashes" in cf
    entry = (ROOT / "container" / "entrypoint.sh").read_text()
    assert "PAYBUTTON_DATABASE_URL" in entry and "/proc/self/mountinfo" in entry and "exit 2" in entry


def test_compose_runs_two_instances_on_postgresql() -> None:
    services = yaml.safe_load((ROOT / "compose.yaml").read_text())["services"]
    servers = [s for s in services.values() if "serve" in (s.get("command") or [])]
    assert len(servers) == 2
    for s in servers:
        assert s["environment"]["PAYBUTTON_DATABASE_URL"].startswith("postgresql://")
        assert "--no-migrate" in s["command"] and "migrate" in s["depends_on"]
    assert services["migrate"]["command"] == ["db", "upgrade"] and "postgres" in services["db"]["image"]


def test_the_readme_section_is_what_image_test_runs() -> None:
    readme = (ROOT / "README.md").read_text()
    section = readme.split("### Container", 1)[1].split("\n## ", 1)[0]
    script = (ROOT / "scripts" / "image-test.sh").read_text()
    for flags in ("--pull=never --format docker --secret id=ca,src=/etc/ssl/certs/ca-certificates.crt",
                  "--runtime runc --ulimit nofile=10000:10000 --ulimit nproc=1000:1000",
                  "--network slirp4netns:allow_host_loopback=true", "-p 127.0.0.1::8000", "healthcheck run",
                  "scripts/image-base.sh", "scripts/image_client.py", "podman stop -t 10", "paybutton check",
                  "buyer-token --app", "goods add --app", "app create --name \"image test\" --json"):
        assert flags in section and flags in script, flags
    base = (ROOT / "scripts" / "image-base.sh").read_text()
    assert "debootstrap --variant=minbase" in base and "podman import" in base and "/var/cache/paybutton-image" in base


def _as_docker_reads_it(text: str) -> str:
    """compose.yaml with none of its variables set: each `${NAME:-default}` is its default."""
    return re.sub(r"\$\{[A-Z0-9_]+:-([^}]*)\}", r"\1", text)


def test_compose_keeps_its_defaults_and_compose_test_sets_every_variable() -> None:
    """A Docker user's `docker compose up --build` pulls the official postgres image and publishes 8001 and 8002;
    `make compose-test` swaps in the PostgreSQL it builds (the same major version, on the image's base) and its own
    ports through the file's variables, all of which have a default."""
    raw = (ROOT / "compose.yaml").read_text()
    names = set(re.findall(r"\$\{([A-Za-z0-9_]+)", raw))
    assert names == {"PAYBUTTON_IMAGE", "PAYBUTTON_POSTGRES_IMAGE", "PAYBUTTON_HOST_PORT_1", "PAYBUTTON_HOST_PORT_2"}
    assert "$" not in _as_docker_reads_it(raw), "a variable without a default"
    services = yaml.safe_load(_as_docker_reads_it(raw))["services"]
    assert services["db"]["image"] == "docker.io/library/postgres:15-bookworm"
    assert services["paybutton-1"]["image"] == "localhost/paybutton:latest"
    for n in (1, 2):
        assert services[f"paybutton-{n}"]["ports"] == [f"127.0.0.1:800{n}:8000"]
        assert services[f"paybutton-{n}"]["environment"]["PAYBUTTON_PUBLIC_URL"] == f"http://127.0.0.1:800{n}"
    script = (ROOT / "scripts" / "compose-test.sh").read_text()
    for name in names:
        assert re.search(rf"export [^\n]*\b{name}=", script), name
    pg = (ROOT / "container" / "postgres.Containerfile").read_text()
    assert re.search(r"^FROM docker\.io/library/debian:bookworm-slim$", pg, re.M) and "postgresql-15" in pg
    assert "--pull=never" in script and "container/postgres.Containerfile" in script and "down -v" in script
    lock = (ROOT / "container" / "compose-tools.lock").read_text()
    assert re.search(r"^podman-compose==\S+ \\$", lock, re.M) and "--require-hashes" in script
    section = (ROOT / "README.md").read_text().split("### Container", 1)[1].split("\n## ", 1)[0]
    assert "make compose-test" in section and "PAYBUTTON_POSTGRES_IMAGE" in section
